//! Drawing a `Chart` on any plotters backend.

use std::error::Error;
use std::sync::Once;

use plotters::chart::{ChartContext, MeshStyle};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Bars, Body, Chart};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Line colours, in order (Tableau 10's first six).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The bars' fill: the first line colour, lighter.
pub const BAR: RGBColor = RGBColor(100, 160, 210);

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static FONT_ONCE: Once = Once::new();

/// plotters looks fonts up when a text style is made, so this runs before any chart.
fn fonts() {
    FONT_ONCE.call_once(|| {
        let registered =
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
        assert!(registered, "the built-in DejaVu Sans is a font");
    });
}

pub fn png(chart: &Chart, w: u32, h: u32) -> Result<Vec<u8>> {
    fonts();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, chart)?;
        root.present()?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

pub fn svg(chart: &Chart, w: u32, h: u32) -> Result<String> {
    fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root, chart)?;
        root.present()?;
    }
    Ok(svg)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let area = root.titled(&chart.title, ("sans-serif", 24))?;
    match &chart.body {
        Body::LinesOverBars { lines, bars } => {
            let (_, h) = area.dim_in_pixel();
            let (top, bottom) = area.split_vertically(h * 2 / 3);
            body(&top, lines, "", &chart.y_label)?;
            draw_bars(&bottom, bars, &chart.x_label, "rows")
        }
        b => body(&area, b, &chart.x_label, &chart.y_label),
    }
}

type Plane<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart over `x` × `y` on `area`, `y_labels` pixels left for the y axis' labels.
fn plane<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_labels: u32,
) -> Result<Plane<'a, DB>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(x, y)?)
}

/// The axes' names and the one text style of every chart.
fn labelled<'m, 'a, 'b, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB>,
    x_label: &str,
    y_label: &str,
) -> &'m mut MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    mesh.x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
}

fn body<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    body: &Body,
    x_label: &str,
    y_label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    match body {
        Body::Lines {
            curves,
            x,
            y,
            diagonal,
        } => draw_lines(area, curves, *x, *y, *diagonal, x_label, y_label),
        Body::Bars(bars) => draw_bars(area, bars, x_label, y_label),
        Body::Grid { rows, cols, cells } => draw_grid(area, rows, cols, cells, x_label, y_label),
        Body::LinesOverBars { .. } => Err("a combined chart inside another".into()),
    }
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &[crate::Curve],
    x: (f64, f64),
    y: (f64, f64),
    diagonal: bool,
    x_label: &str,
    y_label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut chart = plane(area, x.0..x.1, y.0..y.1, 56)?;
    labelled(&mut chart.configure_mesh(), x_label, y_label).draw()?;
    if diagonal {
        chart.draw_series(LineSeries::new(
            [(x.0.max(y.0), x.0.max(y.0)), (x.1.min(y.1), x.1.min(y.1))],
            RGBColor(160, 160, 160).stroke_width(1),
        ))?;
    }
    for (i, curve) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                curve
                    .points
                    .iter()
                    .copied()
                    .filter(|(a, b)| a.is_finite() && b.is_finite()),
                color.stroke_width(2),
            ))?
            .label(curve.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if !curves.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bars: &Bars,
    x_label: &str,
    y_label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let top = bars.values.iter().copied().fold(0f64, f64::max).max(1.0) * 1.08;
    // Opaque, so a bar is one colour whatever grid lies under it.
    let fill = BAR.filled();
    if bars.categories.is_empty() {
        let lo = bars.edges.first().copied().unwrap_or(0.0);
        let hi = bars.edges.last().copied().unwrap_or(1.0);
        let mut chart = plane(area, lo..hi, 0f64..top, 56)?;
        labelled(chart.configure_mesh().disable_x_mesh(), x_label, y_label).draw()?;
        chart.draw_series(
            bars.edges
                .windows(2)
                .zip(&bars.values)
                .map(|(e, &v)| Rectangle::new([(e[0], 0.0), (e[1], v)], fill)),
        )?;
    } else {
        let n = bars.categories.len();
        let names = bars.categories.clone();
        let mut chart = plane(area, 0f64..n as f64, 0f64..top, 56)?;
        let name_at = |v: &f64| {
            // Names sit at the bars' centres (k + 0.5).
            let k = v - 0.5;
            if k >= 0.0 && k.fract().abs() < 1e-9 {
                names.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        labelled(
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.clamp(1, 30) * 2 + 1)
                .x_label_formatter(&name_at),
            x_label,
            y_label,
        )
        .draw()?;
        chart.draw_series(
            bars.values
                .iter()
                .enumerate()
                .map(|(k, &v)| Rectangle::new([(k as f64 + 0.1, 0.0), (k as f64 + 0.9, v)], fill)),
        )?;
    }
    Ok(())
}

/// Light to dark blue.
fn shade(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
}

fn draw_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[String],
    cols: &[String],
    cells: &[Vec<f64>],
    x_label: &str,
    y_label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (nr, nc) = (rows.len().max(1), cols.len().max(1));
    let top = cells
        .iter()
        .flatten()
        .copied()
        .fold(0f64, f64::max)
        .max(1e-12);
    let (rows_owned, cols_owned) = (rows.to_vec(), cols.to_vec());
    let mut chart = plane(area, 0f64..nc as f64, 0f64..nr as f64, 90)?;
    let at = |v: f64, names: &[String], flip: bool| -> String {
        let k = v - 0.5;
        if k >= 0.0 && k.fract().abs() < 1e-9 {
            let k = k as usize;
            let k = if flip {
                names.len().wrapping_sub(1 + k)
            } else {
                k
            };
            names.get(k).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let (col_at, row_at) = (
        |v: &f64| at(*v, &cols_owned, false),
        |v: &f64| at(*v, &rows_owned, true),
    );
    labelled(
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc * 2 + 1)
            .y_labels(nr * 2 + 1)
            .x_label_formatter(&col_at)
            .y_label_formatter(&row_at),
        x_label,
        y_label,
    )
    .draw()?;
    let placed: Vec<(f64, f64, f64)> = cells
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(move |(c, &v)| (c as f64, (nr - 1 - r) as f64, v))
        })
        .collect();
    chart.draw_series(
        placed.iter().map(|&(x, y, v)| {
            Rectangle::new([(x, y), (x + 1.0, y + 1.0)], shade(v / top).filled())
        }),
    )?;
    let size = (22.0 - (nr.max(nc) as f64)).clamp(9.0, 18.0);
    chart.draw_series(placed.iter().map(|&(x, y, v)| {
        let ink = if v / top > 0.55 { WHITE } else { BLACK };
        let text = if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        };
        Text::new(
            text,
            (x + 0.5, y + 0.5),
            ("sans-serif", size)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )
    }))?;
    Ok(())
}

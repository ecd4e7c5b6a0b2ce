//! The charts of `--plot DIR`: each one drawn once by plotters and written twice, as a PNG
//! (plotters' bitmap backend into memory, encoded by the `png` crate) and as an SVG. Text is
//! set in DejaVu Sans, built into the binary (`fonts/`), so no system font is looked up.
//!
//! A chart is plain data (`Chart`): curves, bars, or a grid of cells. The commands build
//! them from their results; this crate knows nothing of models or metrics.

mod draw;

use std::path::{Path, PathBuf};

pub use draw::{BAR, PALETTE};

/// Pixels of every chart.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 600;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {name}: {message}")]
    Draw { name: String, message: String },
}

/// A named line through points.
#[derive(Debug, Clone)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Bars: one per category (`categories`), or a histogram's bins between `edges`
/// (`edges.len() == values.len() + 1`, `categories` empty).
#[derive(Debug, Clone)]
pub struct Bars {
    pub categories: Vec<String>,
    pub edges: Vec<f64>,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Curves over x and y in [lo, hi]; `diagonal` draws the y = x reference.
    Lines {
        curves: Vec<Curve>,
        x: (f64, f64),
        y: (f64, f64),
        diagonal: bool,
    },
    Bars(Bars),
    /// `cells[row][col]`, rows top to bottom, each cell written with its value.
    Grid {
        rows: Vec<String>,
        cols: Vec<String>,
        cells: Vec<Vec<f64>>,
    },
    /// A curve chart above a histogram of the same x (a calibration curve and its scores).
    LinesOverBars {
        lines: Box<Body>,
        bars: Bars,
    },
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// The file name, without extension.
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub body: Body,
}

/// Writes `chart` as `dir/NAME.png` and `dir/NAME.svg`; returns both paths.
pub fn write(dir: &Path, chart: &Chart) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let failed = |e: Box<dyn std::error::Error>| PlotError::Draw {
        name: chart.name.clone(),
        message: e.to_string(),
    };
    let png = draw::png(chart, WIDTH, HEIGHT).map_err(failed)?;
    let svg = draw::svg(chart, WIDTH, HEIGHT).map_err(failed)?;
    let mut written = Vec::new();
    for (ext, bytes) in [("png", png), ("svg", svg.into_bytes())] {
        let path = dir.join(format!("{}.{ext}", chart.name));
        std::fs::write(&path, bytes).map_err(|source| PlotError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `(lo, hi)` of the finite values, widened when empty or flat.
pub fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo < hi {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 0.5, lo + 0.5)
    } else {
        (0.0, 1.0)
    }
}

/// A histogram of `values` in `bins` equal bins over their extent.
pub fn histogram(values: &[f64], bins: usize) -> Bars {
    let (lo, hi) = extent(values.iter().copied());
    histogram_over(values, lo, hi, bins)
}

/// A histogram of `values` in `bins` equal bins over `[lo, hi]` (values outside counted in
/// the end bins).
pub fn histogram_over(values: &[f64], lo: f64, hi: f64, bins: usize) -> Bars {
    weighted_histogram(values.iter().map(|&v| (v, 1.0)), lo, hi, bins)
}

/// A histogram of `(value, weight)` pairs (values with their counts) over `[lo, hi]`.
pub fn weighted_histogram(
    values: impl Iterator<Item = (f64, f64)>,
    lo: f64,
    hi: f64,
    bins: usize,
) -> Bars {
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0f64; bins];
    for (v, w) in values.filter(|(v, _)| v.is_finite()) {
        counts[(((v - lo) / width).max(0.0) as usize).min(bins - 1)] += w;
    }
    Bars {
        categories: Vec::new(),
        edges: (0..=bins).map(|i| lo + i as f64 * width).collect(),
        values: counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG decodes to the chart's size, and is mostly white with real ink (not blank);
    /// the SVG is a document with the title in it.
    #[test]
    fn writes_a_png_and_an_svg_that_are_not_blank() {
        let dir = std::env::temp_dir().join(format!("pick-plot-{}", std::process::id()));
        let chart = Chart {
            name: "roc".into(),
            title: "ROC".into(),
            x_label: "false positive rate".into(),
            y_label: "true positive rate".into(),
            body: Body::Lines {
                curves: vec![Curve {
                    name: "pos".into(),
                    points: vec![(0.0, 0.0), (0.1, 0.7), (0.4, 0.9), (1.0, 1.0)],
                }],
                x: (0.0, 1.0),
                y: (0.0, 1.0),
                diagonal: true,
            },
        };
        let paths = write(&dir, &chart).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&paths[0]).unwrap(),
        ));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let pixels = &buf[..info.buffer_size()];
        let white = pixels.chunks(3).filter(|p| p == &[255, 255, 255]).count();
        let total = pixels.len() / 3;
        assert!(
            white > total / 2 && white < total * 99 / 100,
            "{white} of {total}"
        );
        let svg = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("\nROC\n</text>"),
            "{}",
            &svg[..200]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn histograms_count_every_finite_value() {
        let h = histogram(&[0.0, 0.1, 0.5, 1.0, f64::NAN], 4);
        assert_eq!(h.values, vec![2.0, 0.0, 1.0, 1.0]);
        assert_eq!(h.edges.len(), 5);
    }
}

//! `pick eval-calibration`: how well a scalar prediction orders and calibrates against
//! ordinal gold labels (bonepick §6.2).

use std::path::PathBuf;

use clap::Args;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use pick_engine::Result;
use pick_engine::pipelines::calibration::{CalibrationReport, EvalCalibrationParams, eval};
use pick_engine::units::thousands;

use crate::args::{Globals, ReadArgs};
use crate::output::Out;

#[derive(Debug, Args)]
pub struct EvalCalibrationArgs {
    /// Dataset with predictions and gold labels; repeat for several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// jq expression for the prediction (a number, expected in [0, 1]).
    #[arg(short = 'p', long = "prediction-expression", value_name = "JQ")]
    pub prediction: String,

    /// jq expression for the gold label (ordinal: numbers or sortable strings).
    #[arg(short = 'l', long = "label-expression", value_name = "JQ")]
    pub label: String,

    /// Write the results as YAML here.
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[arg(value_parser = crate::flags::py_int::<usize>, long = "num-calibration-bins", default_value_t = 10, value_name = "N")]
    pub bins: usize,

    /// Threads (0 = all cores).
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Show the calibration table (default).
    #[arg(long = "show-calibration", overrides_with = "no_calibration")]
    pub show_calibration: bool,
    #[arg(long = "no-calibration")]
    pub no_calibration: bool,

    /// Show the per-class prediction bars (default).
    #[arg(long = "show-histogram", overrides_with = "no_histogram")]
    pub show_histogram: bool,
    #[arg(long = "no-histogram")]
    pub no_histogram: bool,

    /// Draw the calibration curve over a histogram of the predictions into DIR (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,
}

pub async fn run(args: EvalCalibrationArgs, g: Globals) -> Result<()> {
    let params = EvalCalibrationParams {
        datasets: args.datasets,
        prediction: args.prediction,
        label: args.label,
        output: args.output,
        bins: args.bins,
        partitions: args.num_proc,
        read: args.read.options(),
        plot: args.plot,
    };
    let report = eval(&params, &g.observer(false)).await?;
    print(&report, !args.no_histogram, !args.no_calibration)?;
    if let (Some(out), false) = (&params.output, g.quiet) {
        eprintln!("results written to {}", out.display());
    }
    if !g.quiet {
        crate::output::plots_written(&report.plots);
    }
    Ok(())
}

/// The report as bonepick prints it: overall figures, per-class table, bars, calibration.
fn print(r: &CalibrationReport, show_histogram: bool, show_calibration: bool) -> Result<()> {
    let out = Out;
    let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
    let corr = |c: Option<(f64, Option<f64>)>| match c {
        Some((r, Some(p))) => format!("{r:.4} (p={p:.2e})"),
        Some((r, None)) => format!("{r:.4}"),
        None => "n/a".into(),
    };
    out.line("Overall Metrics")?;
    out.line(format!(
        "  Samples: {}   Classes: {}",
        thousands(r.total as i64),
        r.unique.len()
    ))?;
    for (name, v) in [
        ("Macro AUC", r.macro_auc),
        ("Weighted AUC", r.weighted_auc),
        ("Ordinal AUC", r.ordinal_auc),
    ] {
        if v.is_some() {
            out.line(format!("  {name}: {}", opt(v)))?;
        }
    }
    out.line(format!("  Spearman: {}", corr(r.spearman)))?;
    out.line(format!("  Kendall tau-b: {}", corr(r.kendall)))?;
    out.line(format!("  Pearson: {}", corr(r.pearson)))?;
    out.line(format!(
        "  MSE: {:.4}   RMSE: {:.4}   MAE: {:.4}   R²: {:.4}",
        r.mse, r.rmse, r.mae, r.r2
    ))?;
    out.line(format!("  ECE: {:.4}\n", r.ece))?;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Label", "Count", "Mean", "Std", "Min", "Max", "Median",
    ]);
    for (l, n, m, s, lo, hi, med) in &r.per_class {
        t.add_row(vec![
            l.clone(),
            thousands(*n as i64),
            format!("{m:.4}"),
            format!("{s:.4}"),
            format!("{lo:.4}"),
            format!("{hi:.4}"),
            format!("{med:.4}"),
        ]);
    }
    for i in 1..7 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.line(format!("Per-Class Prediction Statistics\n{t}\n"))?;
    if show_histogram {
        out.line("Prediction Distribution by Class")?;
        for (l, _, m, s, ..) in &r.per_class {
            let mut cells = [' '; 51];
            let lo = (((m - s) * 50.0) as i64).clamp(0, 50) as usize;
            let hi = (((m + s) * 50.0) as i64).clamp(0, 50) as usize;
            for c in cells.iter_mut().take(hi + 1).skip(lo) {
                *c = '-';
            }
            cells[((m * 50.0) as i64).clamp(0, 50) as usize] = '|';
            out.line(format!(
                "  {l:>12} 0[{}]1",
                cells.iter().collect::<String>()
            ))?;
        }
        out.line("")?;
    }
    if show_calibration {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "Bin",
            "Count",
            "Mean pred",
            "Mean label",
            "Error",
            "",
        ]);
        for b in &r.bins {
            let mut strip = [' '; 21];
            let at = |v: f64| ((v * 20.0) as i64).clamp(0, 20) as usize;
            let (p, l) = (at(b.mean_prediction), at(b.mean_label));
            for c in strip.iter_mut().take(p.max(l) + 1).skip(p.min(l)) {
                *c = '=';
            }
            strip[l] = 'L';
            strip[p] = if p == l { '=' } else { 'P' };
            t.add_row(vec![
                format!("[{:.2}, {:.2})", b.start, b.end),
                thousands(b.count as i64),
                format!("{:.4}", b.mean_prediction),
                format!("{:.4}", b.mean_label),
                format!("{:.4}", (b.mean_prediction - b.mean_label).abs()),
                strip.iter().collect(),
            ]);
        }
        out.line(format!("Calibration (ECE {:.4})\n{t}", r.ece))?;
    }
    Ok(())
}

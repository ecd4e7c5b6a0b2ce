//! `pick annotation-agreement`: how far annotation runs of the same documents agree, for each
//! consecutive pair of datasets (bonepick §6.5).

use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use pick_engine::Result;
use pick_engine::pipelines::agreement::{AgreementParams, run as agreement};
use pick_metrics::agreement::{interpret_kappa, label_order};

use crate::args::{Globals, ReadArgs};
use crate::output::Out;

#[derive(Debug, Args)]
pub struct AgreementArgs {
    /// Annotation datasets (at least two), compared in order: 1↔2, 2↔3, ...
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", num_args = 1)]
    pub datasets: Vec<String>,

    /// bonepick's spelling of the first dataset (compared before any `-d`).
    #[arg(long = "dataset1", value_name = "DIR")]
    pub dataset1: Option<String>,

    /// bonepick's spelling of the second dataset.
    #[arg(long = "dataset2", value_name = "DIR")]
    pub dataset2: Option<String>,

    /// jq expression for the label: one for all datasets, or one per dataset.
    #[arg(
        short = 'l',
        long = "label-expression",
        value_name = "EXPR",
        required = true
    )]
    pub labels: Vec<String>,

    /// jq expression for the key that matches rows across datasets: one, or one per dataset.
    #[arg(
        short = 'k',
        long = "key-expression",
        value_name = "EXPR",
        required = true
    )]
    pub keys: Vec<String>,

    /// Show the confusion matrix (when there are at most 20 labels).
    #[arg(long = "show-confusion-matrix", overrides_with = "no_confusion_matrix")]
    pub show_confusion_matrix: bool,
    #[arg(long = "no-confusion-matrix", hide = true)]
    pub no_confusion_matrix: bool,

    /// List disagreeing keys.
    #[arg(long = "show-disagreements", overrides_with = "no_disagreements")]
    pub show_disagreements: bool,
    #[arg(long = "no-disagreements", hide = true)]
    pub no_disagreements: bool,

    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 10)]
    pub max_disagreements: usize,

    /// Labels are ordered numbers: add weighted κ, MAE, RMSE, Pearson and the differences.
    #[arg(long, overrides_with = "no_ordinal")]
    pub ordinal: bool,
    #[arg(long = "no-ordinal", hide = true)]
    pub no_ordinal: bool,

    /// Print the results as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Draw each pair's confusion heatmap (and, --ordinal, the differences' histogram) into
    /// DIR (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,
}

pub async fn run(args: AgreementArgs, g: Globals) -> Result<()> {
    let datasets: Vec<String> = [&args.dataset1, &args.dataset2]
        .into_iter()
        .flatten()
        .chain(&args.datasets)
        .cloned()
        .collect();
    let params = AgreementParams {
        datasets: datasets.clone(),
        labels: args.labels.clone(),
        keys: args.keys.clone(),
        ordinal: args.ordinal,
        show_disagreements: args.show_disagreements,
        max_disagreements: args.max_disagreements,
        read: args.read.options(),
        plot: args.plot.clone(),
    };
    let reports = agreement(&params, &g.observer(false)).await?;
    if args.json {
        return Out.line(pick_compat::json::to_string_pretty(&reports));
    }
    for r in &reports {
        print_report(r, &args)?;
    }
    if !g.quiet {
        let plots: Vec<std::path::PathBuf> = reports
            .iter()
            .flat_map(|r| r["plots"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.as_str().map(std::path::PathBuf::from))
            .collect();
        crate::output::plots_written(&plots);
    }
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied());
    t
}

fn print_report(r: &serde_json::Value, args: &AgreementArgs) -> Result<()> {
    let out = Out;
    let (a, b) = (
        r["dataset_a"].as_str().unwrap_or(""),
        r["dataset_b"].as_str().unwrap_or(""),
    );
    out.line(format!("\nAgreement: {a} vs {b}"))?;
    let c = &r["coverage"];
    let mut t = table(&["", "samples"]);
    for (name, key) in [
        (a, "a"),
        (b, "b"),
        ("common keys", "common"),
        ("only in first", "only_a"),
        ("only in second", "only_b"),
    ] {
        t.add_row(vec![name.to_string(), c[key].to_string()]);
    }
    out.line(format!("{t}"))?;
    if c["common"].as_u64() == Some(0) {
        out.line(format!("No common keys between {a} and {b}."))?;
        return Ok(());
    }
    let kappa = r["cohen_kappa"].as_f64();
    out.line(format!(
        "Agreement Rate: {:.2}%",
        100.0 * r["agreement_rate"].as_f64().unwrap_or(0.0)
    ))?;
    match kappa {
        Some(k) => out.line(format!("Cohen's Kappa: {k:.4} ({})", interpret_kappa(k)))?,
        None => out.line("Cohen's Kappa: undefined (a single label)")?,
    }
    out.line(format!(
        "Agreements: {}  Disagreements: {}",
        r["agreements"], r["disagreements"]
    ))?;

    let labels: Vec<&str> = r["labels"]
        .as_array()
        .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let total = c["common"].as_f64().unwrap_or(1.0);
    let mut t = table(&["label", a, "%", b, "%"]);
    let mut sorted = labels.clone();
    sorted.sort_by(|x, y| label_order(x, y));
    for l in &sorted {
        let ca = r["label_distribution"]["a"][l].as_u64().unwrap_or(0);
        let cb = r["label_distribution"]["b"][l].as_u64().unwrap_or(0);
        t.add_row(vec![
            l.to_string(),
            ca.to_string(),
            format!("{:.1}", 100.0 * ca as f64 / total),
            cb.to_string(),
            format!("{:.1}", 100.0 * cb as f64 / total),
        ]);
    }
    out.line(format!("Label distribution (common keys)\n{t}"))?;

    if !args.no_confusion_matrix {
        if labels.len() <= 20 {
            let mut header = vec![format!("{a} \\ {b}")];
            header.extend(labels.iter().map(|l| l.to_string()));
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(header);
            for (i, l) in labels.iter().enumerate() {
                let mut row = vec![l.to_string()];
                row.extend(
                    r["confusion_matrix"][i]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| v.to_string()),
                );
                t.add_row(row);
            }
            out.line(format!("Confusion matrix (rows: {a}, columns: {b})\n{t}"))?;
        } else {
            out.line(format!(
                "Skipping the confusion matrix: {} labels (more than 20)",
                labels.len()
            ))?;
        }
    }
    if let Some(o) = r.get("ordinal") {
        let wk = o["weighted_kappa_quadratic"].as_f64();
        out.line(format!(
            "Weighted Kappa (quadratic): {}\nMAE: {:.4}  RMSE: {:.4}  Pearson: {}",
            wk.map_or("undefined".to_string(), |k| format!(
                "{k:.4} ({})",
                interpret_kappa(k)
            )),
            o["mae"].as_f64().unwrap_or(0.0),
            o["rmse"].as_f64().unwrap_or(0.0),
            o["pearson"]
                .as_f64()
                .map_or("undefined (a constant label)".to_string(), |p| format!(
                    "{p:.4}"
                ))
        ))?;
        let diffs = o["differences"].as_array().cloned().unwrap_or_default();
        let max = diffs
            .iter()
            .filter_map(|d| d["count"].as_u64())
            .max()
            .unwrap_or(1);
        let mut t = table(&["B - A", "count", "%", ""]);
        for d in &diffs {
            let v = d["b_minus_a"].as_f64().unwrap_or(0.0);
            let count = d["count"].as_u64().unwrap_or(0);
            let label = if v.fract() == 0.0 {
                format!("{v:+.0}")
            } else {
                format!("{v:+.1}")
            };
            t.add_row(vec![
                label,
                count.to_string(),
                format!("{:.1}", 100.0 * count as f64 / total),
                "█".repeat((count * 60 / max) as usize),
            ]);
        }
        out.line(format!("Differences\n{t}"))?;
    }
    if let Some(ex) = r["disagreement_examples"].as_array() {
        let mut t = table(&["key", a, b]);
        for e in ex {
            t.add_row(vec![
                e["key"].as_str().unwrap_or(""),
                e["a"].as_str().unwrap_or(""),
                e["b"].as_str().unwrap_or(""),
            ]);
        }
        out.line(format!("Disagreements\n{t}"))?;
        let more = r["disagreements"]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(ex.len() as u64);
        if more > 0 {
            out.line(format!("... and {more} more disagreements"))?;
        }
    }
    Ok(())
}

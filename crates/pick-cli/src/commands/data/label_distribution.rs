//! `pick label-distribution`: how labels (and optionally key lengths) are distributed in a
//! dataset (bonepick §6.6).

use std::collections::BTreeMap;

use clap::{Args, ValueEnum};
use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{CellAlignment, Table};
use pick_engine::Result;
use pick_engine::pipelines::label_distribution::{
    LabelDistributionParams, LabelType as Kind, Labels, run as label_distribution,
};
use pick_engine::units::thousands;
use pick_metrics::distribution::{length_boundaries, mean_std, median, percentile};

use crate::args::{ClusterArgs, CommonArgs, Globals};
use crate::output::Out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LabelType {
    /// Integers, listed in order.
    Ordinal,
    /// Real numbers: statistics and a 10-bucket histogram.
    Value,
    /// Strings, listed by count.
    Text,
}

#[derive(Debug, Args)]
pub struct LabelDistributionArgs {
    /// Dataset to read.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR")]
    pub dataset: String,

    /// jq expression for the label of a row.
    #[arg(short = 'l', long = "label-expression", value_name = "JQ")]
    pub label: String,

    /// jq expression for a key whose lengths (in characters) are also shown.
    #[arg(short = 'k', long = "key-expression", value_name = "JQ")]
    pub key: Option<String>,

    #[arg(short = 't', long = "label-type", value_enum, default_value_t = LabelType::Ordinal)]
    pub label_type: LabelType,

    /// Buckets of the key-length histogram (equal counts, roughly).
    #[arg(
        value_parser = crate::flags::py_int::<usize>,
        short = 'b',
        long = "key-length-buckets",
        default_value_t = 10,
        value_name = "N"
    )]
    pub buckets: usize,

    /// Draw the label and key-length histograms into DIR (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

const BAR_WIDTH: f64 = 50.0;

pub async fn run(args: LabelDistributionArgs, g: Globals) -> Result<()> {
    let params = LabelDistributionParams {
        dataset: args.dataset.clone(),
        label: args.label.clone(),
        key: args.key.clone(),
        label_type: match args.label_type {
            LabelType::Ordinal => Kind::Ordinal,
            LabelType::Value => Kind::Value,
            LabelType::Text => Kind::Text,
        },
        buckets: args.buckets,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        exec: args.cluster.exec()?,
        plot: args.plot.clone(),
    };
    let r = label_distribution(&params, &g.observer(args.common.show_sql)).await?;
    let out = Out;
    out.line("Label Distribution Analysis\n")?;
    out.line(format!(
        "Dataset: {}\nLabel Expression: {}\nLabel Type: {}",
        args.dataset,
        args.label,
        format!("{:?}", args.label_type).to_lowercase()
    ))?;
    if let Some(k) = &args.key {
        out.line(format!("Key Expression: {k}"))?;
    }
    out.line(format!("\nLoaded {} samples\n", thousands(r.total)))?;
    if r.total == 0 {
        return out.line("No data found in dataset!");
    }
    match &r.labels(params.label_type)? {
        Labels::Values(values) => out.text(value_report(values))?,
        Labels::Ordinals(values) => {
            let rows: Vec<(String, u64)> =
                values.iter().map(|(v, n)| (v.to_string(), *n)).collect();
            out.text(count_report(&rows, r.total))?;
        }
        Labels::Texts(rows) => out.text(count_report(rows, r.total))?,
    }
    if let Some(lengths) = &r.key_lengths()? {
        out.text(key_length_report(lengths, args.buckets))?;
    }
    if !g.quiet {
        crate::output::plots_written(&r.plots);
    }
    Ok(())
}

fn stats_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["Statistic", "Value"]);
    if let Some(c) = t.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

fn histogram_table(first: &str) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_header(vec![first, "Count", "Percentile", "Bar"]);
    for i in 0..3 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

fn bar(count: u64, max: u64) -> String {
    "█".repeat((count as f64 / max.max(1) as f64 * BAR_WIDTH) as usize)
}

fn share(count: u64, total: u64) -> String {
    format!(
        "{} ({:.1}%)",
        thousands(count),
        100.0 * count as f64 / total as f64
    )
}

fn value_report(values: &[(f64, u64)]) -> String {
    let total: u64 = values.iter().map(|v| v.1).sum();
    let (mean, std) = mean_std(values, total);
    let (min, max) = (values[0].0, values[values.len() - 1].0);
    let mut t = stats_table();
    t.add_row(vec!["Count".to_string(), thousands(total)]);
    t.add_row(vec!["Mean".to_string(), format!("{mean:.4}")]);
    t.add_row(vec![
        "Std Dev".to_string(),
        std.map_or("N/A".into(), |s| format!("{s:.4}")),
    ]);
    t.add_row(vec!["Min".to_string(), format!("{min:.4}")]);
    t.add_row(vec!["Max".to_string(), format!("{max:.4}")]);
    t.add_row(vec![
        "Median".to_string(),
        format!("{:.4}", median(values, total)),
    ]);
    for p in [10, 25, 50, 75, 90] {
        t.add_row(vec![
            format!("P{p}"),
            format!("{:.4}", percentile(values, total, p)),
        ]);
    }
    let width = if max > min { (max - min) / 10.0 } else { 1.0 };
    let mut buckets = [0u64; 10];
    for (v, n) in values {
        buckets[(((v - min) / width) as usize).min(9)] += n;
    }
    let top = buckets.iter().copied().max().unwrap_or(1);
    let mut h = histogram_table("Range");
    let mut cumulative = 0;
    for (i, &count) in buckets.iter().enumerate() {
        cumulative += count;
        let lo = min + i as f64 * width;
        h.add_row(vec![
            format!("[{lo:.2}, {:.2})", lo + width),
            share(count, total),
            format!("{:.1}%", 100.0 * cumulative as f64 / total as f64),
            bar(count, top),
        ]);
    }
    format!("Label Statistics:\n{t}\n\nValue Distribution (10 buckets):\n{h}\n\n")
}

fn count_report(rows: &[(String, u64)], total: u64) -> String {
    let top = rows.iter().map(|r| r.1).max().unwrap_or(1);
    let mut h = histogram_table("Label");
    let mut cumulative = 0;
    for (label, count) in rows {
        cumulative += count;
        let shown = if label.chars().count() > 18 {
            format!("{}...", label.chars().take(15).collect::<String>())
        } else {
            label.clone()
        };
        h.add_row(vec![
            shown,
            share(*count, total),
            format!("{:.1}%", 100.0 * cumulative as f64 / total as f64),
            bar(*count, top),
        ]);
    }
    format!("Label Distribution:\n{h}\n\n")
}

fn key_length_report(lengths: &[(i64, u64)], buckets: usize) -> String {
    if lengths.is_empty() {
        return "No keys to analyze\n".into();
    }
    let total: u64 = lengths.iter().map(|l| l.1).sum();
    let as_f: Vec<(f64, u64)> = lengths.iter().map(|(l, n)| (*l as f64, *n)).collect();
    let (mean, std) = mean_std(&as_f, total);
    let mut t = stats_table();
    t.add_row(vec!["Count".to_string(), thousands(total)]);
    t.add_row(vec!["Mean Length".to_string(), format!("{mean:.1}")]);
    t.add_row(vec![
        "Std Dev".to_string(),
        std.map_or("N/A".into(), |s| format!("{s:.1}")),
    ]);
    t.add_row(vec![
        "Min Length".to_string(),
        thousands(lengths[0].0 as u64),
    ]);
    t.add_row(vec![
        "Max Length".to_string(),
        thousands(lengths[lengths.len() - 1].0 as u64),
    ]);
    t.add_row(vec![
        "Median Length".to_string(),
        format!("{:.1}", median(&as_f, total)),
    ]);
    for p in [1, 5, 10, 25, 50, 75, 90, 95, 99] {
        t.add_row(vec![
            format!("P{p}"),
            thousands(percentile(lengths, total, p) as u64),
        ]);
    }
    let edges = length_boundaries(lengths, buckets);
    let mut counts = vec![0u64; edges.len() - 1];
    let mut by_len: BTreeMap<i64, u64> = BTreeMap::new();
    for (l, n) in lengths {
        *by_len.entry(*l).or_default() += n;
    }
    for (l, n) in by_len {
        let last = counts.len() - 1;
        let b = edges.partition_point(|e| *e <= l) - 1;
        counts[b.min(last)] += n;
    }
    let top = counts.iter().copied().max().unwrap_or(1);
    let mut h = histogram_table("Range");
    let mut cumulative = 0;
    for (i, &count) in counts.iter().enumerate() {
        cumulative += count;
        h.add_row(vec![
            format!(
                "[{}, {})",
                thousands(edges[i] as u64),
                thousands(edges[i + 1] as u64)
            ),
            share(count, total),
            format!("{:.1}%", 100.0 * cumulative as f64 / total as f64),
            bar(count, top),
        ]);
    }
    format!(
        "Key Length Statistics:\n{t}\n\nKey Length Distribution ({} buckets):\n{h}\n\n",
        counts.len()
    )
}

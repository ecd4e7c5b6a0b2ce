//! `pick label-distribution`: how labels (and optionally key lengths) are distributed in a
//! dataset (bonepick §6.6). Every figure comes from `GROUP BY` counts, so memory grows with the
//! distinct labels and lengths, not with the rows. Fixed from bonepick (B23): ordinal labels
//! written as integral floats (`"3.0"`) are read as integers; text labels with equal counts are
//! listed by name, not in whatever order they were met.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use clap::{Args, ValueEnum};
use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{CellAlignment, Table};

use crate::cli::ReadArgs;
use crate::cli::flags::usage;
use crate::cli::normalize::required_label;
use crate::dataset::Dataset;
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::thousands;

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
        short = 'b',
        long = "key-length-buckets",
        default_value_t = 10,
        value_name = "N"
    )]
    pub buckets: usize,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

const BAR_WIDTH: f64 = 50.0;

pub async fn run(args: LabelDistributionArgs, _quiet: bool) -> Result<()> {
    for (flag, e) in std::iter::once(("-l/--label-expression", &args.label))
        .chain(args.key.iter().map(|k| ("-k/--key-expression", k)))
    {
        pick_udfs::jq::Program::compile(e).map_err(|e| usage(format!("{flag}: {e}")))?;
    }
    if args.buckets == 0 {
        return Err(usage("-b/--key-length-buckets must be at least 1"));
    }
    let dataset = Dataset::open(&args.dataset, args.read.options())?;
    let label = required_label(&dataset, &args.label, "label");
    let engine = Engine::new(dataset.options.clone(), args.num_proc);
    let label_sql = format!("SELECT {label} AS label, count(*) AS n FROM t GROUP BY 1");
    let key_sql = args.key.as_ref().map(|k| {
        let key = required_label(&dataset, k, "key");
        format!("SELECT character_length({key}) AS len, count(*) AS n FROM t GROUP BY 1")
    });
    engine.register_dataset("t", dataset)?;
    if args.show_sql {
        println!("{label_sql};");
        if let Some(k) = &key_sql {
            println!("{k};");
        }
    }

    let counts = grouped(&engine, &label_sql).await?;
    let total: u64 = counts.iter().map(|c| c.1).sum();
    println!("Label Distribution Analysis\n");
    println!(
        "Dataset: {}\nLabel Expression: {}\nLabel Type: {}",
        args.dataset,
        args.label,
        format!("{:?}", args.label_type).to_lowercase()
    );
    if let Some(k) = &args.key {
        println!("Key Expression: {k}");
    }
    println!("\nLoaded {} samples\n", thousands(total));
    if total == 0 {
        println!("No data found in dataset!");
        return Ok(());
    }
    match args.label_type {
        LabelType::Value => {
            let values = parse_all(&counts, "a number", |s| s.trim().parse::<f64>().ok())?;
            print!("{}", value_report(&values));
        }
        LabelType::Ordinal => {
            let values = parse_all(&counts, "an integer", parse_ordinal)?;
            let rows: Vec<(String, u64)> =
                values.iter().map(|(v, n)| (v.to_string(), *n)).collect();
            print!("{}", count_report(&rows, total));
        }
        LabelType::Text => {
            let mut rows = counts.clone();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            print!("{}", count_report(&rows, total));
        }
    }
    if let Some(key_sql) = key_sql {
        let lengths = grouped(&engine, &key_sql).await?;
        let lengths = parse_all(&lengths, "a length", |s| s.parse::<i64>().ok())?;
        print!("{}", key_length_report(&lengths, args.buckets));
    }
    Ok(())
}

/// (value as text, rows) pairs of a `SELECT x, count(*) ... GROUP BY 1`.
async fn grouped(engine: &Engine, sql: &str) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for b in engine.sql(sql).await?.collect().await? {
        let v = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let v = v.as_string::<i32>();
        let n = b.column(1).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if !v.is_null(i) {
                out.push((v.value(i).to_string(), n.value(i) as u64));
            }
        }
    }
    Ok(out)
}

/// `"3"`, `"3.0"` and `" 3 "` are the ordinal 3.
fn parse_ordinal(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        let f: f64 = t.parse().ok()?;
        (f.fract() == 0.0 && f.abs() < 2f64.powi(63)).then_some(f as i64)
    })
}

/// Parsed values merged and sorted, or an error naming the first label that is not one.
fn parse_all<T: PartialOrd + Copy>(
    counts: &[(String, u64)],
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(T, u64)>> {
    let mut out: Vec<(T, u64)> = Vec::with_capacity(counts.len());
    for (s, n) in counts {
        let v = parse(s).ok_or_else(|| {
            PickError::Failed(format!(
                "the label `{s}` ({n} rows) is not {what}; choose another -t/--label-type"
            ))
        })?;
        out.push((v, *n));
    }
    out.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    // "3" and "3.0" are one ordinal.
    out.dedup_by(|b, a| {
        if a.0 == b.0 {
            a.1 += b.1;
            true
        } else {
            false
        }
    });
    Ok(out)
}

/// The value at sorted position `i` of the rows described by sorted (value, count) pairs.
fn nth<T: Copy>(values: &[(T, u64)], i: u64) -> T {
    let mut seen = 0;
    for (v, n) in values {
        seen += n;
        if i < seen {
            return *v;
        }
    }
    values.last().expect("non-empty").0
}

/// bonepick's percentile: `sorted[min(int(n·p/100), n−1)]`.
fn percentile<T: Copy>(values: &[(T, u64)], total: u64, p: u64) -> T {
    let i = ((total as f64 * p as f64 / 100.0) as u64).min(total - 1);
    nth(values, i)
}

/// Python's `statistics.median`: the mean of the two middle values for an even count.
fn median(values: &[(f64, u64)], total: u64) -> f64 {
    if total % 2 == 1 {
        nth(values, total / 2)
    } else {
        (nth(values, total / 2 - 1) + nth(values, total / 2)) / 2.0
    }
}

fn mean_std(values: &[(f64, u64)], total: u64) -> (f64, Option<f64>) {
    let mean = values.iter().map(|(v, n)| v * *n as f64).sum::<f64>() / total as f64;
    let ss: f64 = values
        .iter()
        .map(|(v, n)| (v - mean).powi(2) * *n as f64)
        .sum();
    (mean, (total > 1).then(|| (ss / (total - 1) as f64).sqrt()))
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

/// Bucket edges with roughly equal counts: the smallest length, each distinct quantile
/// boundary, and one past the largest.
pub fn length_boundaries(lengths: &[(i64, u64)], buckets: usize) -> Vec<i64> {
    let total: u64 = lengths.iter().map(|l| l.1).sum();
    let mut edges = vec![lengths[0].0];
    for i in 1..buckets as u64 {
        let idx = ((total as f64 * i as f64 / buckets as f64) as u64).min(total - 1);
        let v = nth(lengths, idx);
        if v > *edges.last().expect("one edge") {
            edges.push(v);
        }
    }
    edges.push(lengths[lengths.len() - 1].0 + 1);
    edges
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_bonepick() {
        // sorted [1, 2, 2, 3, 10]
        let v = vec![(1.0, 1), (2.0, 2), (3.0, 1), (10.0, 1)];
        assert_eq!(percentile(&v, 5, 10), 1.0);
        assert_eq!(percentile(&v, 5, 50), 2.0);
        assert_eq!(percentile(&v, 5, 90), 10.0);
        assert_eq!(median(&v, 5), 2.0);
        assert_eq!(median(&[(1.0, 1), (4.0, 1)], 2), 2.5);
        let (m, s) = mean_std(&v, 5);
        assert!((m - 3.6).abs() < 1e-12);
        assert!((s.unwrap() - 3.646916505762094).abs() < 1e-12);
    }

    #[test]
    fn ordinals_accept_integral_floats() {
        assert_eq!(parse_ordinal("3"), Some(3));
        assert_eq!(parse_ordinal("3.0"), Some(3));
        assert_eq!(parse_ordinal("3.5"), None);
        let merged = parse_all(
            &[("3".into(), 2), ("3.0".into(), 1), ("1".into(), 4)],
            "an integer",
            parse_ordinal,
        )
        .unwrap();
        assert_eq!(merged, vec![(1, 4), (3, 3)]);
    }

    #[test]
    fn key_length_buckets_are_quantiles() {
        // lengths 1..=10 once each, 4 buckets: edges at sorted[2]=3, sorted[5]=6, sorted[7]=8.
        let l: Vec<(i64, u64)> = (1..=10).map(|i| (i, 1)).collect();
        assert_eq!(length_boundaries(&l, 4), vec![1, 3, 6, 8, 11]);
        assert_eq!(length_boundaries(&[(5, 7)], 10), vec![5, 6]);
    }
}

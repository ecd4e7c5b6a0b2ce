//! `pick annotation-agreement`: how far annotation runs of the same documents agree, for
//! each consecutive pair of datasets (bonepick §6.5, with B13 fixed: every pair is reported,
//! the order is deterministic, and ordinal distances are the labels' values).

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use futures::TryStreamExt;
use pick_udfs::jq::Program;
use pick_udfs::metrics::agreement::{Confusion, Weights, interpret_kappa, label_order};
use pick_udfs::metrics::correlation::pearson;
use pick_udfs::metrics::regression::errors;
use serde_json::json;

use crate::cli::ReadArgs;
use crate::cli::interned::Interned;
use crate::engine::Engine;
use crate::error::{PickError, Result};

#[derive(Debug, Args)]
pub struct AgreementArgs {
    /// Annotation datasets (at least two), compared in order: 1↔2, 2↔3, ...
    #[arg(
        short = 'd',
        long = "dataset-dir",
        value_name = "DIR",
        required = true,
        num_args = 1
    )]
    pub datasets: Vec<String>,

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

    #[arg(long, default_value_t = 10)]
    pub max_disagreements: usize,

    /// Labels are ordered numbers: add weighted κ, MAE, RMSE, Pearson and the differences.
    #[arg(long, overrides_with = "no_ordinal")]
    pub ordinal: bool,
    #[arg(long = "no-ordinal", hide = true)]
    pub no_ordinal: bool,

    /// Print the results as JSON instead of tables.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// Per dataset: (key, label) sorted by key, the last row with a key winning. Labels are
/// interned: a run of ten million rows holds ten million keys and a handful of labels.
#[derive(Default)]
struct Labels {
    rows: Vec<(Box<str>, u32)>,
    names: Vec<String>,
}

impl Labels {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rows
            .iter()
            .map(|(k, l)| (k.as_ref(), self.names[*l as usize].as_str()))
    }

    /// (key, label in a, label in b) for the keys both have, in key order.
    fn common<'a>(&'a self, b: &'a Labels) -> Vec<(&'a str, &'a str, &'a str)> {
        let mut out = Vec::new();
        let (mut i, mut j) = (self.iter().peekable(), b.iter().peekable());
        while let (Some((ka, la)), Some((kb, lb))) = (i.peek().copied(), j.peek().copied()) {
            match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    i.next();
                }
                std::cmp::Ordering::Greater => {
                    j.next();
                }
                std::cmp::Ordering::Equal => {
                    out.push((ka, la, lb));
                    i.next();
                    j.next();
                }
            }
        }
        out
    }
}

fn per_dataset<'a>(exprs: &'a [String], n: usize, what: &str) -> Result<Vec<&'a str>> {
    match exprs.len() {
        1 => Ok(vec![exprs[0].as_str(); n]),
        m if m == n => Ok(exprs.iter().map(String::as_str).collect()),
        m => Err(PickError::Usage(format!(
            "{m} {what} expressions for {n} datasets: give one, or one per dataset"
        ))),
    }
}

/// Streams a run shard by shard, in file and row order (the last row of a key wins).
async fn load(read: &ReadArgs, dir: &str, key: &str, label: &str) -> Result<Labels> {
    let dataset = crate::dataset::Dataset::open(dir, read.options())?;
    let q = |e: &str| e.replace('\'', "''");
    let sql = format!(
        "SELECT label(_json, '{}') AS k, label(_json, '{}') AS l FROM t ORDER BY _row",
        q(key),
        q(label)
    );
    let mut out = Labels::default();
    let mut labels = Interned::default();
    for shard in &dataset.shards {
        let engine = Engine::new(dataset.options.clone(), 0);
        engine.register_dataset("t", dataset.subset(vec![std::sync::Arc::clone(shard)]))?;
        let mut stream = engine.sql(&sql).await?.execute_stream().await?;
        while let Some(b) = stream.try_next().await? {
            let (k, l) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                if k.is_valid(i) && l.is_valid(i) {
                    out.rows.push((k.value(i).into(), labels.id(l.value(i))));
                }
            }
        }
    }
    // Stable, so rows with one key stay in file order and the last is kept.
    out.rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut kept: Vec<(Box<str>, u32)> = Vec::with_capacity(out.rows.len());
    for row in std::mem::take(&mut out.rows) {
        match kept.last_mut() {
            Some(last) if last.0 == row.0 => *last = row,
            _ => kept.push(row),
        }
    }
    out.rows = kept;
    out.names = labels.names;
    Ok(out)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied());
    t
}

pub async fn run(args: AgreementArgs, _quiet: bool) -> Result<()> {
    let n = args.datasets.len();
    if n < 2 {
        return Err(PickError::Usage(
            "annotation-agreement needs at least two -d datasets".into(),
        ));
    }
    let labels = per_dataset(&args.labels, n, "label")?;
    let keys = per_dataset(&args.keys, n, "key")?;
    for e in labels.iter().chain(&keys) {
        Program::compile(e).map_err(|e| PickError::Usage(e.to_string()))?;
    }
    let mut runs = Vec::with_capacity(n);
    for (i, dir) in args.datasets.iter().enumerate() {
        runs.push(load(&args.read, dir, keys[i], labels[i]).await?);
    }
    let mut reports = Vec::new();
    for i in 0..n - 1 {
        let (a, b) = (&runs[i], &runs[i + 1]);
        let (name_a, name_b) = (&args.datasets[i], &args.datasets[i + 1]);
        let common = a.common(b);
        let mut report = json!({
            "dataset_a": name_a, "dataset_b": name_b,
            "coverage": {"a": a.len(), "b": b.len(), "common": common.len(),
                         "only_a": a.len() - common.len(), "only_b": b.len() - common.len()},
        });
        if !common.is_empty() {
            let confusion = Confusion::from_pairs(common.iter().map(|(_, x, y)| (*x, *y)));
            let agree = confusion.agreements();
            let kappa = confusion.kappa(Weights::Nominal);
            report["agreement_rate"] = json!(agree as f64 / common.len() as f64);
            report["agreements"] = json!(agree);
            report["disagreements"] = json!(common.len() as u64 - agree);
            report["cohen_kappa"] = json!(kappa);
            report["interpretation"] = json!(kappa.map(interpret_kappa));
            report["labels"] = json!(confusion.labels);
            report["confusion_matrix"] = json!(confusion.matrix);
            let dist = |col: usize| {
                let mut d: BTreeMap<&str, u64> = BTreeMap::new();
                for t in &common {
                    *d.entry(if col == 0 { t.1 } else { t.2 }).or_default() += 1;
                }
                d
            };
            report["label_distribution"] = json!({"a": dist(0), "b": dist(1)});
            if args.ordinal {
                let values = |col: usize| -> Result<Vec<f64>> {
                    common
                        .iter()
                        .map(|t| {
                            let l = if col == 0 { t.1 } else { t.2 };
                            l.trim().parse::<f64>().map_err(|_| {
                                PickError::Usage(format!(
                                    "--ordinal: label `{l}` of key `{}` is not a number",
                                    t.0
                                ))
                            })
                        })
                        .collect()
                };
                let (xa, xb) = (values(0)?, values(1)?);
                let e = errors(&xb, &xa).expect("non-empty");
                let mut diffs: BTreeMap<i64, u64> = BTreeMap::new();
                for (x, y) in xa.iter().zip(&xb) {
                    *diffs.entry(((y - x) * 1e6).round() as i64).or_default() += 1;
                }
                report["ordinal"] = json!({
                    "weighted_kappa_quadratic": confusion.kappa(Weights::Quadratic),
                    "mae": e.mae, "rmse": e.rmse,
                    "pearson": pearson(&xa, &xb).unwrap_or(0.0),
                    "differences": diffs.iter().map(|(d, c)| json!({"b_minus_a": *d as f64 / 1e6, "count": c})).collect::<Vec<_>>(),
                });
            }
            if args.show_disagreements {
                let shown: Vec<_> = common
                    .iter()
                    .filter(|(_, x, y)| x != y)
                    .take(args.max_disagreements)
                    .map(|(k, x, y)| json!({"key": k, "a": x, "b": y}))
                    .collect();
                report["disagreement_examples"] = json!(shown);
            }
        }
        reports.push(report);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("serialisable")
        );
        return Ok(());
    }
    for r in &reports {
        print_report(r, &args);
    }
    Ok(())
}

fn print_report(r: &serde_json::Value, args: &AgreementArgs) {
    let (a, b) = (
        r["dataset_a"].as_str().unwrap_or(""),
        r["dataset_b"].as_str().unwrap_or(""),
    );
    println!("\nAgreement: {a} vs {b}");
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
    println!("{t}");
    if c["common"].as_u64() == Some(0) {
        println!("No common keys between {a} and {b}.");
        return;
    }
    let kappa = r["cohen_kappa"].as_f64();
    println!(
        "Agreement Rate: {:.2}%",
        100.0 * r["agreement_rate"].as_f64().unwrap_or(0.0)
    );
    match kappa {
        Some(k) => println!("Cohen's Kappa: {k:.4} ({})", interpret_kappa(k)),
        None => println!("Cohen's Kappa: undefined (a single label)"),
    }
    println!(
        "Agreements: {}  Disagreements: {}",
        r["agreements"], r["disagreements"]
    );

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
    println!("Label distribution (common keys)\n{t}");

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
            println!("Confusion matrix (rows: {a}, columns: {b})\n{t}");
        } else {
            println!(
                "Skipping the confusion matrix: {} labels (more than 20)",
                labels.len()
            );
        }
    }
    if let Some(o) = r.get("ordinal") {
        let wk = o["weighted_kappa_quadratic"].as_f64();
        println!(
            "Weighted Kappa (quadratic): {}\nMAE: {:.4}  RMSE: {:.4}  Pearson: {:.4}",
            wk.map_or("undefined".to_string(), |k| format!(
                "{k:.4} ({})",
                interpret_kappa(k)
            )),
            o["mae"].as_f64().unwrap_or(0.0),
            o["rmse"].as_f64().unwrap_or(0.0),
            o["pearson"].as_f64().unwrap_or(0.0)
        );
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
        println!("Differences\n{t}");
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
        println!("Disagreements\n{t}");
        let more = r["disagreements"]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(ex.len() as u64);
        if more > 0 {
            println!("... and {more} more disagreements");
        }
    }
}

//! `pick annotation-agreement`: how far annotation runs of the same documents agree, for
//! each consecutive pair of datasets (bonepick §6.5, with B13 fixed: every pair is reported,
//! the order is deterministic, and ordinal distances are the labels' values).

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use pick_jq::Program;
use pick_metrics::agreement::{Confusion, Weights, interpret_kappa};
use pick_metrics::correlation::pearson;
use pick_metrics::interned::Interned;
use pick_metrics::regression::errors;
use serde_json::{Value, json};

use crate::dataset::{Dataset, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{ShardQuery, stream_in_order};
use crate::plan::Params;

#[derive(Debug, Clone)]
pub struct AgreementParams {
    /// Annotation datasets, compared in order: 1↔2, 2↔3, ...
    pub datasets: Vec<String>,
    /// jq expressions for the label: one for all, or one per dataset.
    pub labels: Vec<String>,
    /// jq expressions for the key: one for all, or one per dataset.
    pub keys: Vec<String>,
    pub ordinal: bool,
    pub show_disagreements: bool,
    pub max_disagreements: usize,
    pub read: ReadOptions,
    /// Where to draw each pair's confusion heatmap (and difference histogram, ordinal).
    pub plot: Option<std::path::PathBuf>,
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
async fn load(
    read: &ReadOptions,
    dir: &str,
    key: &str,
    label: &str,
    observer: &dyn Observer,
) -> Result<Labels> {
    let dataset = Dataset::open(dir, read.clone())?;
    let mut params = Params::default();
    let select = format!(
        "label(_json, {}) AS k, label(_json, {}) AS l",
        params.str(key),
        params.str(label)
    );
    let query = ShardQuery::new(select, params).query();
    let mut out = Labels::default();
    let mut labels = Interned::default();
    let bytes = dataset.shards.iter().map(|s| s.size).sum();
    let progress = observer.progress(bytes, "read");
    stream_in_order(
        &dataset,
        &dataset.shards,
        0,
        &query,
        Some(progress.as_ref()),
        |b| {
            let (k, l) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
            );
            for i in 0..b.num_rows() {
                if k.is_valid(i) && l.is_valid(i) {
                    out.rows.push((k.value(i).into(), labels.id(l.value(i))));
                }
            }
            Ok(())
        },
    )
    .await?;
    progress.finish();
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

pub async fn run(args: &AgreementParams, observer: &dyn Observer) -> Result<Vec<Value>> {
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
        runs.push(load(&args.read, dir, keys[i], labels[i], observer).await?);
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
            let mut differences = None;
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
                differences = Some(xa.iter().zip(&xb).map(|(x, y)| y - x).collect::<Vec<f64>>());
                let e = errors(&xb, &xa).expect("non-empty");
                let mut diffs: BTreeMap<i64, u64> = BTreeMap::new();
                for (x, y) in xa.iter().zip(&xb) {
                    *diffs.entry(((y - x) * 1e6).round() as i64).or_default() += 1;
                }
                report["ordinal"] = json!({
                    "weighted_kappa_quadratic": confusion.kappa(Weights::Quadratic),
                    "mae": e.mae, "rmse": e.rmse,
                    "pearson": pearson(&xa, &xb),
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
            if let Some(dir) = &args.plot {
                let suffix = if n == 2 {
                    String::new()
                } else {
                    format!("_{}_{}", i + 1, i + 2)
                };
                let cells = confusion
                    .matrix
                    .iter()
                    .map(|row| row.iter().map(|&c| c as f64).collect())
                    .collect();
                let written = crate::pipelines::plots::agreement(
                    dir,
                    &suffix,
                    &confusion.labels,
                    cells,
                    differences.as_deref(),
                )?;
                report["plots"] = json!(written);
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

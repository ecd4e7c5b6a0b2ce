//! `pick label-distribution`: how labels (and optionally key lengths) are distributed in a
//! dataset (bonepick §6.6). Every figure comes from `GROUP BY` counts, so memory grows with the
//! distinct labels and lengths, not with the rows. Fixed from bonepick (B23): ordinal labels
//! written as integral floats (`"3.0"`) are read as integers; text labels with equal counts are
//! listed by name, not in whatever order they were met.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::pipelines::{check_jq, usage};
use crate::plan::rows::required_label;
use crate::plan::{Params, Query};
use crate::session::Engine;
use crate::session::Exec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LabelType {
    /// Integers, listed in order.
    Ordinal,
    /// Real numbers: statistics and a 10-bucket histogram.
    Value,
    /// Strings, listed by count.
    Text,
}

#[derive(Debug, Clone)]
pub struct LabelDistributionParams {
    pub dataset: String,
    pub label: String,
    pub key: Option<String>,
    pub label_type: LabelType,
    pub buckets: usize,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Where the counting query runs.
    pub exec: Exec,
    /// Where to draw the label and key-length histograms.
    pub plot: Option<std::path::PathBuf>,
}

/// The labels' counts, parsed as the label type says and in the order they are listed.
#[derive(Debug, Serialize)]
pub enum Labels {
    Values(Vec<(f64, u64)>),
    Ordinals(Vec<(i64, u64)>),
    Texts(Vec<(String, u64)>),
}

/// The counts as the queries gave them; `labels` and `key_lengths` read them as the label
/// type says (an error names the first label that is not one).
#[derive(Debug, Serialize)]
pub struct LabelDistributionReport {
    pub total: u64,
    /// (label as text, rows)
    pub counts: Vec<(String, u64)>,
    /// (key length as text, rows), with `-k`.
    pub key_counts: Option<Vec<(String, u64)>>,
    /// The charts written (`--plot`).
    pub plots: Vec<std::path::PathBuf>,
}

impl LabelDistributionReport {
    pub fn labels(&self, label_type: LabelType) -> Result<Labels> {
        Ok(match label_type {
            LabelType::Value => Labels::Values(parse_all(&self.counts, "a number", |s| {
                s.trim().parse::<f64>().ok()
            })?),
            LabelType::Ordinal => {
                Labels::Ordinals(parse_all(&self.counts, "an integer", parse_ordinal)?)
            }
            LabelType::Text => {
                let mut rows = self.counts.clone();
                rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Labels::Texts(rows)
            }
        })
    }

    /// Key lengths in characters and their counts, sorted.
    pub fn key_lengths(&self) -> Result<Option<Vec<(i64, u64)>>> {
        self.key_counts
            .as_ref()
            .map(|c| parse_all(c, "a length", |s| s.parse::<i64>().ok()))
            .transpose()
    }
}

pub async fn run(
    p: &LabelDistributionParams,
    observer: &dyn Observer,
) -> Result<LabelDistributionReport> {
    check_jq("-l/--label-expression", &p.label)?;
    if let Some(k) = &p.key {
        check_jq("-k/--key-expression", k)?;
    }
    if p.buckets == 0 {
        return Err(usage("-b/--key-length-buckets must be at least 1"));
    }
    let dataset = Dataset::open(&p.dataset, p.read.clone())?;
    let mut params = Params::default();
    let label = required_label(&mut params, &dataset, &p.label, "label");
    let label_sql = params.query(format!(
        "SELECT {label} AS label, count(*) AS n FROM t GROUP BY 1"
    ));
    let key_sql = p.key.as_ref().map(|k| {
        let mut params = Params::default();
        let key = required_label(&mut params, &dataset, k, "key");
        params.query(format!(
            "SELECT character_length({key}) AS len, count(*) AS n FROM t GROUP BY 1"
        ))
    });
    let engine = Engine::open(dataset.options.clone(), p.partitions, &p.exec).await?;
    engine.register_dataset("t", dataset)?;
    observer.statement(&format!("{};", label_sql.display()));
    if let Some(k) = &key_sql {
        observer.statement(&format!("{};", k.display()));
    }

    let counts = grouped(&engine, &label_sql).await?;
    let total: u64 = counts.iter().map(|c| c.1).sum();
    let key_counts = match key_sql {
        Some(q) if total > 0 => Some(grouped(&engine, &q).await?),
        _ => None,
    };
    let mut report = LabelDistributionReport {
        total,
        counts,
        key_counts,
        plots: Vec::new(),
    };
    if let Some(dir) = &p.plot {
        use crate::pipelines::plots::{LabelBars, distribution};
        let labels = match report.labels(p.label_type)? {
            Labels::Values(v) => LabelBars::Numbers(v),
            Labels::Ordinals(v) => {
                LabelBars::Named(v.into_iter().map(|(l, n)| (l.to_string(), n)).collect())
            }
            Labels::Texts(v) => LabelBars::Named(v.into_iter().take(40).collect()),
        };
        report.plots = distribution(dir, labels, report.key_lengths()?.as_deref())?;
    }
    Ok(report)
}

/// (value as text, rows) pairs of a `SELECT x, count(*) ... GROUP BY 1`.
async fn grouped(engine: &Engine, query: &Query) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for b in engine.query(query).await?.collect().await? {
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
pub fn parse_ordinal(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        let f: f64 = t.parse().ok()?;
        (f.fract() == 0.0 && f.abs() < 2f64.powi(63)).then_some(f as i64)
    })
}

/// Parsed values merged and sorted, or an error naming the first label that is not one.
pub fn parse_all<T: PartialOrd + Copy>(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

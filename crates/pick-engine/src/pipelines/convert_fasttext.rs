//! `pick convert-to-fasttext`: a dataset's `train/`, `valid/` and `test/` as fastText training
//! files, `__label__<label> <text>` per row, and `report.yaml` (bonepick §4.1, §2.4). The text
//! (`normalize(...)`, `fasttext_text(...)`) is made in SQL on every core, shard by shard in file
//! order. Fixed from bonepick: one row is one line whatever the normalizer (B8); with `--auto`,
//! values below the training minimum go to the first bin, not the last (B9); the row order is
//! the files' sorted order, not completion order (B18).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use pick_compat::yaml::Yaml;
use pick_text::Normalizer;
use pick_text::labels::normalize_label;
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions, Shard};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{ShardQuery, stream_in_order};
use crate::pipelines::usage;
use crate::plan::Params;
use crate::plan::rows::{required_jq, required_label};
use crate::write::{OutputDir, PendingFile, write_file};

#[derive(Debug, Clone)]
pub struct ConvertParams {
    pub input: String,
    pub output: PathBuf,
    /// jq expressions for the text and the label.
    pub text: String,
    pub label: String,
    pub normalizer: Normalizer,
    pub max_length: Option<u64>,
    /// Bin numeric labels into this many equal-count bins.
    pub auto: Option<usize>,
    pub multi_label: bool,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct ConvertReport {
    /// Lines written per split.
    pub rows: Vec<(String, u64)>,
    pub bin_edges: Option<Vec<f64>>,
}

/// Quantile bin edges over train's sorted values: `[s0] + s[floor(i·n/N)] + [s_{n−1}]`.
pub fn bin_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    let mut e = vec![sorted[0]];
    e.extend((1..bins).map(|i| sorted[i * n / bins]));
    e.push(sorted[n - 1]);
    e
}

/// bonepick's bin of a value, except that values below the first edge go to bin 0 (B9).
pub fn bin_of(edges: &[f64], v: f64) -> usize {
    let bins = edges.len() - 1;
    if v < edges[0] {
        return 0;
    }
    for i in 0..bins {
        let hit = if edges[i] == edges[i + 1] {
            v == edges[i]
        } else {
            edges[i] <= v && v < edges[i + 1]
        };
        if hit {
            return i;
        }
    }
    bins - 1
}

/// Python truthiness of a JSON value.
fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
    }
}

/// The criteria of a multi-label object that hold, sorted by their original names.
fn multi_labels(json: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| PickError::Failed(e.to_string()))?;
    let serde_json::Value::Object(map) = v else {
        return Err(PickError::Failed(format!(
            "--multi-label: the label expression gave `{json}`, not an object"
        )));
    };
    let mut keys: Vec<&String> = map
        .iter()
        .filter(|(_, v)| truthy(v))
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|k| normalize_label(k)).collect())
}

pub async fn run(p: &ConvertParams, observer: &dyn Observer) -> Result<ConvertReport> {
    let (text, label) = (&p.text, &p.label);
    let dataset = Arc::new(Dataset::open(&p.input, p.read.clone())?);
    let split = |name: &str| -> Vec<Arc<Shard>> {
        dataset
            .shards
            .iter()
            .filter(|s| s.split.as_deref() == Some(name))
            .cloned()
            .collect()
    };
    for required in ["train", "test"] {
        if split(required).is_empty() {
            return Err(usage(format!(
                "{}: no {required}/ split (convert-to-fasttext reads train/, valid/, test/)",
                p.input
            )));
        }
    }
    let out_dir = OutputDir::prepare(&p.output, std::slice::from_ref(&dataset.root), p.overwrite)?;
    let mut params = Params::default();
    let text_value = required_label(&mut params, &dataset, text, "text");
    let cut = match p.max_length {
        Some(n) => format!("substr({text_value}, 1, {})", params.int(n as i64)),
        None => text_value,
    };
    let normalizer = params.str(p.normalizer.name());
    let text_sql = format!("fasttext_text(normalize({cut}, {normalizer}))");
    let label_sql = if p.multi_label {
        required_jq(&mut params, &dataset, label, "label")
    } else {
        required_label(&mut params, &dataset, label, "label")
    };
    let rows = ShardQuery::new(
        format!("{label_sql} AS label, {text_sql} AS text"),
        params.clone(),
    );
    let query = rows.query();
    observer.statement(&format!("{};", query.display()));

    // --auto: the bin edges from train's labels.
    let edges = match p.auto {
        None => None,
        Some(n) => {
            let mut values = Vec::new();
            let labels = ShardQuery::new(label_sql.clone(), params.clone()).query();
            stream_in_order(
                &dataset,
                &split("train"),
                p.partitions,
                &labels,
                None,
                |b| {
                    let l = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                    for v in l.as_string::<i32>().iter().flatten() {
                        values.push(v.trim().parse::<f64>().map_err(|_| {
                            PickError::Failed(format!("--auto: the label `{v}` is not a number"))
                        })?);
                    }
                    Ok(())
                },
            )
            .await?;
            values.sort_by(f64::total_cmp);
            let mut distinct = values.clone();
            distinct.dedup();
            if n < 2 || n > distinct.len() {
                return Err(usage(format!(
                    "--auto {n}: needs 2 to {} bins (the distinct train labels)",
                    distinct.len()
                )));
            }
            Some(bin_edges(&values, n))
        }
    };

    let total: u64 = dataset.shards.iter().map(|s| s.size).sum();
    let progress = observer.progress(total, "convert");
    let mut counts = Vec::new();
    for name in ["train", "valid", "test"] {
        let shards = split(name);
        if shards.is_empty() {
            continue;
        }
        let file_name = format!("{name}.txt");
        let dest = out_dir.path().join(&file_name);
        let (pending, file) = PendingFile::create(&dest)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut rows = 0u64;
        let mut line = String::new();
        stream_in_order(
            &dataset,
            &shards,
            p.partitions,
            &query,
            Some(progress.as_ref()),
            |b| {
                let labels = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                let texts = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
                let (labels, texts) = (labels.as_string::<i32>(), texts.as_string::<i32>());
                for i in 0..b.num_rows() {
                    if labels.is_null(i) || texts.is_null(i) {
                        continue;
                    }
                    let raw = labels.value(i);
                    let names = if p.multi_label {
                        multi_labels(raw)?
                    } else if let Some(edges) = &edges {
                        let v = raw.trim().parse::<f64>().map_err(|_| {
                            PickError::Failed(format!("--auto: the label `{raw}` is not a number"))
                        })?;
                        vec![format!("bin_{}", bin_of(edges, v))]
                    } else {
                        vec![normalize_label(raw)]
                    };
                    if names.is_empty() {
                        continue;
                    }
                    line.clear();
                    for n in &names {
                        line.push_str("__label__");
                        line.push_str(n);
                        line.push(' ');
                    }
                    line.push_str(texts.value(i));
                    line.push('\n');
                    out.write_all(line.as_bytes())
                        .map_err(|e| PickError::io(&dest, e))?;
                    rows += 1;
                }
                Ok(())
            },
        )
        .await?;
        out.flush().map_err(|e| PickError::io(&dest, e))?;
        drop(out);
        pending.commit()?;
        counts.push((name, rows));
        observer.note(&format!(
            "{name}: {rows} rows -> {}",
            p.output.join(&file_name).display()
        ));
    }
    progress.finish();

    let mut report = vec![];
    if let (Some(n), Some(e)) = (p.auto, &edges) {
        report.push((
            "auto_bins",
            Yaml::map([
                (
                    "bin_edges",
                    Yaml::List(e.iter().map(|v| Yaml::Float(*v)).collect()),
                ),
                (
                    "bin_labels",
                    Yaml::List((0..n).map(|i| Yaml::str(format!("bin_{i}"))).collect()),
                ),
                ("num_bins", Yaml::Int(n as i64)),
            ]),
        ));
    }
    report.extend([
        ("input_dir", Yaml::str(&p.input)),
        ("label_expression", Yaml::str(label)),
        (
            "max_length",
            p.max_length.map_or(Yaml::Null, |n| Yaml::Int(n as i64)),
        ),
        ("multi_label", Yaml::Bool(p.multi_label)),
        ("normalization", Yaml::str(p.normalizer.name())),
        (
            "num_rows",
            Yaml::Map(
                ["test", "train", "valid"]
                    .iter()
                    .filter_map(|s| {
                        counts
                            .iter()
                            .find(|c| c.0 == *s)
                            .map(|c| (s.to_string(), Yaml::Int(c.1 as i64)))
                    })
                    .collect(),
            ),
        ),
        ("output_dir", Yaml::str(p.output.display().to_string())),
        ("text_expression", Yaml::str(text)),
    ]);
    write_file(
        &out_dir.path().join("report.yaml"),
        Yaml::map(report).to_text().as_bytes(),
    )?;
    out_dir.commit()?;
    Ok(ConvertReport {
        rows: counts.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        bin_edges: edges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_bonepick_but_low_values_go_first() {
        let s: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = bin_edges(&s, 3);
        assert_eq!(e, vec![1.0, 4.0, 7.0, 10.0]);
        assert_eq!(bin_of(&e, 1.0), 0);
        assert_eq!(bin_of(&e, 4.0), 1);
        assert_eq!(bin_of(&e, 10.0), 2);
        assert_eq!(bin_of(&e, 99.0), 2);
        assert_eq!(bin_of(&e, -5.0), 0, "bonepick B9 put this in the last bin");
        // A single-value bin matches only its value.
        let e = vec![1.0, 1.0, 3.0];
        assert_eq!(bin_of(&e, 1.0), 0);
        assert_eq!(bin_of(&e, 2.0), 1);
    }

    #[test]
    fn multi_labels_are_truthy_criteria_in_key_order() {
        let got = multi_labels(r#"{"a": 1, "C D": true, "b": 0, "e": "", "f": [1]}"#).unwrap();
        assert_eq!(got, ["c_d", "a", "f"]);
    }
}

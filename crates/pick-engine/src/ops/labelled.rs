//! Labelled rows of one split (`train/`, `valid/`, `test/`) of several datasets, as the
//! Model2Vec commands read them (bonepick §2.2, §3.10): the text expression cut to
//! `--max-length` characters, then normalized; the label as Python's `str()` of the label
//! expression. Text and label come from the same row of the same query, in file and row order,
//! so they cannot drift apart (bonepick paired them across chunks that finished in any order,
//! B1).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use pick_text::Normalizer;

use crate::dataset::{Dataset, ReadOptions, Shard};
use crate::error::Result;
use crate::observe::Progress;
use crate::ops::{ShardQuery, stream_in_order};
use crate::plan::Params;
use crate::plan::rows::required_label;

#[derive(Debug, Clone)]
pub struct LabelledSpec {
    /// jq expressions.
    pub text: String,
    pub label: String,
    pub normalizer: Option<Normalizer>,
    /// Characters kept of each text, before normalizing.
    pub max_length: Option<u64>,
    pub partitions: usize,
    pub read: ReadOptions,
}

/// One row: where it is (for error messages) and its text and label.
pub struct Labelled<'a> {
    pub file: &'a str,
    /// 1-based.
    pub row: u64,
    pub text: &'a str,
    pub label: &'a str,
}

/// The shards of `split` in a dataset, in order.
pub fn split_shards(dataset: &Dataset, split: &str) -> Vec<Arc<Shard>> {
    dataset
        .shards
        .iter()
        .filter(|s| s.split.as_deref() == Some(split))
        .cloned()
        .collect()
}

/// Calls `f` with every batch of `split`'s rows of `dataset`, in order. Returns the rows read.
pub async fn labelled_rows(
    dataset: &Dataset,
    split: &str,
    spec: &LabelledSpec,
    progress: Option<&dyn Progress>,
    mut f: impl FnMut(&[Labelled<'_>]) -> Result<()>,
) -> Result<u64> {
    let shards = split_shards(dataset, split);
    if shards.is_empty() {
        return Ok(0);
    }
    let mut params = Params::default();
    let mut text = required_label(&mut params, dataset, &spec.text, "text");
    if let Some(n) = spec.max_length {
        text = format!("substr({text}, 1, {})", params.int(n as i64));
    }
    if let Some(norm) = spec.normalizer {
        text = format!("normalize({text}, {})", params.str(norm.name()));
    }
    let label = required_label(&mut params, dataset, &spec.label, "label");
    let root = params.str(format!("{}/", dataset.root.display()));
    let query = ShardQuery::new(
        format!("{text} AS text, {label} AS label, {root} || _file AS file, _row AS row"),
        params,
    )
    .query();
    let mut rows = 0u64;
    stream_in_order(dataset, &shards, spec.partitions, &query, progress, |b| {
        let texts = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let labels = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
        let files = arrow::compute::cast(b.column(2), &DataType::Utf8)?;
        let row_ids = arrow::compute::cast(b.column(3), &DataType::UInt64)?;
        let (texts, labels, files) = (
            texts.as_string::<i32>(),
            labels.as_string::<i32>(),
            files.as_string::<i32>(),
        );
        let row_ids = row_ids.as_primitive::<arrow::datatypes::UInt64Type>();
        let mut batch_rows = Vec::with_capacity(b.num_rows());
        for i in 0..b.num_rows() {
            if texts.is_null(i) || labels.is_null(i) {
                continue;
            }
            batch_rows.push(Labelled {
                file: files.value(i),
                row: row_ids.value(i) + 1,
                text: texts.value(i),
                label: labels.value(i),
            });
        }
        rows += batch_rows.len() as u64;
        f(&batch_rows)
    })
    .await?;
    Ok(rows)
}

/// The datasets behind several `-d`, each opened once; every one must have `split`.
pub fn open_with_split(dirs: &[String], split: &str, read: &ReadOptions) -> Result<Vec<Dataset>> {
    dirs.iter()
        .map(|d| {
            let ds = Dataset::open(d, read.clone())?;
            if split_shards(&ds, split).is_empty() {
                return Err(crate::error::usage(format!(
                    "{}: no {split}/ split",
                    Path::new(d).display()
                )));
            }
            Ok(ds)
        })
        .collect()
}

//! `pick balance-dataset`: every label of every split cut down to the split's rarest label
//! (bonepick §7.3). Unlike bonepick, each label keeps exactly that many rows (the ones with the
//! smallest seeded key, not a coin flip per row), the result is the same for a seed whatever
//! the threads or file order, and rows keep all their fields and their label's type (B18, B22).
//!
//! Three queries: label counts per split; the key cut-off per label (keys only); then the rows
//! under their cut-off, shuffled, written `≤ 100 000` rows per shard.

use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use pick_jq::field_path;
use serde::Serialize;

use crate::dataset::discover::SPLITS;
use crate::dataset::{Codec, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::Inputs;
use crate::ops::shuffle;
use crate::pipelines::usage;
use crate::plan::Params;
use crate::write::{OutputDir, OutputFormat, ShardedWriter, Written};

/// Rows per output shard, as bonepick writes them.
pub const SHARD_ROWS: u64 = 100_000;

#[derive(Debug, Clone)]
pub struct BalanceParams {
    pub inputs: Vec<String>,
    pub output: PathBuf,
    /// jq expressions for the text and the label.
    pub text: String,
    pub label: String,
    /// Keys the text and label are written under when they are not already those fields.
    pub text_key: String,
    pub label_key: String,
    pub seed: i64,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

/// One label of one split, before and after.
#[derive(Debug, Serialize)]
pub struct LabelRows {
    pub split: String,
    pub label: String,
    pub before: u64,
    pub after: u64,
}

#[derive(Debug, Serialize)]
pub struct BalanceReport {
    pub labels: Vec<LabelRows>,
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
    pub bad_rows: u64,
}

/// A label's rows in one split and the key at or under which its rows are kept.
#[derive(Debug, Clone)]
struct LabelCut {
    rows: u64,
    bytes: u64,
    cut: Option<f64>,
}

pub async fn run(p: &BalanceParams, observer: &dyn Observer) -> Result<BalanceReport> {
    let (text, label) = (&p.text, &p.label);
    let (text_key, label_key) = (&p.text_key, &p.label_key);

    let inputs = Inputs::open(&p.inputs, p.read.clone())?;
    let splits: Vec<&str> = SPLITS
        .iter()
        .copied()
        .filter(|s| {
            inputs
                .datasets
                .iter()
                .any(|d| d.shards.iter().any(|sh| sh.split.as_deref() == Some(*s)))
        })
        .collect();
    if splits.is_empty() {
        return Err(usage(format!(
            "no train/, valid/ or test/ directory with shards under {}",
            p.inputs.join(", ")
        )));
    }
    let out = OutputDir::prepare(&p.output, &inputs.roots(), p.overwrite)?;
    let engine = inputs.engine(p.partitions)?;
    let skip = p.read.skip_bad_rows;
    // Every statement below starts from the same parameters: the rows, the text and label
    // expressions, the seed and the splits.
    let mut params = Params::default();
    let rows = inputs.rows_cte(&mut params);
    let mut value = |expr: &str, what: &str| {
        let v = format!("jq(_json, {})", params.str(expr));
        if skip {
            v
        } else {
            let what = params.str(format!("{what} (`{expr}`)"));
            format!("require_value({v}, {what}, _path, _row)")
        }
    };
    let label_sql = format!("label({}, '.')", value(label, "label"));
    let text_sql = value(text, "text");
    let seed = params.int(p.seed);
    let key = format!("seeded_random({seed}, _dir, _file, _row)");
    let order = format!("seeded_random({seed}, _dir, _file, _row, 'order')");
    let in_splits = format!(
        "_split IN ({})",
        splits
            .iter()
            .map(|s| params.str(*s))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 1. Labels per split (texts are checked here, once).
    let count_sql = params.clone().query(format!(
        "{rows} SELECT _split, {label_sql} AS label, count({text_sql}) AS n, \
         CAST(sum(octet_length(_json)) AS BIGINT) AS bytes FROM rows \
         WHERE {in_splits} GROUP BY 1, 2 ORDER BY 1, 2"
    ));
    observer.statement(&format!("{};", count_sql.display()));
    let mut per_split: BTreeMap<String, BTreeMap<Option<String>, LabelCut>> = BTreeMap::new();
    for b in engine.query(&count_sql).await?.collect().await? {
        let (s, l, n, bytes) = (
            b.column(0).as_string::<i32>(),
            arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Utf8)?,
            b.column(2).as_primitive::<Int64Type>(),
            b.column(3).as_primitive::<Int64Type>(),
        );
        let l = l.as_string::<i32>();
        for i in 0..b.num_rows() {
            let label = (!l.is_null(i)).then(|| l.value(i).to_string());
            per_split.entry(s.value(i).to_string()).or_default().insert(
                label,
                LabelCut {
                    rows: n.value(i) as u64,
                    bytes: bytes.value(i) as u64,
                    cut: None,
                },
            );
        }
    }
    let skipped: u64 = per_split
        .values_mut()
        .filter_map(|labels| labels.remove(&None))
        .map(|c| c.rows)
        .sum();
    let targets: BTreeMap<String, u64> = per_split
        .iter()
        .filter_map(|(s, labels)| Some((s.clone(), labels.values().map(|c| c.rows).min()?)))
        .collect();

    // 2. The key cut-off of each label: its target-th smallest key.
    if !targets.is_empty() {
        let mut params = params.clone();
        let target_rows: Vec<String> = targets
            .iter()
            .map(|(s, k)| format!("({}, {})", params.str(s), params.int(*k as i64)))
            .collect();
        let cut_sql = params.query(format!(
            "{rows}, keyed AS (SELECT _split, {label_sql} AS label, {key} AS k FROM rows WHERE {in_splits}), \
             ranked AS (SELECT _split, label, k, row_number() OVER (PARTITION BY _split, label ORDER BY k) AS n FROM keyed) \
             SELECT r._split, r.label, max(r.k) AS cut FROM ranked r JOIN (VALUES {}) AS target(split, rows) \
             ON r._split = target.split WHERE r.label IS NOT NULL AND r.n <= target.rows GROUP BY 1, 2 ORDER BY 1, 2",
            target_rows.join(", ")
        ));
        observer.statement(&format!("{};", cut_sql.display()));
        for b in engine.query(&cut_sql).await?.collect().await? {
            let (s, l, c) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
                b.column(2).as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if let Some(cut) = per_split
                    .get_mut(s.value(i))
                    .and_then(|m| m.get_mut(&Some(l.value(i).to_string())))
                {
                    cut.cut = Some(c.value(i));
                }
            }
        }
    }

    // 3. Each split's kept rows, shuffled, with the text and label written under their keys.
    let identity = *text == field_path(text_key) && *label == field_path(label_key);
    let row_program = (!identity).then(|| {
        format!(
            ". + {{{}: first({text}), {}: first({label})}}",
            serde_json::Value::String(text_key.clone()),
            serde_json::Value::String(label_key.clone())
        )
    });
    let mut written = Written::default();
    let mut summary = Vec::new();
    for (split, labels) in &per_split {
        let mut params = params.clone();
        let row_sql = match &row_program {
            None => "_json".to_string(),
            Some(program) => format!("jq(_json, {})", params.str(program)),
        };
        let cases: Vec<String> = labels
            .iter()
            .filter_map(|(l, c)| {
                let (l, cut) = (l.as_ref()?, c.cut?);
                Some(format!("WHEN {} THEN {}", params.str(l), params.float(cut)))
            })
            .collect();
        if cases.is_empty() {
            continue;
        }
        let split_param = params.str(split);
        let write_sql = params.query(format!(
            "{rows} SELECT {order} AS k, {row_sql} AS _json FROM rows WHERE _split = {split_param} \
             AND {key} <= CASE {label_sql} {} ELSE -1.0 END",
            cases.join(" ")
        ));
        observer.statement(&format!(
            "{};\n-- written in order of k (an external shuffle)",
            write_sql.display()
        ));
        let target = targets[split];
        let kept_bytes: u64 = labels
            .values()
            .map(|c| (c.bytes as f64 * target as f64 / c.rows.max(1) as f64) as u64)
            .sum();
        let dir = out.path().join(split);
        let plan = (0u64..).map(|k| (dir.join(format!("shard_{k:05}.jsonl.zst")), SHARD_ROWS));
        let open = |_| {
            Ok(ShardedWriter::new(
                plan,
                OutputFormat::Jsonl(Codec::Zstd),
                shuffle::schema(),
            ))
        };
        let w = shuffle::shuffle_into(
            &engine,
            &write_sql,
            kept_bytes,
            out.path(),
            open,
            observer.progress(inputs.bytes(), &format!("balance {split}")),
        )
        .await?;
        let expected = targets[split] * labels.len() as u64;
        if w.rows() != expected {
            return Err(PickError::Failed(format!(
                "{split}: wrote {} rows where {expected} were chosen (two rows with the same key?)",
                w.rows()
            )));
        }
        for (l, c) in labels {
            summary.push(LabelRows {
                split: split.clone(),
                label: l.clone().unwrap_or_default(),
                before: c.rows,
                after: targets[split],
            });
        }
        written.files.extend(w.files);
    }
    out.commit()?;
    Ok(BalanceReport {
        labels: summary,
        rows: written.rows(),
        files: written.files.len(),
        bytes: written.bytes(),
        bad_rows: inputs.bad_rows() + skipped,
    })
}

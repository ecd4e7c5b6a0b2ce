//! `pick transform-dataset`: each row rebuilt from two jq expressions, `{**T(row), **L(row)}`,
//! shard for shard (bonepick §7.1): `jq_merge`. The work is one SQL statement (`--show-sql`).

use std::path::PathBuf;
use std::sync::Arc;

use pick_jq::Program;
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{Mirror, Mirrored, ShardQuery, mirror};
use crate::plan::Params;
use crate::plan::rows::required_value;
use crate::session::Exec;
use crate::write::OutputDir;

#[derive(Debug, Clone)]
pub struct TransformParams {
    pub input: String,
    pub output: PathBuf,
    pub text_transform: String,
    pub label_transform: String,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
    /// Where the shards are read, transformed and written.
    pub exec: Exec,
}

#[derive(Debug, Serialize)]
pub struct TransformReport {
    pub written: Mirrored,
    /// Rows read whose transforms gave nothing (left out under `--skip-bad-rows`).
    pub dropped: u64,
}

pub async fn run(p: &TransformParams, observer: &dyn Observer) -> Result<TransformReport> {
    for (flag, expr) in [
        ("-t/--text-transform", &p.text_transform),
        ("-l/--label-transform", &p.label_transform),
    ] {
        Program::compile(expr).map_err(|e| PickError::Usage(format!("{flag}: {e}")))?;
    }
    let dataset = Arc::new(Dataset::open(&p.input, p.read.clone())?);
    let mut params = Params::default();
    let rebuilt = format!(
        "jq_merge(_json, {}, {})",
        params.str(p.text_transform.clone()),
        params.str(p.label_transform.clone())
    );
    // A column named `_json` is written as the row itself.
    let query = if p.read.skip_bad_rows {
        let mut q = ShardQuery::new("_json", params);
        q.from = format!("(SELECT {rebuilt} AS _json, _file, _row FROM t)");
        q.filter = Some("_json IS NOT NULL".into());
        q
    } else {
        let row = required_value(&mut params, &dataset, &rebuilt, "output of the transforms");
        ShardQuery::new(format!("{row} AS _json"), params)
    };
    let out = OutputDir::prepare_for(
        &p.output,
        std::slice::from_ref(&dataset.root),
        p.overwrite,
        !p.exec.is_local(),
    )?;
    let written = mirror(
        Mirror {
            dataset: Arc::clone(&dataset),
            query,
            output: out.path(),
            format: None,
            partitions: p.partitions,
            verb: "transform",
            exec: p.exec.clone(),
        },
        observer,
    )
    .await?;
    out.commit()?;
    let read = dataset
        .stats
        .rows
        .load(std::sync::atomic::Ordering::Relaxed);
    Ok(TransformReport {
        dropped: if p.read.skip_bad_rows {
            read.saturating_sub(written.rows)
        } else {
            0
        },
        written,
    })
}

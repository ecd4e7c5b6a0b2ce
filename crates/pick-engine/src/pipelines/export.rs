//! `pick export`: a dataset copied to Parquet or JSON lines, shard for shard, with the same
//! relative layout (`train/a.jsonl.zst` → `train/a.parquet`).

use std::path::PathBuf;
use std::sync::Arc;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::Result;
use crate::observe::Observer;
use crate::ops::{Mirror, Mirrored, ShardQuery, mirror};
use crate::plan::{Params, ident, rows::fields};
use crate::session::Exec;
use crate::write::{OutputDir, OutputFormat};

#[derive(Debug, Clone)]
pub struct ExportParams {
    pub input: String,
    pub output: PathBuf,
    pub format: OutputFormat,
    /// A SQL condition the user wrote (`--where`): user SQL by design, so it is written into
    /// the statement as it is.
    pub filter: Option<String>,
    /// Top-level fields to keep; all when empty.
    pub columns: Vec<String>,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
    /// Where the shards are read, filtered and written (a cluster: one job).
    pub exec: Exec,
}

pub async fn run(p: &ExportParams, observer: &dyn Observer) -> Result<Mirrored> {
    let dataset = Arc::new(Dataset::open(&p.input, p.read.clone())?);
    let select: Vec<String> = if p.columns.is_empty() {
        fields(&dataset).into_iter().map(ident).collect()
    } else {
        p.columns.iter().map(|c| ident(c.trim())).collect()
    };
    let mut query = ShardQuery::new(select.join(", "), Params::default());
    query.filter = p.filter.clone();
    let out = OutputDir::prepare_for(
        &p.output,
        std::slice::from_ref(&dataset.root),
        p.overwrite,
        !p.exec.is_local(),
    )?;
    let written = mirror(
        Mirror {
            dataset,
            query,
            output: out.path(),
            format: Some(p.format),
            partitions: p.partitions,
            verb: "export",
            exec: p.exec.clone(),
        },
        observer,
    )
    .await?;
    out.commit()?;
    Ok(written)
}

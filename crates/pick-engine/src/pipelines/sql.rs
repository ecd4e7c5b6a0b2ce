//! `pick sql`: the user's statements over datasets registered by name (or read by path in
//! FROM), run in order. The last statement's result is streamed to a sink (a file or standard
//! output); table results are handed back to the caller to present.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::RecordBatch;
use futures::TryStreamExt;
use serde::Serialize;

use crate::dataset::ReadOptions;
use crate::error::Result;
use crate::session::Engine;
use crate::session::Exec;
use crate::write::{FileSink, OutputFormat};

#[derive(Debug, Clone)]
pub struct SqlParams {
    /// The user's SQL: statements separated by `;`.
    pub query: String,
    /// Tables to register: name, then a directory, shard or glob.
    pub datasets: Vec<(String, String)>,
    pub read: ReadOptions,
    /// Where the statements run.
    pub exec: Exec,
}

/// Where results go.
#[derive(Debug, Clone)]
pub enum SqlOutput {
    /// Every statement's rows, collected, to the caller (a terminal table).
    Table,
    /// The last statement's rows streamed in `format` to a file, or to standard output.
    Stream {
        format: OutputFormat,
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Default, Serialize)]
pub struct SqlReport {
    /// Rows the last statement wrote (for `Stream`).
    pub rows: Option<u64>,
    /// Rows skipped as unreadable, per table (`--skip-bad-rows`).
    pub bad_rows: Vec<(String, u64)>,
}

/// Runs every statement; with `SqlOutput::Table`, `on_table(batches, last)` gets each
/// statement's result.
pub async fn run(
    p: &SqlParams,
    output: &SqlOutput,
    mut on_table: impl FnMut(&[RecordBatch], bool) -> Result<()>,
) -> Result<SqlReport> {
    let engine = Engine::open(p.read.clone(), 0, &p.exec).await?;
    for (name, dir) in &p.datasets {
        engine.register_for(name, dir, &p.query)?;
    }
    let frames = engine.run_sql(&p.query).await?;
    let count = frames.len();
    let mut report = SqlReport::default();
    for (i, df) in frames.into_iter().enumerate() {
        let last = i + 1 == count;
        let (format, path) = match output {
            SqlOutput::Table => {
                let batches = df.collect().await?;
                on_table(&batches, last)?;
                continue;
            }
            SqlOutput::Stream { format, path } => (*format, path),
        };
        if !last {
            df.collect().await?;
            continue;
        }
        let schema = Arc::new(df.schema().as_arrow().clone());
        let mut stream = df.execute_stream().await?;
        let mut sink = match path {
            Some(path) => FileSink::create(path, format, schema)?,
            None => FileSink::stdout(format, schema)?,
        };
        while let Some(batch) = stream.try_next().await? {
            sink.write(&batch)?;
        }
        report.rows = Some(sink.finish()?);
    }
    for (name, dataset) in engine.datasets() {
        let bad = dataset.stats.bad_rows.load(Ordering::Relaxed);
        if bad > 0 {
            report.bad_rows.push((name, bad));
        }
    }
    Ok(report)
}

//! The one per-shard runner. A query over table `t` runs on each shard of a dataset on its own
//! session (every core within the shard), rows in file order (`ORDER BY _row`, which the runner
//! adds: callers give the parts of the statement, not a statement to append to). Two ways out:
//! `stream_in_order` hands every batch of every shard, in dataset order, to one consumer;
//! `mirror` writes each shard to its own output file (shards in parallel), which is how the
//! commands whose output mirrors their input layout work.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::{StreamExt, TryStreamExt};

use crate::dataset::{Dataset, Shard, ShardFormat};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::plan::Query;
use crate::session::{Engine, Exec};
use crate::write::sink::{FileSink, OutputFormat};

/// A statement over table `t` (one shard at a time) as its parts; the runner writes
/// `SELECT {select} FROM {from} [WHERE {filter}] ORDER BY _row` with the values in `params`.
#[derive(Debug, Clone)]
pub struct ShardQuery {
    pub select: String,
    /// `t`, or a subquery over `t` that keeps `_row`.
    pub from: String,
    pub filter: Option<String>,
    pub params: crate::plan::Params,
}

impl ShardQuery {
    pub fn new(select: impl Into<String>, params: crate::plan::Params) -> ShardQuery {
        ShardQuery {
            select: select.into(),
            from: "t".into(),
            filter: None,
            params,
        }
    }

    pub fn query(&self) -> Query {
        let mut text = format!("SELECT {} FROM {}", self.select, self.from);
        if let Some(f) = &self.filter {
            text.push_str(" WHERE ");
            text.push_str(f);
        }
        text.push_str(" ORDER BY _row");
        self.params.clone().query(text)
    }
}

/// A session over one shard of `dataset`, registered as `t`.
pub fn shard_engine(dataset: &Dataset, shard: &Arc<Shard>, partitions: usize) -> Result<Engine> {
    let engine = Engine::new(dataset.options.clone(), partitions)?;
    engine.register_dataset("t", dataset.subset(vec![Arc::clone(shard)]))?;
    Ok(engine)
}

/// `shard_engine`, or its query's session where `exec` says.
async fn shard_engine_at(
    dataset: &Dataset,
    shard: &Arc<Shard>,
    partitions: usize,
    exec: &Exec,
) -> Result<Engine> {
    if exec.is_local() {
        return shard_engine(dataset, shard, partitions);
    }
    let engine = Engine::open(dataset.options.clone(), partitions, exec).await?;
    engine.register_dataset("t", dataset.subset(vec![Arc::clone(shard)]))?;
    Ok(engine)
}

async fn shard_stream(
    dataset: &Dataset,
    shard: &Arc<Shard>,
    partitions: usize,
    query: &Query,
) -> Result<SendableRecordBatchStream> {
    let engine = shard_engine(dataset, shard, partitions)?;
    Ok(engine.query(query).await?.execute_stream().await?)
}

/// Runs `query` on `shards` of `dataset` one after another and calls `f` on every batch, in
/// shard and row order. `progress` (if any) advances by each shard's size.
pub async fn stream_in_order(
    dataset: &Dataset,
    shards: &[Arc<Shard>],
    partitions: usize,
    query: &Query,
    progress: Option<&dyn crate::observe::Progress>,
    mut f: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    for shard in shards {
        let mut stream = shard_stream(dataset, shard, partitions, query).await?;
        while let Some(batch) = stream.try_next().await? {
            f(&batch)?;
        }
        if let Some(p) = progress {
            p.inc(shard.size);
        }
    }
    Ok(())
}

/// What `mirror` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Mirrored {
    pub rows: u64,
    pub shards: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Rows the scan skipped as unreadable (`--skip-bad-rows`).
    pub bad_rows: u64,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A dataset rewritten shard for shard.
pub struct Mirror<'a> {
    pub dataset: Arc<Dataset>,
    pub query: ShardQuery,
    pub output: &'a Path,
    /// `None` keeps each shard's own format and file name.
    pub format: Option<OutputFormat>,
    /// Threads per shard; 0 = all cores.
    pub partitions: usize,
    /// The progress bar's label.
    pub verb: &'a str,
    /// Where each shard's query runs; this process writes.
    pub exec: Exec,
}

/// The shard's relative path with its format suffix replaced by `suffix`.
pub fn output_name(rel: &str, suffix: &str) -> String {
    const KNOWN: &[&str] = &[
        ".jsonl.zstd",
        ".jsonl.zst",
        ".jsonl.gzip",
        ".jsonl.gz",
        ".json.zstd",
        ".json.zst",
        ".json.gzip",
        ".json.gz",
        ".jsonl",
        ".json",
        ".parquet",
        ".arrow",
    ];
    let stem = KNOWN
        .iter()
        .find_map(|s| rel.strip_suffix(s))
        .unwrap_or(rel);
    format!("{stem}{suffix}")
}

/// Where a shard goes and in which format.
fn destination(shard: &Shard, format: Option<OutputFormat>) -> (String, OutputFormat) {
    match format {
        Some(f) => (output_name(&shard.rel, f.suffix()), f),
        // pick writes no Arrow IPC: Arrow shards become Parquet ones.
        None if shard.format == ShardFormat::Arrow => (
            output_name(&shard.rel, OutputFormat::Parquet.suffix()),
            OutputFormat::Parquet,
        ),
        None => (
            shard.rel.clone(),
            match shard.format {
                ShardFormat::JsonLines(codec) => OutputFormat::Jsonl(codec),
                ShardFormat::Parquet | ShardFormat::Arrow => OutputFormat::Parquet,
            },
        ),
    }
}

pub async fn mirror(m: Mirror<'_>, observer: &dyn Observer) -> Result<Mirrored> {
    let started = Instant::now();
    let dataset = &m.dataset;
    let query = m.query.query();
    observer.statement(&format!("{};", query.display()));

    // Two inputs may map to one output name (a.jsonl and a.jsonl.zst): refuse before writing.
    let mut names: Vec<(String, &Shard)> = dataset
        .shards
        .iter()
        .map(|s| (destination(s, m.format).0, s.as_ref()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = names.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(PickError::Usage(format!(
            "{} and {} would both be written to {}",
            w[0].1.rel, w[1].1.rel, w[0].0
        )));
    }

    // Check the statement once, against the whole dataset, before any file is written.
    {
        let engine = Engine::new(dataset.options.clone(), 1)?;
        engine.register_dataset("t", dataset.subset(dataset.shards.clone()))?;
        engine.query(&query).await?;
    }

    let bytes_in: u64 = dataset.shards.iter().map(|s| s.size).sum();
    let bar = observer.progress(bytes_in, m.verb);
    let results: Vec<(u64, u64)> = futures::stream::iter(dataset.shards.iter().cloned())
        .map(|shard| {
            let (dataset, query, output, bar) = (
                Arc::clone(dataset),
                query.clone(),
                PathBuf::from(m.output),
                Arc::clone(&bar),
            );
            let partitions = m.partitions;
            let format = m.format;
            let exec = m.exec.clone();
            // Spawned, so each shard's writing (and compressing) runs on its own worker
            // rather than on the thread that polls them all.
            tokio::spawn(async move {
                let (name, format) = destination(&shard, format);
                let dest = output.join(name);
                let engine = shard_engine_at(&dataset, &shard, partitions, &exec).await?;
                let df = engine.query(&query).await?;
                let schema = Arc::new(df.schema().as_arrow().clone());
                let mut stream = df.execute_stream().await?;
                let rows = if format == OutputFormat::Parquet && is_row_text(&schema) {
                    rows_to_parquet(stream, &dest, partitions).await?
                } else {
                    let mut sink = FileSink::create(&dest, format, schema)?;
                    while let Some(batch) = stream.try_next().await? {
                        sink.write(&batch)?;
                    }
                    sink.finish()?
                };
                bar.inc(shard.size);
                let written = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
                Ok::<_, PickError>((rows, written))
            })
        })
        .map(|task| async {
            task.await
                .map_err(|e| PickError::Failed(format!("a shard's task failed: {e}")))?
        })
        // Each shard already uses every core; a second one in flight hides per-shard start-up
        // (not with one thread asked for: then one thread it is).
        .buffer_unordered(if m.partitions == 1 { 1 } else { 2 })
        .try_collect()
        .await?;
    bar.finish();
    Ok(Mirrored {
        rows: results.iter().map(|r| r.0).sum(),
        shards: dataset.shards.len(),
        bytes_in,
        bytes_out: results.iter().map(|r| r.1).sum(),
        bad_rows: dataset.stats.bad_rows.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    })
}

/// A result that is whole rows as JSON text (a lone `_json` column), as transforms give.
fn is_row_text(schema: &arrow::datatypes::Schema) -> bool {
    schema.fields().len() == 1 && schema.field(0).name() == "_json"
}

/// Rows given as JSON text written as Parquet with their own columns (not one text column):
/// the shard's rows go to a hidden JSON-lines file beside `dest`, are read back as a dataset
/// (the schema inferred from every row), and written as Parquet.
async fn rows_to_parquet(
    mut stream: SendableRecordBatchStream,
    dest: &Path,
    partitions: usize,
) -> Result<u64> {
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("rows");
    let text = dest.with_file_name(format!(".{name}.{}.rows.jsonl", std::process::id()));
    struct Remove<'a>(&'a Path);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _remove = Remove(&text);
    let mut sink = FileSink::create(
        &text,
        OutputFormat::Jsonl(crate::dataset::Codec::Plain),
        stream.schema(),
    )?;
    while let Some(batch) = stream.try_next().await? {
        sink.write(&batch)?;
    }
    if sink.finish()? == 0 {
        // No rows, no columns to give them: an empty file of the one text column.
        let sink = FileSink::create(dest, OutputFormat::Parquet, stream.schema())?;
        return sink.finish();
    }
    let options = crate::dataset::ReadOptions {
        skip_bad_rows: false,
        infer_rows: crate::dataset::InferRows(None),
    };
    let rows = Dataset::open(&text.to_string_lossy(), options)?;
    let select: Vec<String> = crate::plan::rows::fields(&rows)
        .into_iter()
        .map(crate::plan::ident)
        .collect();
    let engine = Engine::new(rows.options.clone(), partitions)?;
    engine.register_dataset("t", rows)?;
    let df = engine
        .sql(&format!(
            "SELECT {} FROM t ORDER BY _row",
            select.join(", ")
        ))
        .await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await?;
    let mut sink = FileSink::create(dest, OutputFormat::Parquet, schema)?;
    while let Some(batch) = stream.try_next().await? {
        sink.write(&batch)?;
    }
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_swap_suffix() {
        assert_eq!(
            output_name("train/a.jsonl.zst", ".parquet"),
            "train/a.parquet"
        );
        assert_eq!(output_name("b.00.json.gz", ".jsonl"), "b.00.jsonl");
        assert_eq!(output_name("c.parquet", ".jsonl.zst"), "c.jsonl.zst");
    }
}

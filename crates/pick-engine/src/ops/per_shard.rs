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
use crate::ops::mirror_job::{self, MirrorSpec};
use crate::ops::shard_writer::ShardWriter;
use crate::plan::Query;
use crate::session::{Engine, Exec};
use crate::write::sink::{OutputFormat, zstd_level};
use arrow::datatypes::SchemaRef;

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
        self.statement("", true)
    }

    /// The statement with `extra` columns after the select list (`, a, b`), in row order or
    /// not.
    pub fn statement(&self, extra: &str, ordered: bool) -> Query {
        let mut text = format!("SELECT {}{extra} FROM {}", self.select, self.from);
        if let Some(f) = &self.filter {
            text.push_str(" WHERE ");
            text.push_str(f);
        }
        if ordered {
            text.push_str(" ORDER BY _row");
        }
        self.params.clone().query(text)
    }
}

/// A session over one shard of `dataset`, registered as `t`.
pub fn shard_engine(dataset: &Dataset, shard: &Arc<Shard>, partitions: usize) -> Result<Engine> {
    let engine = Engine::new(dataset.options.clone(), partitions)?;
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
    /// Threads per shard; 0 = all cores. On a cluster: the job's tasks; 0 = one per slot.
    pub partitions: usize,
    /// The progress bar's label.
    pub verb: &'a str,
    /// Where the shards are read and written: this process, or a cluster (one job).
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
    let results = match &m.exec {
        Exec::Local => mirror_here(&m, &query, &bar).await?,
        Exec::Cluster(_) => {
            let results = mirror_on_cluster(&m).await?;
            bar.inc(bytes_in);
            results
        }
    };
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

/// Each shard on a session of its own in this process, two at a time.
async fn mirror_here(
    m: &Mirror<'_>,
    query: &Query,
    bar: &Arc<dyn crate::observe::Progress>,
) -> Result<Vec<(u64, u64)>> {
    let dataset = &m.dataset;
    futures::stream::iter(dataset.shards.iter().cloned())
        .map(|shard| {
            let (dataset, query, output, bar) = (
                Arc::clone(dataset),
                query.clone(),
                PathBuf::from(m.output),
                Arc::clone(bar),
            );
            let partitions = m.partitions;
            let format = m.format;
            // Spawned, so each shard's writing (and compressing) runs on its own worker
            // rather than on the thread that polls them all.
            tokio::spawn(async move {
                let (name, format) = destination(&shard, format);
                let dest = output.join(name);
                let engine = shard_engine(&dataset, &shard, partitions)?;
                let df = engine.query(&query).await?;
                let schema = Arc::new(df.schema().as_arrow().clone());
                let mut stream = df.execute_stream().await?;
                let mut writer = ShardWriter::create(&dest, format, schema, zstd_level())?;
                while let Some(batch) = stream.try_next().await? {
                    writer.write(&batch)?;
                }
                let rows = writer.finish(partitions).await?;
                bar.inc(shard.size);
                let written = mirror_job::written_size(&dest);
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
        .await
}

/// The whole dataset as one cluster job, writing into `m.output`; the shards the statement
/// left no rows of are written here, empty, as a local run writes them.
async fn mirror_on_cluster(m: &Mirror<'_>) -> Result<Vec<(u64, u64)>> {
    let dataset = &m.dataset;
    let dir = m.output.to_string_lossy().into_owned();
    let files = dataset
        .shards
        .iter()
        .map(|s| {
            let (name, format) = destination(s, m.format);
            (s.rel.clone(), (name, format.suffix().to_string()))
        })
        .collect();
    let spec = MirrorSpec {
        dir,
        files,
        zstd_level: zstd_level(),
    };
    let written = mirror_job::run(dataset, &m.query, spec, m.partitions, &m.exec).await?;
    let mut results = Vec::with_capacity(dataset.shards.len());
    let mut schema = None;
    let local = !crate::store::is_url_path(m.output);
    for shard in &dataset.shards {
        if let Some(&w) = written.get(&shard.rel) {
            let dest = m.output.join(destination(shard, m.format).0);
            if local && !dest.is_file() {
                return Err(PickError::Usage(format!(
                    "the cluster wrote {} where this machine cannot see it: with --cluster, \
                     write to a file system every node shares, or to an object store",
                    dest.display()
                )));
            }
            results.push(w);
            continue;
        }
        let schema = match &schema {
            Some(s) => Arc::clone(s),
            None => {
                let engine = Engine::new(dataset.options.clone(), 1)?;
                engine.register_dataset("t", dataset.subset(vec![Arc::clone(shard)]))?;
                let df = engine.query(&m.query.query()).await?;
                let s: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                schema.insert(s).clone()
            }
        };
        let (name, format) = destination(shard, m.format);
        let dest = m.output.join(name);
        let writer = ShardWriter::create(&dest, format, schema, zstd_level())?;
        let rows = writer.finish(1).await?;
        results.push((rows, mirror_job::written_size(&dest)));
    }
    if local {
        // What an executor killed mid-file left (its temporary files) is not output.
        let keep: std::collections::BTreeSet<PathBuf> = dataset
            .shards
            .iter()
            .map(|s| m.output.join(destination(s, m.format).0))
            .collect();
        remove_unlisted(m.output, &keep)?;
    }
    Ok(results)
}

/// Removes every file under `dir` that is not in `keep`.
fn remove_unlisted(dir: &Path, keep: &std::collections::BTreeSet<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| PickError::io(dir, e))? {
        let path = entry.map_err(|e| PickError::io(dir, e))?.path();
        if path.is_dir() {
            remove_unlisted(&path, keep)?;
        } else if !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(|e| PickError::io(&path, e))?;
        }
    }
    Ok(())
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

//! Shard-for-shard rewriting, shared by the commands whose output mirrors their input layout
//! (`export`, `normalize-dataset`, ...): one SQL statement over table `t`, run on each shard with
//! every core, rows kept in file order, each output written under a temporary name.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};

use crate::dataset::sink::{FileSink, OutputFormat};
use crate::dataset::{Dataset, Shard, ShardFormat};
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::{human_bytes, progress};

/// Input, output and threads of a command that rewrites a dataset shard for shard.
#[derive(Debug, clap::Args)]
pub struct MirrorArgs {
    /// Dataset to read (a directory, a shard, or a glob).
    #[arg(short = 'i', long = "input-dir", value_name = "DIR")]
    pub input: String,

    /// Directory to write; relative paths, names and compression are kept.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: crate::cli::ReadArgs,
}

pub struct Mirror<'a> {
    pub dataset: Arc<Dataset>,
    /// A query over table `t` (one shard at a time); rows come out in file order.
    pub sql: String,
    pub output: &'a Path,
    /// `None` keeps each shard's own format and file name.
    pub format: Option<OutputFormat>,
    /// Threads per shard; 0 = all cores.
    pub partitions: usize,
    pub verb: &'a str,
    /// Print the statement as it runs on each shard.
    pub show_sql: bool,
}

pub struct Mirrored {
    pub rows: u64,
    pub shards: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub elapsed: Duration,
}

impl Mirrored {
    pub fn report(&self, verb: &str, dataset: &Dataset, output: &Path) {
        eprintln!(
            "{verb} {} rows from {} shards ({}) to {} ({}) in {:.2}s",
            self.rows,
            self.shards,
            human_bytes(self.bytes_in as f64),
            output.display(),
            human_bytes(self.bytes_out as f64),
            self.elapsed.as_secs_f64()
        );
        let bad = dataset.stats.bad_rows.load(Ordering::Relaxed);
        if bad > 0 {
            eprintln!("skipped {bad} bad row{}", if bad == 1 { "" } else { "s" });
        }
    }
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

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
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

pub async fn mirror(m: Mirror<'_>, quiet: bool) -> Result<Mirrored> {
    let started = Instant::now();
    let dataset = &m.dataset;
    let sql = format!("{} ORDER BY _row", m.sql);
    if m.show_sql {
        println!("{sql};");
    }

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
    if dataset
        .shards
        .iter()
        .any(|s| m.output.join(&s.rel) == s.path)
    {
        return Err(PickError::Usage(format!(
            "the output directory {} is the input: choose another",
            m.output.display()
        )));
    }

    // Check the SQL once, against the whole dataset, before any file is written.
    {
        let engine = Engine::new(dataset.options.clone(), 1);
        engine.register_dataset("t", dataset.subset(dataset.shards.clone()))?;
        engine.sql(&sql).await?;
    }

    let bytes_in: u64 = dataset.shards.iter().map(|s| s.size).sum();
    let bar = progress(bytes_in, m.verb, quiet);
    let results: Vec<(u64, u64)> = futures::stream::iter(dataset.shards.iter().cloned())
        .map(|shard| {
            let (dataset, sql, output, bar) = (
                Arc::clone(dataset),
                sql.clone(),
                PathBuf::from(m.output),
                bar.clone(),
            );
            let partitions = m.partitions;
            let format = m.format;
            // Spawned, so each shard's writing (and compressing) runs on its own worker
            // rather than on the thread that polls them all.
            tokio::spawn(async move {
                let (name, format) = destination(&shard, format);
                let dest = output.join(name);
                let engine = Engine::new(dataset.options.clone(), partitions);
                engine.register_dataset("t", dataset.subset(vec![Arc::clone(&shard)]))?;
                let df = engine.sql(&sql).await?;
                let schema = Arc::new(df.schema().as_arrow().clone());
                let mut stream = df.execute_stream().await?;
                let mut sink = FileSink::create(&dest, format, schema)?;
                while let Some(batch) = stream.try_next().await? {
                    sink.write(&batch)?;
                }
                let rows = sink.finish()?;
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
    bar.finish_and_clear();
    Ok(Mirrored {
        rows: results.iter().map(|r| r.0).sum(),
        shards: dataset.shards.len(),
        bytes_in,
        bytes_out: results.iter().map(|r| r.1).sum(),
        elapsed: started.elapsed(),
    })
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

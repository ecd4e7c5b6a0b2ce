//! `pick export`: a dataset copied to Parquet or JSON lines, shard for shard, with the same
//! relative layout (`train/a.jsonl.zst` → `train/a.parquet`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::{Args, ValueEnum};
use futures::{StreamExt, TryStreamExt};

use crate::cli::ReadArgs;
use crate::dataset::sink::{FileSink, OutputFormat};
use crate::dataset::{Codec, Dataset, Shard};
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::{human_bytes, progress};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Dataset to read (a directory, a shard, or a glob).
    #[arg(short = 'i', long = "input-dir", value_name = "DIR")]
    pub input: String,

    /// Directory to write; the input's relative layout is kept.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    #[arg(short = 'f', long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,

    /// Keep only rows where this SQL expression is true, e.g. "metadata.quality.score >= 3".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,

    /// Columns to keep (comma-separated top-level fields); all by default.
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    pub columns: Vec<String>,

    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Jsonl,
    #[value(name = "jsonl.zst")]
    JsonlZst,
    #[value(name = "jsonl.gz")]
    JsonlGz,
}

impl ExportFormat {
    fn output(self) -> OutputFormat {
        match self {
            ExportFormat::Parquet => OutputFormat::Parquet,
            ExportFormat::Jsonl => OutputFormat::Jsonl(Codec::Plain),
            ExportFormat::JsonlZst => OutputFormat::Jsonl(Codec::Zstd),
            ExportFormat::JsonlGz => OutputFormat::Jsonl(Codec::Gzip),
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
    ];
    let stem = KNOWN
        .iter()
        .find_map(|s| rel.strip_suffix(s))
        .unwrap_or(rel);
    format!("{stem}{suffix}")
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub async fn run(args: ExportArgs, quiet: bool) -> Result<()> {
    let started = Instant::now();
    let options = args.read.options();
    let dataset = Arc::new(Dataset::open(&args.input, options.clone())?);
    let format = args.format.output();

    let select = if args.columns.is_empty() {
        (0..dataset.layout.data_fields)
            .map(|i| quote_ident(dataset.layout.schema.field(i).name()))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        args.columns
            .iter()
            .map(|c| quote_ident(c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sql = format!("SELECT {select} FROM t");
    if let Some(filter) = &args.filter {
        sql.push_str(&format!(" WHERE {filter}"));
    }

    // Two inputs may map to one output name (a.jsonl and a.jsonl.zst): refuse before writing.
    let mut names: Vec<(String, &Shard)> = dataset
        .shards
        .iter()
        .map(|s| (output_name(&s.rel, format.suffix()), s.as_ref()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = names.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(PickError::Usage(format!(
            "{} and {} would both be written to {}",
            w[0].1.rel, w[1].1.rel, w[0].0
        )));
    }

    // Check the SQL once, against the whole dataset, before any file is written.
    {
        let engine = Engine::new(options.clone(), 1);
        engine.register_dataset("t", dataset.subset(dataset.shards.clone()))?;
        engine.sql(&sql).await?;
    }

    let total: u64 = dataset.shards.iter().map(|s| s.size).sum();
    let bar = progress(total, "export", quiet);
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(u64, u64)> = futures::stream::iter(dataset.shards.iter().cloned())
        .map(|shard| {
            let (dataset, sql, options, output, bar) = (
                Arc::clone(&dataset),
                sql.clone(),
                options.clone(),
                args.output.clone(),
                bar.clone(),
            );
            async move {
                let dest = output.join(output_name(&shard.rel, format.suffix()));
                let engine = Engine::new(options, 1);
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
            }
        })
        .buffer_unordered(parallel)
        .try_collect()
        .await?;
    bar.finish_and_clear();

    if !quiet {
        let rows: u64 = results.iter().map(|r| r.0).sum();
        let written: u64 = results.iter().map(|r| r.1).sum();
        eprintln!(
            "exported {rows} rows from {} shards ({}) to {} ({}) in {:.2}s",
            dataset.shards.len(),
            human_bytes(total as f64),
            args.output.display(),
            human_bytes(written as f64),
            started.elapsed().as_secs_f64()
        );
        let bad = dataset.stats.bad_rows.load(Ordering::Relaxed);
        if bad > 0 {
            eprintln!("skipped {bad} bad row{}", if bad == 1 { "" } else { "s" });
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

//! `pick sql`: ad hoc SQL over datasets.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use futures::TryStreamExt;

use crate::cli::ReadArgs;
use crate::dataset::Codec;
use crate::dataset::sink::{FileSink, OutputFormat};
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::render_table;

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// SQL to run; several statements separated by `;` run in order.
    pub query: String,

    /// Register a dataset as a table: NAME=DIR (a directory, a shard, or a glob).
    #[arg(short = 'd', long = "dataset", value_name = "NAME=DIR", value_parser = parse_named)]
    pub datasets: Vec<(String, String)>,

    /// Output format; by default a terminal table, or the format -o's extension names.
    #[arg(short = 'f', long, value_enum)]
    pub format: Option<SqlFormat>,

    /// Write the result of the last statement to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows a terminal table shows.
    #[arg(long, default_value_t = 100)]
    pub max_rows: usize,

    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlFormat {
    Table,
    Csv,
    Json,
    Jsonl,
    Parquet,
}

fn parse_named(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, dir)) if !name.is_empty() && !dir.is_empty() => {
            Ok((name.to_string(), dir.to_string()))
        }
        _ => Err(format!("expected NAME=DIR, got `{s}`")),
    }
}

impl SqlFormat {
    fn from_path(path: &std::path::Path) -> Option<SqlFormat> {
        let name = path.file_name()?.to_str()?;
        Some(if name.ends_with(".parquet") {
            SqlFormat::Parquet
        } else if name.ends_with(".csv") {
            SqlFormat::Csv
        } else if name.ends_with(".json") {
            SqlFormat::Json
        } else if name.contains(".jsonl") {
            SqlFormat::Jsonl
        } else {
            return None;
        })
    }
}

pub async fn run(args: SqlArgs, quiet: bool) -> Result<()> {
    let engine = Engine::new(args.read.options(), 0);
    for (name, dir) in &args.datasets {
        engine.register(name, dir)?;
    }
    let format = match (args.format, &args.output) {
        (Some(f), _) => f,
        (None, Some(path)) => SqlFormat::from_path(path).ok_or_else(|| {
            PickError::Usage(format!(
                "cannot tell the format from {}; pass --format csv|json|jsonl|parquet",
                path.display()
            ))
        })?,
        (None, None) => SqlFormat::Table,
    };
    if format == SqlFormat::Parquet && args.output.is_none() {
        return Err(PickError::Usage("--format parquet needs -o FILE".into()));
    }
    if format == SqlFormat::Table && args.output.is_some() {
        return Err(PickError::Usage(
            "a table is for the terminal; pick --format csv|json|jsonl|parquet for -o".into(),
        ));
    }

    let frames = engine.run_sql(&args.query).await?;
    let count = frames.len();
    for (i, df) in frames.into_iter().enumerate() {
        let last = i + 1 == count;
        if format == SqlFormat::Table {
            let batches = df.collect().await?;
            if !batches.is_empty() || last {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", render_table(&batches, args.max_rows)?)
                    .and_then(|_| out.flush())
                    .map_err(|e| PickError::io("<stdout>", e))?;
            }
            continue;
        }
        if !last {
            df.collect().await?;
            continue;
        }
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        let mut stream = df.execute_stream().await?;
        let out_format = match format {
            SqlFormat::Csv => OutputFormat::Csv,
            SqlFormat::Json => OutputFormat::JsonArray,
            SqlFormat::Parquet => OutputFormat::Parquet,
            _ => OutputFormat::Jsonl(
                args.output
                    .as_deref()
                    .and_then(|p| p.to_str())
                    .map(Codec::from_name)
                    .unwrap_or(Codec::Plain),
            ),
        };
        let mut sink = match &args.output {
            Some(path) => FileSink::create(path, out_format, schema)?,
            None => FileSink::stdout(out_format, schema)?,
        };
        while let Some(batch) = stream.try_next().await? {
            sink.write(&batch)?;
        }
        let rows = sink.finish()?;
        if let (Some(path), false) = (&args.output, quiet) {
            eprintln!("wrote {rows} rows to {}", path.display());
        }
    }
    report_bad_rows(&engine, quiet);
    Ok(())
}

pub fn report_bad_rows(engine: &Engine, quiet: bool) {
    if quiet {
        return;
    }
    for (name, dataset) in engine.datasets() {
        let bad = dataset
            .stats
            .bad_rows
            .load(std::sync::atomic::Ordering::Relaxed);
        if bad > 0 {
            eprintln!(
                "skipped {bad} bad row{} in {name}",
                if bad == 1 { "" } else { "s" }
            );
        }
    }
}

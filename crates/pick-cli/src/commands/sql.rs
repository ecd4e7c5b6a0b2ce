//! `pick sql`: ad hoc SQL over datasets.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_engine::dataset::Codec;
use pick_engine::pipelines::sql::{SqlOutput, SqlParams, run as sql};
use pick_engine::write::OutputFormat;
use pick_engine::{PickError, Result};

use crate::args::{ClusterArgs, Globals, ReadArgs};
use crate::output::Out;
use crate::output::table::render_table;

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
    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 100)]
    pub max_rows: usize,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
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

pub async fn run(args: SqlArgs, g: Globals) -> Result<()> {
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
    let output = match format {
        SqlFormat::Table => SqlOutput::Table,
        SqlFormat::Csv => stream(OutputFormat::Csv, &args.output),
        SqlFormat::Json => stream(OutputFormat::JsonArray, &args.output),
        SqlFormat::Parquet => stream(OutputFormat::Parquet, &args.output),
        SqlFormat::Jsonl => stream(
            OutputFormat::Jsonl(
                args.output
                    .as_deref()
                    .and_then(|p| p.to_str())
                    .map(Codec::from_name)
                    .unwrap_or(Codec::Plain),
            ),
            &args.output,
        ),
    };
    let params = SqlParams {
        query: args.query,
        datasets: args.datasets,
        read: args.read.options(),
        exec: args.cluster.exec()?,
    };
    let report = sql(&params, &output, |batches, last| {
        if !batches.is_empty() || last {
            Out.line(render_table(batches, args.max_rows)?)?;
        }
        Ok(())
    })
    .await?;
    if g.quiet {
        return Ok(());
    }
    if let (Some(path), Some(rows)) = (&args.output, report.rows) {
        eprintln!("wrote {rows} rows to {}", path.display());
    }
    for (name, bad) in report.bad_rows {
        eprintln!(
            "skipped {bad} bad row{} in {name}",
            if bad == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

fn stream(format: OutputFormat, path: &Option<PathBuf>) -> SqlOutput {
    SqlOutput::Stream {
        format,
        path: path.clone(),
    }
}

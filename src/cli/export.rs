//! `pick export`: a dataset copied to Parquet or JSON lines, shard for shard, with the same
//! relative layout (`train/a.jsonl.zst` → `train/a.parquet`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use crate::cli::ReadArgs;
use crate::cli::mirror::{Mirror, mirror, quote_ident};
use crate::dataset::sink::OutputFormat;
use crate::dataset::{Codec, Dataset};
use crate::error::Result;

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

pub async fn run(args: ExportArgs, quiet: bool) -> Result<()> {
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

    let done = mirror(
        Mirror {
            dataset: Arc::clone(&dataset),
            sql,
            output: &args.output,
            format: Some(format),
            partitions: 0,
            verb: "export",
            show_sql: false,
        },
        quiet,
    )
    .await?;
    if !quiet {
        done.report("exported", &dataset, &args.output);
    }
    Ok(())
}

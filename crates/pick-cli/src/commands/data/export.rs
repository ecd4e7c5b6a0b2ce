//! `pick export`: a dataset copied to Parquet or JSON lines, shard for shard.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_engine::Result;
use pick_engine::dataset::Codec;
use pick_engine::pipelines::export::{ExportParams, run as export};
use pick_engine::write::OutputFormat;

use crate::args::{ClusterArgs, CommonArgs, Globals};
use crate::commands::data::report_mirrored;

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

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
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

pub async fn run(args: ExportArgs, g: Globals) -> Result<()> {
    let params = ExportParams {
        input: args.input,
        output: args.output,
        format: args.format.output(),
        filter: args.filter,
        columns: args.columns,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
        exec: args.cluster.exec()?,
    };
    let done = export(&params, &g.observer(args.common.show_sql)).await?;
    if !g.quiet {
        report_mirrored(&done, "exported", &params.output);
    }
    Ok(())
}

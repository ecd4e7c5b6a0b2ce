//! Command-line definitions (all of them, in one place) and dispatch.

pub mod agreement;
pub mod bench;
pub mod count_tokens;
pub mod export;
pub mod mirror;
pub mod normalize;
pub mod sql;
pub mod transform;

use clap::{Args, Parser, Subcommand};

use crate::dataset::{InferRows, ReadOptions};
use crate::error::Result;

#[derive(Debug, Parser)]
#[command(
    name = "pick",
    version,
    about = "Build text-quality classifiers for LLM pretraining data and apply them at corpus scale",
    propagate_version = true
)]
pub struct Cli {
    /// No progress bars or summaries on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over datasets: `-d NAME=DIR` registers tables, paths and globs work in FROM.
    Sql(sql::SqlArgs),
    /// Copy a dataset to Parquet or JSON lines, mirroring its layout.
    Export(export::ExportArgs),
    /// Rebuild each row from two jq expressions: {**text_transform(row), **label_transform(row)}.
    TransformDataset(transform::TransformArgs),
    /// Normalize one text field with one of bonepick's normalizers, keeping everything else.
    NormalizeDataset(normalize::NormalizeArgs),
    /// Count tokenizer tokens over datasets.
    CountTokens(count_tokens::CountTokensArgs),
    /// Agreement between annotation runs of the same documents (κ, confusion, differences).
    AnnotationAgreement(agreement::AgreementArgs),
    /// Measure scan throughput against DuckDB and Polars.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print pick's version.
    Version,
}

/// How datasets are read, shared by every command that reads one.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Leave out rows that cannot be read (counted and reported) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,

    /// Rows of each JSON shard read to infer the schema; 0 reads every row.
    #[arg(long, default_value_t = crate::dataset::infer::DEFAULT_INFER_ROWS, value_name = "N")]
    pub infer_rows: u64,
}

impl ReadArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            skip_bad_rows: self.skip_bad_rows,
            infer_rows: InferRows((self.infer_rows > 0).then_some(self.infer_rows)),
        }
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Sql(args) => sql::run(args, cli.quiet).await,
        Command::Export(args) => export::run(args, cli.quiet).await,
        Command::Bench(cmd) => bench::run(cmd, cli.quiet).await,
        Command::TransformDataset(args) => transform::run(args, cli.quiet).await,
        Command::NormalizeDataset(args) => normalize::run(args, cli.quiet).await,
        Command::CountTokens(args) => count_tokens::run(args, cli.quiet).await,
        Command::AnnotationAgreement(args) => agreement::run(args, cli.quiet).await,
        Command::Version => {
            println!("pick {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    }
}

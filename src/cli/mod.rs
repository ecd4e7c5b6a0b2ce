//! Command-line definitions (all of them, in one place) and dispatch.

pub mod agreement;
pub mod balance;
pub mod bench;
pub mod calibration;
pub mod count_tokens;
pub mod export;
pub mod fasttext_convert;
pub mod fasttext_eval;
pub mod fasttext_infer;
pub mod fasttext_train;
pub mod flags;
pub mod import_hf;
pub mod inputs;
pub mod interned;
pub mod label_distribution;
pub mod mirror;
pub mod normalize;
pub mod reshard;
pub mod sample;
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

    /// Memory for sorts, joins and aggregates before they spill to disk (500MB, 8G; default:
    /// half the machine's memory).
    #[arg(long, global = true, value_name = "SIZE", value_parser = flags::parse_byte_size)]
    pub memory_limit: Option<u64>,

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
    /// Import a Hugging Face dataset from a local directory as train/ and test/ shards.
    ImportHfDataset(import_hf::ImportArgs),
    /// Cut every label of every split down to the split's rarest label, keeping all fields.
    BalanceDataset(balance::BalanceArgs),
    /// A seeded sample of rows by rate or by size on disk, mirroring the layout.
    SampleDataset(sample::SampleArgs),
    /// Shuffle all rows into N shards, optionally carving test and valid splits.
    ReshardDataset(reshard::ReshardArgs),
    /// Label histogram or statistics, and key lengths, of a dataset.
    LabelDistribution(label_distribution::LabelDistributionArgs),
    /// Write train/valid/test as fastText training files (`__label__x text`) with report.yaml.
    ConvertToFasttext(fasttext_convert::ConvertArgs),
    /// Train a fastText classifier (official fastText, built in) on convert-to-fasttext output.
    TrainFasttext(fasttext_train::TrainFasttextArgs),
    /// Precision, recall, F1 and AUC per class of a fastText model on test.txt.
    EvalFasttext(fasttext_eval::EvalFasttextArgs),
    /// Add `.metadata.<classifier>` = {label: probability} from a fastText model to every row.
    InferFasttext(fasttext_infer::InferFasttextArgs),
    /// Count tokenizer tokens over datasets.
    CountTokens(count_tokens::CountTokensArgs),
    /// Scalar predictions against ordinal gold labels: AUCs, correlations, errors, calibration.
    EvalCalibration(calibration::EvalCalibrationArgs),
    /// Fit a linear or log-linear map from prediction components to gold; prints its jq.
    TrainCalibration(calibration::TrainCalibrationArgs),
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
    if let Some(bytes) = cli.memory_limit {
        crate::engine::set_memory_limit(bytes as usize);
    }
    match cli.command {
        Command::Sql(args) => sql::run(args, cli.quiet).await,
        Command::Export(args) => export::run(args, cli.quiet).await,
        Command::Bench(cmd) => bench::run(cmd, cli.quiet).await,
        Command::TransformDataset(args) => transform::run(args, cli.quiet).await,
        Command::NormalizeDataset(args) => normalize::run(args, cli.quiet).await,
        Command::ImportHfDataset(args) => import_hf::run(args, cli.quiet).await,
        Command::BalanceDataset(args) => balance::run(args, cli.quiet).await,
        Command::SampleDataset(args) => sample::run(args, cli.quiet).await,
        Command::ReshardDataset(args) => reshard::run(args, cli.quiet).await,
        Command::LabelDistribution(args) => label_distribution::run(args, cli.quiet).await,
        Command::ConvertToFasttext(args) => fasttext_convert::run(args, cli.quiet).await,
        Command::TrainFasttext(args) => fasttext_train::run(args, cli.quiet),
        Command::EvalFasttext(args) => fasttext_eval::run(args, cli.quiet),
        Command::InferFasttext(args) => fasttext_infer::run(args, cli.quiet).await,
        Command::CountTokens(args) => count_tokens::run(args, cli.quiet).await,
        Command::EvalCalibration(args) => calibration::eval(args, cli.quiet).await,
        Command::TrainCalibration(args) => calibration::train(args, cli.quiet).await,
        Command::AnnotationAgreement(args) => agreement::run(args, cli.quiet).await,
        Command::Version => {
            println!("pick {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    }
}

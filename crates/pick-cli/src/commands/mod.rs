//! Every command's flags (clap) and dispatch, by family: `data` (datasets in, datasets out),
//! `fasttext`, `model2vec`, `metrics`, `annotate`, plus `infer` (both classifier families),
//! `sql` and `bench`. A command turns its flags into a pipeline's
//! parameters, runs the pipeline and presents its report; commands never import each other.

pub mod annotate;
pub mod bench;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod data;
pub mod fasttext;
pub mod infer;
pub mod metrics;
pub mod model2vec;
pub mod sql;

use clap::{Parser, Subcommand};
use pick_engine::Result;
use pick_engine::pipelines::infer::Classifier;

use crate::args::Globals;

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
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::flags::parse_byte_size)]
    pub memory_limit: Option<u64>,

    /// The S3-compatible server `s3://` URLs go to (MinIO, R2, GCS interop); default:
    /// `AWS_ENDPOINT_URL`, else AWS. Credentials come from the environment and `~/.aws`.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// zstd level of the `.zst` shards and Parquet files pick writes (1 fastest .. 19; 3, as
    /// bonepick writes them).
    #[arg(long, global = true, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(i32).range(1..=19))]
    pub compression_level: i32,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Whether the command is a cluster's long-running process (scheduler, executor), whose
    /// tasks' panics Ballista turns into failed tasks: the process must outlive them.
    pub fn is_cluster_role(&self) -> bool {
        #[cfg(feature = "cluster")]
        if matches!(self.command, Command::Cluster(_)) {
            return true;
        }
        false
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over datasets: `-d NAME=DIR` registers tables, paths and globs work in FROM.
    Sql(sql::SqlArgs),
    /// Copy a dataset to Parquet or JSON lines, mirroring its layout.
    Export(data::export::ExportArgs),
    /// Rebuild each row from two jq expressions: {**text_transform(row), **label_transform(row)}.
    TransformDataset(data::transform::TransformArgs),
    /// Normalize one text field with one of bonepick's normalizers, keeping everything else.
    NormalizeDataset(data::normalize::NormalizeArgs),
    /// Import a Hugging Face dataset from a local directory as train/ and test/ shards.
    ImportHfDataset(data::import_hf::ImportArgs),
    /// Cut every label of every split down to the split's rarest label, keeping all fields.
    BalanceDataset(data::balance::BalanceArgs),
    /// A seeded sample of rows by rate or by size on disk, mirroring the layout.
    SampleDataset(data::sample::SampleArgs),
    /// Shuffle all rows into N shards, optionally carving test and valid splits.
    ReshardDataset(data::reshard::ReshardArgs),
    /// Label histogram or statistics, and key lengths, of a dataset.
    LabelDistribution(data::label_distribution::LabelDistributionArgs),
    /// Write train/valid/test as fastText training files (`__label__x text`) with report.yaml.
    ConvertToFasttext(fasttext::convert::ConvertArgs),
    /// Train a fastText classifier (official fastText, built in) on convert-to-fasttext output.
    TrainFasttext(fasttext::train::TrainFasttextArgs),
    /// Precision, recall, F1 and AUC per class of a fastText model on test.txt.
    EvalFasttext(fasttext::eval::EvalFasttextArgs),
    /// Add `.metadata.<classifier>` = {label: probability} from a fastText model to every row.
    InferFasttext(infer::InferArgs),
    /// Distil a Model2Vec static model from a local BERT-family sentence transformer.
    DistillModel2vec(model2vec::distill::DistillArgs),
    /// Fine-tune a Model2Vec static model with a classifier (or regressor) head.
    TrainModel2vec(model2vec::train::TrainModel2vecArgs),
    /// Precision, recall, F1 and AUC per class (or regression errors) of a Model2Vec pipeline
    /// on test/.
    EvalModel2vec(model2vec::eval::EvalModel2vecArgs),
    /// Add `.metadata.<classifier>` = {label: probability} from a Model2Vec pipeline to every row.
    InferModel2vec(infer::InferArgs),
    /// Count tokenizer tokens over datasets.
    CountTokens(data::count_tokens::CountTokensArgs),
    /// Scalar predictions against ordinal gold labels: AUCs, correlations, errors, calibration.
    EvalCalibration(metrics::eval_calibration::EvalCalibrationArgs),
    /// Fit a linear or log-linear map from prediction components to gold; prints its jq.
    TrainCalibration(metrics::train_calibration::TrainCalibrationArgs),
    /// Agreement between annotation runs of the same documents (κ, confusion, differences).
    AnnotationAgreement(metrics::agreement::AgreementArgs),
    AnnotateDataset(annotate::dataset::AnnotateArgs),
    ListPrompts(annotate::prompts::ListPromptsArgs),
    BatchAnnotateSubmit(annotate::batch::SubmitArgs),
    BatchAnnotateRetrieve(annotate::batch::RetrieveArgs),
    /// Run pick's scheduler or executors of a Ballista cluster (`--cluster df://HOST:PORT`).
    #[cfg(feature = "cluster")]
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Measure scan throughput against DuckDB and Polars.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print pick's version.
    Version,
}

pub async fn run(cli: Cli) -> Result<()> {
    if let Some(bytes) = cli.memory_limit {
        pick_engine::session::set_memory_limit(bytes as usize);
    }
    if let Some(url) = &cli.endpoint {
        pick_engine::store::set_endpoint(url);
    }
    pick_engine::write::sink::set_compression_level(cli.compression_level);
    let g = Globals { quiet: cli.quiet };
    match cli.command {
        Command::Sql(args) => sql::run(args, g).await,
        Command::Export(args) => data::export::run(args, g).await,
        Command::Bench(cmd) => bench::run(cmd, g).await,
        #[cfg(feature = "cluster")]
        Command::Cluster(cmd) => cluster::run(cmd, g).await,
        Command::TransformDataset(args) => data::transform::run(args, g).await,
        Command::NormalizeDataset(args) => data::normalize::run(args, g).await,
        Command::ImportHfDataset(args) => data::import_hf::run(args, g).await,
        Command::BalanceDataset(args) => data::balance::run(args, g).await,
        Command::SampleDataset(args) => data::sample::run(args, g).await,
        Command::ReshardDataset(args) => data::reshard::run(args, g).await,
        Command::LabelDistribution(args) => data::label_distribution::run(args, g).await,
        Command::ConvertToFasttext(args) => fasttext::convert::run(args, g).await,
        Command::TrainFasttext(args) => fasttext::train::run(args, g),
        Command::EvalFasttext(args) => fasttext::eval::run(args, g),
        Command::InferFasttext(args) => infer::run(args, Classifier::Fasttext, g).await,
        Command::DistillModel2vec(args) => model2vec::distill::run(args, g).await,
        Command::TrainModel2vec(args) => model2vec::train::run(args, g).await,
        Command::EvalModel2vec(args) => model2vec::eval::run(args, g).await,
        Command::InferModel2vec(args) => infer::run(args, Classifier::Model2vec, g).await,
        Command::CountTokens(args) => data::count_tokens::run(args, g).await,
        Command::EvalCalibration(args) => metrics::eval_calibration::run(args, g).await,
        Command::TrainCalibration(args) => metrics::train_calibration::run(args, g).await,
        Command::AnnotationAgreement(args) => metrics::agreement::run(args, g).await,
        Command::AnnotateDataset(args) => annotate::dataset::run_command(args, g).await,
        Command::ListPrompts(args) => annotate::prompts::run(args, g),
        Command::BatchAnnotateSubmit(args) => annotate::batch::run_submit(args, g).await,
        Command::BatchAnnotateRetrieve(args) => annotate::batch::run_retrieve(args, g).await,
        Command::Version => crate::output::Out.line(format!("pick {}", env!("CARGO_PKG_VERSION"))),
    }
}

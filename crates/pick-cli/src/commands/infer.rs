//! `pick infer-fasttext` and `pick infer-model2vec`: every row gains `.metadata.<classifier>` =
//! `{label: probability}` (bonepick §4.4), or a regressor's value. The two commands take the same
//! flags. Several `-m`/`-c` pairs score with several models in one pass over the data.

use clap::{Args, ValueEnum};
use pick_engine::Result;
use pick_engine::pipelines::infer::{
    Classifier, InferFormat as Format, InferParams, Model, run as infer,
};
use pick_text::Normalizer;

use crate::args::{ClusterArgs, Globals};
use crate::commands::data::{IoArgs, report_mirrored};
use crate::flags::field_expression;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InferFormat {
    /// The input's own format and file names, rows as JSON with the new metadata.
    Same,
    Parquet,
    Jsonl,
    #[value(name = "jsonl.zst")]
    JsonlZst,
}

#[derive(Debug, Args)]
pub struct InferArgs {
    /// fastText: a directory holding model.bin, or a .bin/.ftz file. Model2Vec: a pipeline
    /// folder, or a train-model2vec output holding model/. Repeat to score with several
    /// models in one pass, each with its own `-c`.
    #[arg(short = 'm', long = "model-dir", value_name = "DIR", required = true)]
    pub model: Vec<std::path::PathBuf>,

    /// Key under `.metadata` for the predictions (one per `-m`, in the same order).
    #[arg(
        short = 'c',
        long = "classifier-name",
        value_name = "NAME",
        required = true
    )]
    pub classifier: Vec<String>,

    /// jq expression for the text of a row (`-tt`).
    #[arg(long = "text-expression", default_value = ".text", value_name = "JQ")]
    pub text_expression: String,

    /// Deprecated: the text field (`.F`).
    #[arg(short = 't', long = "text-field", value_name = "FIELD")]
    pub text_field: Option<String>,

    /// Normalizer applied to the text first, as at training (see normalize-dataset).
    #[arg(long, value_name = "NAME")]
    pub normalizer: Option<Normalizer>,

    /// Cut each text to this many characters before normalizing.
    #[arg(value_parser = crate::flags::py_int::<u64>, long = "max-length", value_name = "N")]
    pub max_length: Option<u64>,

    /// Output format: each shard's own (default), or Parquet; in Parquet (and Arrow) shards
    /// `metadata.<classifier>` is a label-to-probability map.
    #[arg(long, value_enum, default_value_t = InferFormat::Same)]
    pub format: InferFormat,

    #[command(flatten)]
    pub io: IoArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub async fn run(args: InferArgs, kind: Classifier, g: Globals) -> Result<()> {
    let text = field_expression(
        args.text_field.as_deref(),
        &args.text_expression,
        "text",
        g.quiet,
    );
    if args.model.len() != args.classifier.len() {
        return Err(pick_engine::PickError::Usage(format!(
            "{} models (-m) and {} classifier names (-c): give one name per model",
            args.model.len(),
            args.classifier.len()
        )));
    }
    let models = args
        .model
        .into_iter()
        .zip(args.classifier)
        .map(|(path, classifier)| Model { path, classifier })
        .collect();
    let params = InferParams {
        input: args.io.input,
        output: args.io.output,
        kind,
        models,
        text,
        normalizer: args.normalizer,
        max_length: args.max_length,
        format: match args.format {
            InferFormat::Same => Format::Same,
            InferFormat::Parquet => Format::Parquet,
            InferFormat::Jsonl => Format::Jsonl,
            InferFormat::JsonlZst => Format::JsonlZst,
        },
        partitions: args.io.common.num_proc,
        read: args.io.common.read.options(),
        overwrite: args.io.overwrite,
        exec: args.cluster.exec()?,
    };
    let r = infer(&params, &g.observer(args.io.common.show_sql)).await?;
    if !g.quiet {
        report_mirrored(&r.written, "scored", &params.output);
        let rate = r.written.rows as f64 / r.written.elapsed.as_secs_f64().max(1e-9);
        for m in &r.models {
            eprintln!(
                "{rate:.0} docs/s with {} ({} labels: {})",
                m.model.display(),
                m.labels.len(),
                m.labels.join(" ")
            );
        }
    }
    Ok(())
}

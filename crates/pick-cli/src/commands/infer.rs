//! `pick infer-fasttext` and `pick infer-model2vec`: every row gains `.metadata.<classifier>` =
//! `{label: probability}` (bonepick §4.4), or a regressor's value. The two commands take the same
//! flags.

use clap::{Args, ValueEnum};
use pick_engine::Result;
use pick_engine::pipelines::infer::{Classifier, InferFormat as Format, InferParams, run as infer};
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
    /// folder, or a train-model2vec output holding model/.
    #[arg(short = 'm', long = "model-dir", value_name = "DIR")]
    pub model: std::path::PathBuf,

    /// Key under `.metadata` for the predictions.
    #[arg(short = 'c', long = "classifier-name", value_name = "NAME")]
    pub classifier: String,

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
    let params = InferParams {
        input: args.io.input,
        output: args.io.output,
        kind,
        model: args.model,
        classifier: args.classifier,
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
        eprintln!(
            "{:.0} docs/s with {} ({} labels: {})",
            r.written.rows as f64 / r.written.elapsed.as_secs_f64().max(1e-9),
            r.model.display(),
            r.labels.len(),
            r.labels.join(" ")
        );
    }
    Ok(())
}

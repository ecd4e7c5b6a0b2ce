//! `pick infer-fasttext`: every row of a dataset gains `.metadata.<classifier>` = `{label:
//! probability}` from an official fastText model (bonepick §4.4), shard for shard. The model is
//! read once and shared by every thread; shards are scored in parallel across and within files,
//! streamed (never a whole file in memory, no subprocess). The work is one SQL statement
//! (`--show-sql`). Fixed from bonepick: texts with line breaks are scored as one document
//! whatever the normalizer (B8).

use std::sync::Arc;

use arrow::datatypes::DataType;
use clap::{Args, ValueEnum};
use pick_udfs::fasttext::model_file;
use pick_udfs::text::Normalizer;

use crate::cli::fasttext_eval::load_model;
use crate::cli::flags::field_expression;
use crate::cli::mirror::{Mirror, MirrorArgs, mirror, quote_ident};
use crate::cli::normalize::{quote_literal, required_label};
use crate::dataset::sink::OutputFormat;
use crate::dataset::{Codec, Dataset, ShardFormat};
use crate::error::{PickError, Result};

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
pub struct InferFasttextArgs {
    /// Directory holding model.bin (or a .bin/.ftz file).
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
    #[arg(long = "max-length", value_name = "N")]
    pub max_length: Option<u64>,

    /// Output format: each shard's own (default), or Parquet; in Parquet (and Arrow) shards
    /// `metadata.<classifier>` is a label-to-probability map.
    #[arg(long, value_enum, default_value_t = InferFormat::Same)]
    pub format: InferFormat,

    #[command(flatten)]
    pub io: MirrorArgs,
}

/// The `metadata` column with the prediction added, for columnar output.
fn metadata_struct(dataset: &Dataset, classifier: &str, prediction: &str) -> String {
    let schema = &dataset.layout.schema;
    let mut fields = Vec::new();
    if let Ok(field) = schema.field_with_name("metadata")
        && let DataType::Struct(children) = field.data_type()
    {
        for child in children.iter().filter(|c| c.name() != classifier) {
            fields.push(format!(
                "{}, \"metadata\"[{}]",
                quote_literal(child.name()),
                quote_literal(child.name())
            ));
        }
    }
    fields.push(format!("{}, {prediction}", quote_literal(classifier)));
    format!("named_struct({}) AS \"metadata\"", fields.join(", "))
}

pub async fn run(args: InferFasttextArgs, quiet: bool) -> Result<()> {
    let text = field_expression(
        args.text_field.as_deref(),
        &args.text_expression,
        "text",
        quiet,
    );
    pick_udfs::jq::Program::compile(&text)
        .map_err(|e| PickError::Usage(format!("--text-expression: {e}")))?;
    // Read (or fail) before anything is written.
    let model = load_model(&args.model)?;
    let dataset = Arc::new(Dataset::open(&args.io.input, args.io.read.options())?);

    let mut text_sql = required_label(&dataset, &text, "text");
    if let Some(n) = args.max_length {
        text_sql = format!("substr({text_sql}, 1, {n})");
    }
    if let Some(norm) = args.normalizer {
        text_sql = format!("normalize({text_sql}, {})", quote_literal(norm.name()));
    }
    let model_path = model_file(&args.model);
    let prediction = format!(
        "fasttext_predict({}, {text_sql})",
        quote_literal(&model_path.to_string_lossy())
    );
    // Rows of JSON shards get the prediction spliced into their own text; columnar shards (and
    // Parquet output) get a rebuilt `metadata` column.
    let all_json = dataset
        .shards
        .iter()
        .all(|s| matches!(s.format, ShardFormat::JsonLines(_)));
    let columnar = match args.format {
        InferFormat::Parquet => Some(Some(OutputFormat::Parquet)),
        InferFormat::Same if !all_json => Some(None),
        _ => None,
    };
    let (sql, format) = match columnar {
        Some(format) => {
            let schema = &dataset.layout.schema;
            let mut cols: Vec<String> = (0..dataset.layout.data_fields)
                .map(|i| schema.field(i).name())
                .filter(|n| n.as_str() != "metadata")
                .map(|n| quote_ident(n))
                .collect();
            let at = (0..dataset.layout.data_fields)
                .position(|i| schema.field(i).name() == "metadata")
                .unwrap_or(cols.len());
            cols.insert(at, metadata_struct(&dataset, &args.classifier, &prediction));
            (format!("SELECT {} FROM t", cols.join(", ")), format)
        }
        None => {
            let sql = format!(
                "SELECT json_set(_json, {prediction}, 'metadata', {}) AS _json FROM t",
                quote_literal(&args.classifier)
            );
            let format = match args.format {
                InferFormat::Jsonl => Some(OutputFormat::Jsonl(Codec::Plain)),
                InferFormat::JsonlZst => Some(OutputFormat::Jsonl(Codec::Zstd)),
                _ => None,
            };
            (sql, format)
        }
    };
    let done = mirror(
        Mirror {
            dataset: Arc::clone(&dataset),
            sql,
            output: &args.io.output,
            format,
            partitions: args.io.num_proc,
            verb: "infer",
            show_sql: args.io.show_sql,
        },
        quiet,
    )
    .await?;
    if !quiet {
        done.report("scored", &dataset, &args.io.output);
        eprintln!(
            "{:.0} docs/s with {} ({} labels: {})",
            done.rows as f64 / done.elapsed.as_secs_f64().max(1e-9),
            model.path.display(),
            model.labels().len(),
            model.labels().join(" ")
        );
    }
    Ok(())
}

//! `pick normalize-dataset`: one text field normalized and the label field normalized, every
//! other field and the row order kept, shard for shard (bonepick §7.2).

use std::sync::Arc;

use clap::Args;
use pick_udfs::text::Normalizer;

use crate::cli::mirror::{Mirror, MirrorArgs, mirror, quote_ident};
use crate::dataset::Dataset;
use crate::error::{PickError, Result};

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// whitespace, plsfix, tokenizer, ultrafine, ultrafine_commits, hyperfine, hyperfine_code,
    /// potion or potion_code.
    #[arg(
        short = 'n',
        long = "normalization",
        default_value = "plsfix",
        value_name = "NAME"
    )]
    pub normalizer: Normalizer,

    /// Field holding the text (a top-level field name).
    #[arg(
        short = 't',
        long = "text-field",
        default_value = "text",
        value_name = "FIELD"
    )]
    pub text_field: String,

    /// Field holding the label, rewritten as a normalized string ("__label__Pos A" -> "pos_a").
    #[arg(
        short = 'l',
        long = "label-field",
        default_value = "score",
        value_name = "FIELD"
    )]
    pub label_field: String,

    #[command(flatten)]
    pub io: MirrorArgs,
}

/// A SQL string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `require_value(expr, 'what', '<root>/' || _file, _row)`: a row where `expr` is NULL is an error
/// naming its file and row.
pub fn required_value(dataset: &Dataset, expr: &str, what: &str) -> String {
    let root = format!("{}/", dataset.root.display());
    format!(
        "require_value({expr}, {}, {} || _file, _row)",
        quote_literal(what),
        quote_literal(&root)
    )
}

/// `jq(_json, expr)` as JSON text, required: a row where the expression gives nothing (or null)
/// is an error naming its file and row.
pub fn required_jq(dataset: &Dataset, expr: &str, what: &str) -> String {
    required_value(
        dataset,
        &format!("jq(_json, {})", quote_literal(expr)),
        what,
    )
}

/// The same, read as bonepick reads a label: Python's `str()` of the value.
pub fn required_label(dataset: &Dataset, expr: &str, what: &str) -> String {
    format!("label({}, '.')", required_jq(dataset, expr, what))
}

/// A top-level field every row must have.
pub fn required(dataset: &Dataset, field: &str) -> String {
    required_value(dataset, &quote_ident(field), &format!("field {field:?}"))
}

/// Fails unless `field` is a top-level field of the dataset.
pub fn check_field(dataset: &Dataset, field: &str, flag: &str) -> Result<()> {
    let names: Vec<&str> = (0..dataset.layout.data_fields)
        .map(|i| dataset.layout.schema.field(i).name().as_str())
        .collect();
    if names.contains(&field) {
        return Ok(());
    }
    Err(PickError::Usage(format!(
        "{}: no field {field:?} (set it with {flag}); fields: {}",
        dataset.root.display(),
        names.join(", ")
    )))
}

pub async fn run(args: NormalizeArgs, quiet: bool) -> Result<()> {
    let dataset = Arc::new(Dataset::open(&args.io.input, args.io.read.options())?);
    check_field(&dataset, &args.text_field, "-t/--text-field")?;
    check_field(&dataset, &args.label_field, "-l/--label-field")?;
    args.normalizer.warm_up();

    let select: Vec<String> = (0..dataset.layout.data_fields)
        .map(|i| {
            let name = dataset.layout.schema.field(i).name();
            if *name == args.text_field {
                format!(
                    "normalize({}, {}) AS {}",
                    required(&dataset, name),
                    quote_literal(args.normalizer.name()),
                    quote_ident(name)
                )
            } else if *name == args.label_field {
                format!(
                    "normalize_label({}) AS {}",
                    required(&dataset, name),
                    quote_ident(name)
                )
            } else {
                quote_ident(name)
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM t", select.join(", "));
    let done = mirror(
        Mirror {
            dataset: Arc::clone(&dataset),
            sql,
            output: &args.io.output,
            format: None,
            partitions: args.io.num_proc,
            verb: "normalize",
            show_sql: args.io.show_sql,
        },
        quiet,
    )
    .await?;
    if !quiet {
        done.report(
            &format!("normalized ({})", args.normalizer),
            &dataset,
            &args.io.output,
        );
    }
    Ok(())
}

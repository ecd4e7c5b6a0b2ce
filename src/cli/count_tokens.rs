//! `pick count-tokens`: tokens of one text expression summed over datasets (bonepick §7.7).

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use clap::Args;
use pick_udfs::tokenizer::bundled;

use crate::cli::ReadArgs;
use crate::cli::normalize::{quote_literal, required, required_label};
use crate::dataset::Dataset;
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::{human_bytes, thousands};

#[derive(Debug, Args)]
pub struct CountTokensArgs {
    /// Dataset to read; repeat for several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// A bundled tokenizer (dolma2, ultrafine) or a local tokenizer.json; never downloaded.
    #[arg(
        short = 't',
        long = "tokenizer-name-or-path",
        default_value = "dolma2",
        value_name = "NAME|PATH"
    )]
    pub tokenizer: String,

    /// jq expression for the text of a row.
    #[arg(
        short = 'i',
        long = "input-field-expression",
        default_value = ".text",
        value_name = "JQ"
    )]
    pub expression: String,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// The SQL for the text an expression selects: a plain `.field` of text is read as a column,
/// anything else goes through jq on the row.
fn text_sql(dataset: &Dataset, expression: &str) -> String {
    let field = expression.trim().strip_prefix('.').filter(|f| {
        !f.is_empty()
            && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !f.starts_with(|c: char| c.is_ascii_digit())
    });
    if let Some(field) = field
        && let Ok(f) = dataset.layout.schema.field_with_name(field)
        && f.data_type().is_string()
        && (0..dataset.layout.data_fields).any(|i| dataset.layout.schema.field(i).name() == field)
    {
        return required(dataset, field);
    }
    required_label(dataset, expression, "text")
}

pub async fn run(args: CountTokensArgs, quiet: bool) -> Result<()> {
    let tokenizer = bundled::load(&args.tokenizer).map_err(|e| PickError::Usage(e.to_string()))?;
    drop(tokenizer);
    let mut files = 0usize;
    let mut tokens = 0i64;
    let mut bytes = 0u64;
    for dir in &args.datasets {
        let dataset = Dataset::open(dir, args.read.options())?;
        let size: u64 = dataset.shards.iter().map(|s| s.size).sum();
        if !quiet {
            eprintln!(
                "Found {} files in {dir} ({})",
                dataset.shards.len(),
                human_bytes(size as f64)
            );
        }
        let sql = format!(
            "SELECT sum(token_count({}, {})) FROM t",
            text_sql(&dataset, &args.expression),
            quote_literal(&args.tokenizer)
        );
        if args.show_sql {
            println!("{sql}");
        }
        files += dataset.shards.len();
        bytes += size;
        let engine = Engine::new(dataset.options.clone(), args.num_proc);
        engine.register_dataset("t", dataset)?;
        let batches = engine.sql(&sql).await?.collect().await?;
        tokens += batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
            .sum::<i64>();
    }
    println!("Total files processed: {files}");
    println!("Total tokens: {}", thousands(tokens));
    println!("Total size: {}", human_bytes(bytes as f64));
    println!(
        "Average tokens per file: {:.2}",
        tokens as f64 / files.max(1) as f64
    );
    println!(
        "Average tokens per byte: {:.2}",
        tokens as f64 / bytes.max(1) as f64
    );
    Ok(())
}

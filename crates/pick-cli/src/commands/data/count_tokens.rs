//! `pick count-tokens`: tokens of one text expression summed over datasets (bonepick §7.7).

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::count_tokens::{CountTokensParams, run as count_tokens};
use pick_engine::units::{human_bytes, thousands};

use crate::args::{ClusterArgs, CommonArgs, Globals};
use crate::output::Out;

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

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub async fn run(args: CountTokensArgs, g: Globals) -> Result<()> {
    let params = CountTokensParams {
        datasets: args.datasets,
        tokenizer: args.tokenizer,
        expression: args.expression,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        exec: args.cluster.exec()?,
    };
    let r = count_tokens(&params, &g.observer(args.common.show_sql)).await?;
    let out = Out;
    out.line(format!("Total files processed: {}", r.files))?;
    out.line(format!("Total tokens: {}", thousands(r.tokens)))?;
    out.line(format!("Total size: {}", human_bytes(r.bytes as f64)))?;
    out.line(format!(
        "Average tokens per file: {:.2}",
        r.tokens as f64 / r.files.max(1) as f64
    ))?;
    out.line(format!(
        "Average tokens per byte: {:.2}",
        r.tokens as f64 / r.bytes.max(1) as f64
    ))
}

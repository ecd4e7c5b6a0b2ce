//! `pick normalize-dataset`: one text field and the label field normalized (bonepick §7.2).

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::normalize::{NormalizeParams, run as normalize};
use pick_text::Normalizer;

use crate::args::{ClusterArgs, Globals};
use crate::commands::data::{IoArgs, report_mirrored};

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
    pub io: IoArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub async fn run(args: NormalizeArgs, g: Globals) -> Result<()> {
    let params = NormalizeParams {
        input: args.io.input,
        output: args.io.output,
        normalizer: args.normalizer,
        text_field: args.text_field,
        label_field: args.label_field,
        partitions: args.io.common.num_proc,
        read: args.io.common.read.options(),
        overwrite: args.io.overwrite,
        exec: args.cluster.exec()?,
    };
    let done = normalize(&params, &g.observer(args.io.common.show_sql)).await?;
    if !g.quiet {
        report_mirrored(
            &done,
            &format!("normalized ({})", params.normalizer),
            &params.output,
        );
    }
    Ok(())
}

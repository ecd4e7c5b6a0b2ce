//! `pick transform-dataset`: each row rebuilt from two jq expressions (bonepick §7.1).

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::transform::{TransformParams, run as transform};

use crate::args::{ClusterArgs, Globals};
use crate::commands::data::{IoArgs, report_mirrored};

#[derive(Debug, Args)]
pub struct TransformArgs {
    /// jq expression giving the text part of the new row (an object).
    #[arg(
        short = 't',
        long = "text-transform",
        default_value = "{text: .text}",
        value_name = "JQ"
    )]
    pub text: String,

    /// jq expression giving the label part of the new row (an object); its keys win.
    #[arg(
        short = 'l',
        long = "label-transform",
        default_value = "{score: .score}",
        value_name = "JQ"
    )]
    pub label: String,

    #[command(flatten)]
    pub io: IoArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub async fn run(args: TransformArgs, g: Globals) -> Result<()> {
    let params = TransformParams {
        input: args.io.input,
        output: args.io.output,
        text_transform: args.text,
        label_transform: args.label,
        partitions: args.io.common.num_proc,
        read: args.io.common.read.options(),
        overwrite: args.io.overwrite,
        exec: args.cluster.exec()?,
    };
    let report = transform(&params, &g.observer(args.io.common.show_sql)).await?;
    if !g.quiet {
        report_mirrored(&report.written, "transformed", &params.output);
        if report.dropped > 0 {
            eprintln!(
                "skipped {} rows where the transforms gave nothing",
                report.dropped
            );
        }
    }
    Ok(())
}

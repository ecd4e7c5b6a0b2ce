//! `pick convert-to-fasttext`: train/valid/test as fastText training files (bonepick §4.1).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::convert_fasttext::{ConvertParams, run as convert};
use pick_text::Normalizer;

use crate::args::{CommonArgs, Globals};
use crate::flags::TextLabelArgs;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The text and label (`-tt`/`-ll`; with --multi-label the label is an object of criteria).
    #[command(flatten)]
    pub fields: TextLabelArgs,

    /// Dataset with train/ and test/ (and optionally valid/).
    #[arg(short = 'i', long = "input-dir", value_name = "DIR")]
    pub input: String,

    /// Directory to write train.txt, valid.txt, test.txt and report.yaml into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Text normalizer (see normalize-dataset).
    #[arg(
        short = 'n',
        long = "normalization",
        default_value = "whitespace",
        value_name = "NAME"
    )]
    pub normalizer: Normalizer,

    /// Cut each text to this many characters before normalizing.
    #[arg(value_parser = crate::flags::py_int::<u64>, long = "max-length", value_name = "N")]
    pub max_length: Option<u64>,

    /// Bin numeric labels into N equal-count bins (bin_0 .. bin_{N-1}) from train's values.
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "auto", value_name = "N")]
    pub auto: Option<usize>,

    /// The label expression gives {criterion: truthy}; every true criterion is a label.
    #[arg(long = "multi-label", conflicts_with = "auto")]
    pub multi_label: bool,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: ConvertArgs, g: Globals) -> Result<()> {
    let (text, label) = args.fields.expressions(g.quiet)?;
    let params = ConvertParams {
        input: args.input,
        output: args.output,
        text,
        label,
        normalizer: args.normalizer,
        max_length: args.max_length,
        auto: args.auto,
        multi_label: args.multi_label,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
    };
    convert(&params, &g.observer(args.common.show_sql)).await?;
    Ok(())
}

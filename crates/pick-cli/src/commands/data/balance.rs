//! `pick balance-dataset`: every label of every split cut down to the split's rarest label
//! (bonepick §7.3).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::balance::{BalanceParams, run as balance};
use pick_engine::units::human_bytes;

use crate::args::{CommonArgs, Globals};
use crate::commands::data::report_bad_rows;
use crate::flags::TextLabelArgs;

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The text and label (`-tt`/`-ll`; the deprecated `-t`/`-l` also name the output keys).
    #[command(flatten)]
    pub fields: TextLabelArgs,

    /// Dataset with train/ (valid/, test/) splits; repeat to merge several.
    #[arg(short = 'i', long = "input-dir", value_name = "DIR", required = true)]
    pub inputs: Vec<String>,

    /// Directory to write `<split>/shard_K.jsonl.zst` into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Seed of the choice of rows and of their order.
    #[arg(value_parser = crate::flags::py_int::<i64>, short = 's', long, default_value_t = 42)]
    pub seed: i64,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: BalanceArgs, g: Globals) -> Result<()> {
    let started = std::time::Instant::now();
    let (text, label) = args.fields.expressions(g.quiet)?;
    let params = BalanceParams {
        inputs: args.inputs,
        output: args.output,
        text,
        label,
        text_key: args.fields.text_field.unwrap_or_else(|| "text".into()),
        label_key: args.fields.label_field.unwrap_or_else(|| "score".into()),
        seed: args.seed,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
    };
    let r = balance(&params, &g.observer(args.common.show_sql)).await?;
    if !g.quiet {
        eprintln!("label rows per split (before -> after):");
        for l in &r.labels {
            eprintln!(
                "  {:<5} {:<20} {:>10} -> {}",
                l.split, l.label, l.before, l.after
            );
        }
        eprintln!(
            "balanced to {} rows in {} files under {} ({}) in {:.2}s",
            r.rows,
            r.files,
            params.output.display(),
            human_bytes(r.bytes as f64),
            started.elapsed().as_secs_f64()
        );
        report_bad_rows(r.bad_rows);
    }
    Ok(())
}

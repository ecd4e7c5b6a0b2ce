//! `pick reshard-dataset`: every row shuffled into N shards, optionally carving test and valid
//! splits (bonepick §7.5).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::SplitSize;
use pick_engine::pipelines::reshard::{ReshardParams, run as reshard};
use pick_engine::units::human_bytes;

use crate::args::{CommonArgs, Globals};
use crate::commands::data::report_bad_rows;
use crate::flags::parse_split_size;

#[derive(Debug, Args)]
pub struct ReshardArgs {
    /// Dataset to read; repeat to merge several.
    /// (`-d` works too, as bonepick's README writes it.)
    #[arg(
        short = 'i',
        short_alias = 'd',
        long = "dataset-dir",
        value_name = "DIR",
        required = true
    )]
    pub inputs: Vec<String>,

    /// Directory to write `shard_K.jsonl.zst` (or `train/ valid/ test/` with splits) into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Output shards in all (split among train, valid and test by their row shares).
    #[arg(value_parser = crate::flags::py_int::<u64>, short = 'n', long = "num-files", value_name = "N")]
    pub num_files: u64,

    /// Test split: a fraction of the rows (0.1) or a row count (500).
    #[arg(short = 't', long = "test-split-frac", value_name = "SIZE", value_parser = parse_split_size)]
    pub test: Option<SplitSize>,

    /// Valid split: a fraction of the rows (0.1) or a row count (500).
    #[arg(short = 'v', long = "valid-split-frac", value_name = "SIZE", value_parser = parse_split_size)]
    pub valid: Option<SplitSize>,

    /// Shuffle seed.
    #[arg(value_parser = crate::flags::py_int::<i64>, short = 's', long, default_value_t = 42)]
    pub seed: i64,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: ReshardArgs, g: Globals) -> Result<()> {
    let started = std::time::Instant::now();
    let params = ReshardParams {
        inputs: args.inputs,
        output: args.output,
        num_files: args.num_files,
        test: args.test,
        valid: args.valid,
        seed: args.seed,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
    };
    let r = reshard(&params, &g.observer(args.common.show_sql)).await?;
    if !g.quiet {
        let splits: Vec<String> = r
            .splits
            .iter()
            .map(|p| {
                let name = if p.name.is_empty() { "all" } else { p.name };
                format!("{name} {} rows in {} files", p.rows, p.files)
            })
            .collect();
        eprintln!(
            "resharded {} rows from {} shards ({}) into {} files under {} ({}) in {:.2}s: {}",
            r.rows,
            r.input_shards,
            human_bytes(r.input_bytes as f64),
            r.files,
            params.output.display(),
            human_bytes(r.bytes as f64),
            started.elapsed().as_secs_f64(),
            splits.join(", ")
        );
        report_bad_rows(r.bad_rows);
    }
    Ok(())
}

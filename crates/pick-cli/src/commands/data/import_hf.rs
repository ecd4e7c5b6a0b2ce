//! `pick import-hf-dataset`: a Hugging Face dataset from a local directory as `train/` and
//! `test/` JSON-lines shards (bonepick §7.6).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::SplitSize;
use pick_engine::pipelines::import_hf::{ImportParams, run as import};
use pick_engine::units::human_bytes;

use crate::args::{CommonArgs, Globals};
use crate::flags::parse_split_size;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dataset: a local directory holding its files (a hub snapshot or a datasets folder).
    #[arg(short = 'n', long = "name", value_name = "DIR")]
    pub name: String,

    /// Configuration (subset) to import: a subdirectory of the dataset.
    #[arg(short = 's', long = "subset", value_name = "NAME")]
    pub subset: Option<String>,

    /// Directory to write `train/` and `test/` into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Test split to carve out of train when the dataset has none: a fraction or a row count.
    #[arg(short = 't', long = "test-split", value_name = "SIZE", value_parser = parse_split_size)]
    pub test_split: Option<SplitSize>,

    /// Rows per output shard.
    #[arg(
        value_parser = crate::flags::py_int::<u64>,
        short = 'b',
        long = "batch-size",
        default_value_t = 100_000,
        value_name = "N"
    )]
    pub batch_size: u64,

    /// Seed of the shuffle and of the carved test split.
    #[arg(value_parser = crate::flags::py_int::<i64>, short = 'S', long, default_value_t = 333)]
    pub seed: i64,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: ImportArgs, g: Globals) -> Result<()> {
    let started = std::time::Instant::now();
    let params = ImportParams {
        name: args.name,
        subset: args.subset,
        output: args.output,
        test_split: args.test_split,
        batch_size: args.batch_size,
        seed: args.seed,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
    };
    let r = import(&params, &g.observer(args.common.show_sql)).await?;
    if !g.quiet {
        eprintln!(
            "imported {} rows from {} into {} files under {} ({}) in {:.2}s",
            r.rows,
            r.source.display(),
            r.files,
            params.output.display(),
            human_bytes(r.bytes as f64),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

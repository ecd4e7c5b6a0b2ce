//! Datasets in, datasets (or figures about them) out.

pub mod balance;
pub mod count_tokens;
pub mod export;
pub mod import_hf;
pub mod label_distribution;
pub mod normalize;
pub mod reshard;
pub mod sample;
pub mod transform;

use std::path::{Path, PathBuf};

use clap::Args;
use pick_engine::ops::Mirrored;
use pick_engine::units::human_bytes;

use crate::args::CommonArgs;

/// Input and output of a command that rewrites a dataset shard for shard.
#[derive(Debug, Args)]
pub struct IoArgs {
    /// Dataset to read (a directory, a shard, or a glob).
    #[arg(short = 'i', long = "input-dir", value_name = "DIR")]
    pub input: String,

    /// Directory to write; relative paths, names and compression are kept.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `<verb> N rows from K shards (size) to DIR (size) in Ts`, and the rows skipped.
pub fn report_mirrored(done: &Mirrored, verb: &str, output: &Path) {
    eprintln!(
        "{verb} {} rows from {} shards ({}) to {} ({}) in {:.2}s",
        done.rows,
        done.shards,
        human_bytes(done.bytes_in as f64),
        output.display(),
        human_bytes(done.bytes_out as f64),
        done.elapsed.as_secs_f64()
    );
    report_bad_rows(done.bad_rows);
}

/// `skipped N bad row(s)` when there were any.
pub fn report_bad_rows(bad: u64) {
    if bad > 0 {
        eprintln!("skipped {bad} bad row{}", if bad == 1 { "" } else { "s" });
    }
}

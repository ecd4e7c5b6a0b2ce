//! `pick sample-dataset`: a seeded sample of rows by rate or by size on disk (bonepick §7.4).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::sample::{SampleParams, Wanted, run as sample};
use pick_engine::units::human_bytes;

use crate::args::{CommonArgs, Globals};
use crate::commands::data::report_bad_rows;
use crate::flags::{Either, one_of, parse_byte_size, parse_rate};

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Dataset to read; repeat for several (their relative paths must differ).
    #[arg(short = 'i', long = "dataset-dir", value_name = "DIR", required = true)]
    pub inputs: Vec<String>,

    /// Directory to write; relative paths, names and compression are kept.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Share of the input's bytes to keep, in (0, 1].
    #[arg(short = 'r', long = "sampling-rate", value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Size of the sample on disk: 500MB, 2G, 1.5TB (binary units).
    #[arg(short = 't', long = "target-size", value_name = "SIZE", value_parser = parse_byte_size)]
    pub target_size: Option<u64>,

    /// Seed of the draw.
    #[arg(value_parser = crate::flags::py_int::<i64>, short = 's', long, default_value_t = 42)]
    pub seed: i64,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

pub async fn run(args: SampleArgs, g: Globals) -> Result<()> {
    let started = std::time::Instant::now();
    let wanted = match one_of(
        args.rate,
        args.target_size,
        ("-r/--sampling-rate", "-t/--target-size"),
    )? {
        Either::Left(rate) => Wanted::Rate(rate),
        Either::Right(bytes) => Wanted::Bytes(bytes),
    };
    let params = SampleParams {
        inputs: args.inputs,
        output: args.output,
        wanted,
        seed: args.seed,
        partitions: args.common.num_proc,
        read: args.common.read.options(),
        overwrite: args.overwrite,
    };
    let r = sample(&params, &g.observer(args.common.show_sql)).await?;
    if !g.quiet {
        let of_target = match wanted {
            Wanted::Bytes(_) => format!(
                "; {:.2}% of the target",
                100.0 * r.written as f64 / r.target.max(1) as f64
            ),
            Wanted::Rate(_) => String::new(),
        };
        let what = if r.rate >= 1.0 {
            "copied every file".to_string()
        } else {
            format!("sampled {} rows", r.rows)
        };
        eprintln!(
            "{what}, {} ({:.2}% of {}{of_target}) from {} in {:.2}s",
            human_bytes(r.written as f64),
            100.0 * r.written as f64 / r.total.max(1) as f64,
            human_bytes(r.total as f64),
            human_bytes(r.selected as f64),
            started.elapsed().as_secs_f64()
        );
        report_bad_rows(r.bad_rows);
    }
    Ok(())
}

//! `pick sample-dataset`: a seeded sample of rows by rate or by size on disk, mirroring the
//! input's layout (bonepick §7.4). Fixed from bonepick (B17): each row's draw depends on its
//! file and position, not on a seed reused per file; small samples read a seeded choice of
//! whole files and sample evenly inside them rather than keeping a file's head; `-t` sizes are
//! met as pick writes them: if the written sample is more than 2% off (pick's zstd level
//! compresses differently from the input's), it is drawn again with a corrected rate. Several
//! inputs with the same relative path are refused instead of overwriting each other.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use pick_udfs::seeded_random::KeyHasher;

use crate::cli::ReadArgs;
use crate::cli::flags::{Either, one_of, parse_byte_size, parse_rate, usage};
use crate::cli::inputs::Inputs;
use crate::cli::mirror::{Mirror, mirror};
use crate::dataset::sink::PendingFile;
use crate::dataset::{Dataset, Shard, ShardFormat};
use crate::error::{PickError, Result};
use crate::report::human_bytes;

/// Below this share of the input, a sample reads a seeded choice of whole files (bonepick's 5%).
const FEW_FILES_BELOW: f64 = 0.05;
/// How close a `-t` sample must land before it is kept.
const SIZE_TOLERANCE: f64 = 0.02;
const MAX_PASSES: usize = 4;

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
    #[arg(short = 's', long, default_value_t = 42)]
    pub seed: i64,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// The files a sample reads and the share of rows it keeps from them.
#[derive(Debug)]
pub struct Selection {
    /// (input index, shard)
    pub shards: Vec<(usize, Arc<Shard>)>,
    pub rate: f64,
}

/// Every file at `target/total`, or, for small samples, files in seeded order until their
/// sizes reach the target, then that share of their rows.
pub fn select(inputs: &[Arc<Dataset>], target: u64, seed: i64) -> Selection {
    let all: Vec<(usize, Arc<Shard>)> = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.shards.iter().map(move |s| (i, Arc::clone(s))))
        .collect();
    let total: u64 = all.iter().map(|(_, s)| s.size).sum();
    if total == 0 || target >= total {
        return Selection {
            shards: all,
            rate: 1.0,
        };
    }
    let share = target as f64 / total as f64;
    if share >= FEW_FILES_BELOW {
        return Selection {
            shards: all,
            rate: share,
        };
    }
    let mut order: Vec<(f64, (usize, Arc<Shard>))> = all
        .into_iter()
        .map(|(i, s)| {
            let mut h = KeyHasher::new(seed);
            h.write(&(i as u64).to_le_bytes());
            h.write(s.rel.as_bytes());
            (h.finish(), (i, s))
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut shards = Vec::new();
    let mut size = 0u64;
    for (_, (i, s)) in order {
        if size >= target {
            break;
        }
        size += s.size;
        shards.push((i, s));
    }
    shards.sort_by(|a, b| (a.0, &a.1.rel).cmp(&(b.0, &b.1.rel)));
    Selection {
        shards,
        rate: (target as f64 / size as f64).min(1.0),
    }
}

pub async fn run(args: SampleArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let wanted = one_of(
        args.rate,
        args.target_size,
        ("-r/--sampling-rate", "-t/--target-size"),
    )?;
    let inputs = Inputs::open(&args.inputs, args.read.options())?;
    let total = inputs.bytes();
    let target = match wanted {
        Either::Left(rate) => (total as f64 * rate) as u64,
        Either::Right(bytes) => bytes,
    };
    refuse_collisions(&inputs, &args.output)?;
    let mut selection = select(&inputs.datasets, target, args.seed);
    if let Either::Left(r) = wanted
        && selection.shards.len() == inputs.shard_count()
    {
        // Every file is read: each row is kept with exactly the asked probability.
        selection.rate = r;
    }
    let selected: u64 = selection.shards.iter().map(|(_, s)| s.size).sum();
    if !quiet {
        eprintln!(
            "sampling {} of {} ({} of {} files) at rate {:.6}",
            human_bytes(target as f64),
            human_bytes(total as f64),
            selection.shards.len(),
            inputs.shard_count(),
            selection.rate
        );
    }

    let mut rate = selection.rate;
    let mut written = 0u64;
    let mut rows = 0u64;
    for pass in 1..=MAX_PASSES {
        (rows, written) = write_sample(&args, &inputs, &selection, rate, quiet).await?;
        let off = written as f64 / target.max(1) as f64;
        let resample = matches!(wanted, Either::Right(_))
            && rate < 1.0
            && written > 0
            && (off - 1.0).abs() > SIZE_TOLERANCE
            && pass < MAX_PASSES;
        if !resample {
            break;
        }
        let next = (rate / off).min(1.0);
        if !quiet {
            eprintln!(
                "pass {pass}: wrote {} for a target of {}; drawing again at rate {next:.6}",
                human_bytes(written as f64),
                human_bytes(target as f64)
            );
        }
        rate = next;
    }
    if !quiet {
        let of_target = match wanted {
            Either::Right(_) => format!(
                "; {:.2}% of the target",
                100.0 * written as f64 / target.max(1) as f64
            ),
            Either::Left(_) => String::new(),
        };
        let what = if rate >= 1.0 {
            "copied every file".to_string()
        } else {
            format!("sampled {rows} rows")
        };
        eprintln!(
            "{what}, {} ({:.2}% of {}{of_target}) from {} in {:.2}s",
            human_bytes(written as f64),
            100.0 * written as f64 / total.max(1) as f64,
            human_bytes(total as f64),
            human_bytes(selected as f64),
            started.elapsed().as_secs_f64()
        );
        let bad = inputs.bad_rows();
        if bad > 0 {
            eprintln!("skipped {bad} bad row{}", if bad == 1 { "" } else { "s" });
        }
    }
    Ok(())
}

/// Two inputs with the same relative path would write one output file.
fn refuse_collisions(inputs: &Inputs, output: &Path) -> Result<()> {
    let mut seen = std::collections::BTreeMap::new();
    for d in &inputs.datasets {
        for s in &d.shards {
            if let Some(prev) = seen.insert(s.rel.clone(), s.path.clone()) {
                return Err(usage(format!(
                    "{} and {} would both be written to {}",
                    prev.display(),
                    s.path.display(),
                    output.join(&s.rel).display()
                )));
            }
        }
    }
    Ok(())
}

/// Writes the selection at `rate`; returns rows and bytes written.
async fn write_sample(
    args: &SampleArgs,
    inputs: &Inputs,
    selection: &Selection,
    rate: f64,
    quiet: bool,
) -> Result<(u64, u64)> {
    let mut rows = 0;
    let mut bytes = 0;
    for (i, dataset) in inputs.datasets.iter().enumerate() {
        let shards: Vec<Arc<Shard>> = selection
            .shards
            .iter()
            .filter(|(d, _)| *d == i)
            .map(|(_, s)| Arc::clone(s))
            .collect();
        if shards.is_empty() {
            continue;
        }
        if rate >= 1.0 {
            for s in &shards {
                bytes += copy_file(&s.path, &args.output.join(&s.rel))?;
            }
            continue;
        }
        // JSON lines are copied as they are; Parquet and Arrow rows keep their columns.
        let (parquet, json): (Vec<_>, Vec<_>) = shards
            .into_iter()
            .partition(|s| !matches!(s.format, ShardFormat::JsonLines(_)));
        for (group, columns) in [(json, "_json"), (parquet, "*")] {
            if group.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT {columns} FROM t WHERE seeded_random({}, {i}, _file, _row) < {rate:?}",
                args.seed
            );
            let done = mirror(
                Mirror {
                    dataset: Arc::new(dataset.subset(group)),
                    sql,
                    output: &args.output,
                    format: None,
                    partitions: args.num_proc,
                    verb: "sample",
                    show_sql: args.show_sql,
                },
                quiet,
            )
            .await?;
            rows += done.rows;
            bytes += done.bytes_out;
        }
    }
    Ok((rows, bytes))
}

fn copy_file(from: &Path, to: &Path) -> Result<u64> {
    let (pending, mut file) = PendingFile::create(to)?;
    let mut src = std::fs::File::open(from).map_err(|e| PickError::io(from, e))?;
    let n = std::io::copy(&mut src, &mut file).map_err(|e| PickError::io(to, e))?;
    pending.commit()?;
    Ok(n)
}

//! `pick sample-dataset`: a seeded sample of rows by rate or by size on disk, mirroring the
//! input's layout (bonepick §7.4). Fixed from bonepick (B17): each row's draw depends on its
//! file and position, not on a seed reused per file; small samples read a seeded choice of
//! whole files and sample evenly inside them rather than keeping a file's head; `-t` sizes are
//! met as pick writes them: if the written sample is more than 2% off (pick's zstd level
//! compresses differently from the input's), it is drawn again with a corrected rate. Several
//! inputs with the same relative path are refused instead of overwriting each other.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pick_metrics::seeded::KeyHasher;
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions, Shard, ShardFormat};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{Inputs, Mirror, ShardQuery, mirror};
use crate::pipelines::usage;
use crate::plan::Params;
use crate::session::Exec;
use crate::units::human_bytes;
use crate::write::{OutputDir, PendingFile};

/// Below this share of the input, a sample reads a seeded choice of whole files (bonepick's 5%).
const FEW_FILES_BELOW: f64 = 0.05;
/// How close a `-t` sample must land before it is kept.
const SIZE_TOLERANCE: f64 = 0.02;
const MAX_PASSES: usize = 4;

/// How much to keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Wanted {
    /// A share of the input's bytes, in (0, 1].
    Rate(f64),
    /// Bytes on disk.
    Bytes(u64),
}

#[derive(Debug, Clone)]
pub struct SampleParams {
    pub inputs: Vec<String>,
    pub output: PathBuf,
    pub wanted: Wanted,
    pub seed: i64,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct SampleReport {
    pub rows: u64,
    /// Bytes written.
    pub written: u64,
    /// Bytes of the inputs.
    pub total: u64,
    pub target: u64,
    /// Bytes of the files read.
    pub selected: u64,
    /// The rate of the last pass (1.0: every file copied whole).
    pub rate: f64,
    pub bad_rows: u64,
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

pub async fn run(p: &SampleParams, observer: &dyn Observer) -> Result<SampleReport> {
    let wanted = p.wanted;
    let inputs = Inputs::open(&p.inputs, p.read.clone())?;
    let total = inputs.bytes();
    let target = match wanted {
        Wanted::Rate(rate) => (total as f64 * rate) as u64,
        Wanted::Bytes(bytes) => bytes,
    };
    refuse_collisions(&inputs, &p.output)?;
    let out = OutputDir::prepare(&p.output, &inputs.roots(), p.overwrite)?;
    let mut selection = select(&inputs.datasets, target, p.seed);
    if let Wanted::Rate(r) = wanted
        && selection.shards.len() == inputs.shard_count()
    {
        // Every file is read: each row is kept with exactly the asked probability.
        selection.rate = r;
    }
    let selected: u64 = selection.shards.iter().map(|(_, s)| s.size).sum();
    observer.note(&format!(
        "sampling {} of {} ({} of {} files) at rate {:.6}",
        human_bytes(target as f64),
        human_bytes(total as f64),
        selection.shards.len(),
        inputs.shard_count(),
        selection.rate
    ));

    let mut rate = selection.rate;
    let mut written = 0u64;
    let mut rows = 0u64;
    for pass in 1..=MAX_PASSES {
        (rows, written) = write_sample(p, out.path(), &inputs, &selection, rate, observer).await?;
        let off = written as f64 / target.max(1) as f64;
        let resample = matches!(wanted, Wanted::Bytes(_))
            && rate < 1.0
            && written > 0
            && (off - 1.0).abs() > SIZE_TOLERANCE
            && pass < MAX_PASSES;
        if !resample {
            break;
        }
        let next = (rate / off).min(1.0);
        observer.note(&format!(
            "pass {pass}: wrote {} for a target of {}; drawing again at rate {next:.6}",
            human_bytes(written as f64),
            human_bytes(target as f64)
        ));
        rate = next;
    }
    out.commit()?;
    Ok(SampleReport {
        rows,
        written,
        total,
        target,
        selected,
        rate,
        bad_rows: inputs.bad_rows(),
    })
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
    p: &SampleParams,
    output: &Path,
    inputs: &Inputs,
    selection: &Selection,
    rate: f64,
    observer: &dyn Observer,
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
                bytes += copy_file(&s.path, &output.join(&s.rel))?;
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
            let mut params = Params::default();
            let seed = params.int(p.seed);
            let rate = params.float(rate);
            let mut query = ShardQuery::new(columns, params);
            query.filter = Some(format!("seeded_random({seed}, {i}, _file, _row) < {rate}"));
            let done = mirror(
                Mirror {
                    dataset: Arc::new(dataset.subset(group)),
                    query,
                    output,
                    format: None,
                    partitions: p.partitions,
                    verb: "sample",
                    exec: Exec::Local,
                },
                observer,
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

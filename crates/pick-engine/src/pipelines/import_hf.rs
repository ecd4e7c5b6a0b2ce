//! `pick import-hf-dataset`: a Hugging Face dataset as bonepick's `train/` and `test/` JSON-lines
//! shards (bonepick §7.6). Reads the dataset's files from a local directory — a hub snapshot
//! (`huggingface-cli download NAME --repo-type dataset`: Parquet under `data/` or per config)
//! or a folder of Parquet/Arrow/JSON-lines files — since pick never downloads. Unlike bonepick,
//! carving a test split out of train is seeded (B18).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::dataset::{Codec, Dataset, ReadOptions, Shard};
use crate::error::Result;
use crate::observe::Observer;
use crate::ops::shuffle;
use crate::pipelines::{SplitSize, usage};
use crate::plan::Params;
use crate::session::Engine;
use crate::write::{OutputDir, OutputFormat, Planned, ShardedWriter, Written};

#[derive(Debug, Clone)]
pub struct ImportParams {
    /// A local directory holding the dataset's files.
    pub name: String,
    pub subset: Option<String>,
    pub output: PathBuf,
    pub test_split: Option<SplitSize>,
    /// Rows per output shard.
    pub batch_size: u64,
    pub seed: i64,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub source: PathBuf,
    pub files: usize,
    pub bytes: u64,
}

/// The split a Hugging Face file belongs to, from its directories or its name
/// (`data/train-00000-of-00002.parquet`, `test/0000.parquet`, `x-validation.arrow`).
pub fn hf_split(rel: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("train", "train"),
        ("test", "test"),
        ("validation", "validation"),
        ("valid", "validation"),
        ("dev", "validation"),
    ];
    let mut parts: Vec<&str> = rel.split('/').collect();
    let file = parts.pop().unwrap_or("");
    for dir in parts.iter().rev() {
        if let Some((_, s)) = NAMES.iter().find(|(n, _)| dir == n) {
            return Some(s);
        }
    }
    let stem = file.split('.').next().unwrap_or(file);
    stem.split(['-', '_'])
        .find_map(|w| NAMES.iter().find(|(n, _)| *n == w).map(|(_, s)| *s))
}

pub async fn run(p: &ImportParams, observer: &dyn Observer) -> Result<ImportReport> {
    if p.batch_size == 0 {
        return Err(usage("-b/--batch-size must be at least 1"));
    }
    let root = match &p.subset {
        Some(s) => Path::new(&p.name).join(s),
        None => PathBuf::from(&p.name),
    };
    if !root.exists() {
        return Err(usage(format!(
            "{} is not a local dataset directory; pick does not download from the hub: fetch it \
             first (huggingface-cli download {} --repo-type dataset --local-dir DIR) and pass DIR",
            root.display(),
            p.name
        )));
    }
    let dataset = Dataset::open(&root.to_string_lossy(), p.read.clone())?;
    let of = |split: &str| -> Vec<Arc<Shard>> {
        dataset
            .shards
            .iter()
            .filter(|s| hf_split(&s.rel) == Some(split))
            .cloned()
            .collect()
    };
    let out = OutputDir::prepare(&p.output, std::slice::from_ref(&dataset.root), p.overwrite)?;
    let (mut train, test, valid) = (of("train"), of("test"), of("validation"));
    if train.is_empty() && test.is_empty() && valid.is_empty() {
        // No split names at all: the whole dataset is train.
        train = dataset.shards.clone();
    }
    if train.is_empty() {
        return Err(usage(format!("{}: no train split found", root.display())));
    }
    let carve = match (test.is_empty(), p.test_split) {
        (false, _) => None,
        (true, Some(size)) => Some(size),
        (true, None) => {
            return Err(usage(format!(
                "{} has no test split: pass -t/--test-split (a fraction or a row count)",
                root.display()
            )));
        }
    };

    // Given test rows first, then train (the first rows of which are a carved test split).
    let mut written = Written::default();
    // A `validation` split is bonepick's `valid/` (bonepick 0.5.0 dropped it).
    for (split, shards, carve) in [
        ("test", test, None),
        ("valid", valid, None),
        ("train", train, carve),
    ] {
        if shards.is_empty() {
            continue;
        }
        let engine = Engine::new(dataset.options.clone(), p.partitions)?;
        let bytes: u64 = shards.iter().map(|s| s.size).sum::<u64>() * 5;
        engine.register_dataset("t", dataset.subset(shards))?;
        let mut params = Params::default();
        let seed = params.int(p.seed);
        let query = params.query(format!(
            "SELECT seeded_random({seed}, _file, _row) AS k, _json FROM t"
        ));
        let carved = if carve.is_some() {
            ": the first -t rows to test/, the rest to train/"
        } else {
            ""
        };
        observer.statement(&format!(
            "{};\n-- written in order of k (an external shuffle){carved}",
            query.display()
        ));
        let open = |total: u64| {
            let take = carve.map(|size| size.rows_of(total));
            if let Some(n) = take.filter(|n| *n > total) {
                return Err(usage(format!(
                    "-t/--test-split asks for {n} rows of the {total} there are"
                )));
            }
            Ok(ShardedWriter::new(
                plan(out.path(), split, take, p.batch_size),
                OutputFormat::Jsonl(Codec::Zstd),
                shuffle::schema(),
            ))
        };
        let w = shuffle::shuffle_into(
            &engine,
            &query,
            bytes,
            out.path(),
            open,
            observer.progress(bytes / 5, &format!("import {split}")),
        )
        .await?;
        written.files.extend(w.files);
    }
    out.commit()?;
    Ok(ImportReport {
        rows: written.rows(),
        source: root,
        files: written.files.len(),
        bytes: written.bytes(),
    })
}

/// `shard_<first row>.jsonl.zst` files of `batch` rows; with `carve`, that many rows first go
/// to `test/`.
fn plan(
    output: &Path,
    split: &str,
    carve: Option<u64>,
    batch: u64,
) -> Box<dyn Iterator<Item = Planned>> {
    let files = |dir: PathBuf| {
        (0u64..).map(move |k| (dir.join(format!("shard_{}.jsonl.zst", k * batch)), batch))
    };
    let rest = files(output.join(split));
    match carve {
        None => Box::new(rest),
        Some(n) => {
            let test = files(output.join("test"))
                .enumerate()
                .map(move |(k, (p, _))| (p, batch.min(n - k as u64 * batch)))
                .take(n.div_ceil(batch) as usize);
            Box::new(test.chain(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hf_split;

    #[test]
    fn splits_from_hub_layouts() {
        assert_eq!(hf_split("data/train-00000-of-00002.parquet"), Some("train"));
        assert_eq!(hf_split("default/test/0000.parquet"), Some("test"));
        assert_eq!(hf_split("imdb-validation.arrow"), Some("validation"));
        assert_eq!(hf_split("plain_text/unsupervised-0.parquet"), None);
        assert_eq!(hf_split("data/contest.parquet"), None);
    }
}

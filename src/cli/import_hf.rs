//! `pick import-hf-dataset`: a Hugging Face dataset as bonepick's `train/` and `test/` JSON-lines
//! shards (bonepick §7.6). Reads the dataset's files from a local directory — a hub snapshot
//! (`huggingface-cli download NAME --repo-type dataset`: Parquet under `data/` or per config)
//! or a folder of Parquet/Arrow/JSON-lines files — since pick never downloads. Unlike bonepick,
//! carving a test split out of train is seeded (B18).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::cli::ReadArgs;
use crate::cli::flags::{SplitSize, parse_split_size, usage};
use crate::dataset::sharded::{Planned, ShardedWriter, Written};
use crate::dataset::shuffle;
use crate::dataset::sink::OutputFormat;
use crate::dataset::{Codec, Dataset, Shard};
use crate::engine::Engine;
use crate::error::Result;
use crate::report::human_bytes;

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
        short = 'b',
        long = "batch-size",
        default_value_t = 100_000,
        value_name = "N"
    )]
    pub batch_size: u64,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Seed of the shuffle and of the carved test split.
    #[arg(short = 'S', long, default_value_t = 333)]
    pub seed: i64,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
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

pub async fn run(args: ImportArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    if args.batch_size == 0 {
        return Err(usage("-b/--batch-size must be at least 1"));
    }
    let root = match &args.subset {
        Some(s) => Path::new(&args.name).join(s),
        None => PathBuf::from(&args.name),
    };
    if !root.exists() {
        return Err(usage(format!(
            "{} is not a local dataset directory; pick does not download from the hub: fetch it \
             first (huggingface-cli download {} --repo-type dataset --local-dir DIR) and pass DIR",
            root.display(),
            args.name
        )));
    }
    let dataset = Dataset::open(&root.to_string_lossy(), args.read.options())?;
    let of = |split: &str| -> Vec<Arc<Shard>> {
        dataset
            .shards
            .iter()
            .filter(|s| hf_split(&s.rel) == Some(split))
            .cloned()
            .collect()
    };
    let (mut train, test) = (of("train"), of("test"));
    if train.is_empty() && test.is_empty() {
        // No split names at all: the whole dataset is train.
        train = dataset.shards.clone();
    }
    if train.is_empty() {
        return Err(usage(format!("{}: no train split found", root.display())));
    }
    let carve = match (test.is_empty(), args.test_split) {
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
    for (split, shards, carve) in [("test", test, None), ("train", train, carve)] {
        if shards.is_empty() {
            continue;
        }
        let engine = Engine::new(dataset.options.clone(), args.num_proc);
        let bytes: u64 = shards.iter().map(|s| s.size).sum::<u64>() * 5;
        engine.register_dataset("t", dataset.subset(shards))?;
        let sql = format!(
            "SELECT seeded_random({}, _file, _row) AS k, _json FROM t",
            args.seed
        );
        if args.show_sql {
            let carved = if carve.is_some() {
                ": the first -t rows to test/, the rest to train/"
            } else {
                ""
            };
            println!("{sql};\n-- written in order of k (an external shuffle){carved}");
        }
        let open = |total: u64| {
            let take = carve.map(|size| size.rows_of(total));
            if let Some(n) = take.filter(|n| *n > total) {
                return Err(usage(format!(
                    "-t/--test-split asks for {n} rows of the {total} there are"
                )));
            }
            Ok(ShardedWriter::new(
                plan(&args.output, split, take, args.batch_size),
                OutputFormat::Jsonl(Codec::Zstd),
                shuffle::schema(),
            ))
        };
        let w = shuffle::shuffle_into(&engine, &sql, bytes, &args.output, open).await?;
        written.files.extend(w.files);
    }
    if !quiet {
        eprintln!(
            "imported {} rows from {} into {} files under {} ({}) in {:.2}s",
            written.rows(),
            root.display(),
            written.files.len(),
            args.output.display(),
            human_bytes(written.bytes() as f64),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
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

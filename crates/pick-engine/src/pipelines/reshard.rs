//! `pick reshard-dataset`: every row shuffled by seed and rewritten as N shards, optionally
//! carving test and valid splits (bonepick §7.5, with B6 and B19 fixed: no empty shards, a
//! split gets files only if it gets rows, and every row is one line whatever its file's end).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dataset::{Codec, ReadOptions};
use crate::error::Result;
use crate::observe::Observer;
use crate::ops::Inputs;
use crate::ops::shuffle;
use crate::pipelines::{SplitSize, usage};
use crate::plan::Params;
use crate::write::{OutputDir, OutputFormat, Planned, ShardedWriter};

#[derive(Debug, Clone)]
pub struct ReshardParams {
    pub inputs: Vec<String>,
    pub output: PathBuf,
    pub num_files: u64,
    pub test: Option<SplitSize>,
    pub valid: Option<SplitSize>,
    pub seed: i64,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct ReshardReport {
    pub rows: u64,
    pub input_shards: usize,
    pub input_bytes: u64,
    pub files: usize,
    pub bytes: u64,
    pub splits: Vec<SplitPlan>,
    pub bad_rows: u64,
}

/// The most files planned beyond the row count (see `plan_splits`).
const MAX_EMPTY_PLAN: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
/// One split's share of the output: its rows and its files.
pub struct SplitPlan {
    pub name: &'static str,
    pub rows: u64,
    pub files: u64,
}

/// Rows and files per split, train first. With no test or valid rows everything is one split
/// written at the top of the output (name "").
pub fn plan_splits(total: u64, files: u64, valid: u64, test: u64) -> Result<Vec<SplitPlan>> {
    if files == 0 {
        return Err(usage("-n/--num-files must be at least 1"));
    }
    // Only files that get rows are written (B6), so asking for more files than rows writes
    // fewer; but planning an absurd count (a path per file) would exhaust memory first.
    if files > total.max(1) && files > MAX_EMPTY_PLAN {
        return Err(usage(format!(
            "-n/--num-files {files}: more files than the {total} rows there are"
        )));
    }
    if valid + test > total {
        return Err(usage(format!(
            "the test ({test}) and valid ({valid}) rows are more than the {total} rows there are"
        )));
    }
    if valid == 0 && test == 0 {
        return Ok(vec![SplitPlan {
            name: "",
            rows: total,
            files,
        }]);
    }
    let share = |rows: u64| -> u64 {
        if rows == 0 {
            0
        } else {
            ((files as f64 * rows as f64 / total as f64).round_ties_even() as u64).max(1)
        }
    };
    let (n_valid, n_test) = (share(valid), share(test));
    let train = total - valid - test;
    let n_train = files as i64 - n_valid as i64 - n_test as i64;
    if train > 0 && n_train <= 0 {
        return Err(usage(format!(
            "not enough files: -n {files} leaves none for the {train} train rows \
             ({n_valid} valid, {n_test} test); ask for more"
        )));
    }
    Ok([
        ("train", train, n_train.max(0) as u64),
        ("valid", valid, n_valid),
        ("test", test, n_test),
    ]
    .into_iter()
    .filter(|(_, rows, _)| *rows > 0)
    .map(|(name, rows, files)| SplitPlan { name, rows, files })
    .collect())
}

/// File `i` of a split of `rows` rows cut into `files`: rows `[round(i·r/f), round((i+1)·r/f))`.
pub fn file_rows(rows: u64, files: u64) -> Vec<u64> {
    let edge = |i: u64| (i as f64 * rows as f64 / files as f64).round_ties_even() as u64;
    (0..files).map(|i| edge(i + 1) - edge(i)).collect()
}

/// `shard_K` names, K counted over all splits and padded to the digits of the file count.
pub fn output_files(output: &Path, plans: &[SplitPlan]) -> Vec<Planned> {
    let total: u64 = plans.iter().map(|p| p.files).sum();
    let width = total.max(1).ilog10() as usize + 1;
    let mut k = 0u64;
    let mut out = Vec::new();
    for plan in plans {
        for rows in file_rows(plan.rows, plan.files) {
            let dir = if plan.name.is_empty() {
                output.to_path_buf()
            } else {
                output.join(plan.name)
            };
            out.push((dir.join(format!("shard_{k:0width$}.jsonl.zst")), rows));
            k += 1;
        }
    }
    out
}

pub async fn run(p: &ReshardParams, observer: &dyn Observer) -> Result<ReshardReport> {
    let inputs = Inputs::open(&p.inputs, p.read.clone())?;
    let out = OutputDir::prepare(&p.output, &inputs.roots(), p.overwrite)?;
    let engine = inputs.engine(p.partitions)?;
    let mut params = Params::default();
    let rows = inputs.rows_cte(&mut params);
    let seed = params.int(p.seed);
    let query = params.query(format!(
        "{rows} SELECT seeded_random({seed}, _dir, _file, _row) AS k, _json FROM rows"
    ));
    observer.statement(&format!(
        "{};\n-- written in order of k (an external shuffle)",
        query.display()
    ));
    let mut plans = Vec::new();
    let open = |total: u64| {
        let valid = p.valid.map_or(0, |s| s.rows_of(total));
        let test = p.test.map_or(0, |s| s.rows_of(total));
        plans = plan_splits(total, p.num_files, valid, test)?;
        let files = output_files(out.path(), &plans);
        Ok(ShardedWriter::new(
            files,
            OutputFormat::Jsonl(Codec::Zstd),
            shuffle::schema(),
        ))
    };
    let written = shuffle::shuffle_into(
        &engine,
        &query,
        inputs.decoded_estimate(),
        out.path(),
        open,
        observer.progress(inputs.bytes(), "reshard"),
    )
    .await?;
    out.commit()?;
    Ok(ReshardReport {
        rows: written.rows(),
        input_shards: inputs.shard_count(),
        input_bytes: inputs.bytes(),
        files: written.files.len(),
        bytes: written.bytes(),
        splits: plans,
        bad_rows: inputs.bad_rows(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_split_is_one_set_of_files() {
        let p = plan_splits(10, 3, 0, 0).unwrap();
        assert_eq!(
            p,
            vec![SplitPlan {
                name: "",
                rows: 10,
                files: 3
            }]
        );
        assert_eq!(file_rows(10, 3), vec![3, 4, 3]);
        // One file is enough (bonepick: "Not enough files").
        assert_eq!(plan_splits(10, 1, 0, 0).unwrap()[0].files, 1);
    }

    #[test]
    fn splits_get_files_by_row_share() {
        let p = plan_splits(1000, 10, 100, 100).unwrap();
        let files: Vec<_> = p.iter().map(|s| (s.name, s.rows, s.files)).collect();
        assert_eq!(
            files,
            vec![("train", 800, 8), ("valid", 100, 1), ("test", 100, 1)]
        );
        // A test split alone gets no empty valid shard (bonepick B6).
        let p = plan_splits(1000, 4, 0, 10).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].files, 1);
        assert!(plan_splits(10, 2, 5, 5).unwrap().iter().all(|s| s.rows > 0));
        assert!(plan_splits(100, 2, 10, 10).is_err());
        assert!(plan_splits(10, 2, 6, 6).is_err());
    }

    #[test]
    fn names_count_across_splits() {
        let p = plan_splits(100, 12, 10, 10).unwrap();
        let f = output_files(Path::new("o"), &p);
        assert_eq!(f.len(), 12);
        assert_eq!(f[0].0, Path::new("o/train/shard_00.jsonl.zst"));
        assert_eq!(f[11].0, Path::new("o/test/shard_11.jsonl.zst"));
        assert_eq!(f.iter().map(|x| x.1).sum::<u64>(), 100);
    }
}

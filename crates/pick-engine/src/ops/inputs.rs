//! Several dataset directories read as one table, for the commands that take `-i` more than
//! once (reshard, balance, sample): each is registered as `t0`, `t1`, ... and a `rows` view
//! stacks their rows with where each came from.

use std::sync::Arc;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::Result;
use crate::plan::Params;
use crate::session::Engine;

pub struct Inputs {
    pub datasets: Vec<Arc<Dataset>>,
}

impl Inputs {
    pub fn open(dirs: &[String], options: ReadOptions) -> Result<Inputs> {
        let datasets = dirs
            .iter()
            .map(|d| Dataset::open(d, options.clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Inputs { datasets })
    }

    pub fn engine(&self, partitions: usize) -> Result<Engine> {
        let options = self.datasets[0].options.clone();
        let engine = Engine::new(options, partitions)?;
        for (i, d) in self.datasets.iter().enumerate() {
            engine.register_dataset(&format!("t{i}"), d.subset(d.shards.clone()))?;
        }
        Ok(engine)
    }

    /// `WITH rows AS (...)`: `_dir` (which `-i`), `_path` (the file as given, for messages),
    /// `_split`, `_file`, `_row` and `_json` of every row.
    pub fn rows_cte(&self, params: &mut Params) -> String {
        let parts: Vec<String> = self
            .datasets
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let root = params.str(format!("{}/", d.root.display()));
                format!(
                    "SELECT {i} AS _dir, {root} || _file AS _path, _split, _file, _row, _json FROM t{i}"
                )
            })
            .collect();
        format!("WITH rows AS ({})", parts.join(" UNION ALL "))
    }

    /// Every input's root directory.
    pub fn roots(&self) -> Vec<std::path::PathBuf> {
        self.datasets.iter().map(|d| d.root.clone()).collect()
    }

    pub fn bytes(&self) -> u64 {
        self.datasets
            .iter()
            .flat_map(|d| d.shards.iter())
            .map(|s| s.size)
            .sum()
    }

    /// A guess at the rows' size as text: compressed shards count five times their size.
    pub fn decoded_estimate(&self) -> u64 {
        self.datasets
            .iter()
            .flat_map(|d| d.shards.iter())
            .map(|s| match s.format {
                crate::dataset::ShardFormat::JsonLines(crate::dataset::Codec::Plain) => s.size,
                _ => s.size * 5,
            })
            .sum()
    }

    pub fn shard_count(&self) -> usize {
        self.datasets.iter().map(|d| d.shards.len()).sum()
    }

    pub fn bad_rows(&self) -> u64 {
        self.datasets
            .iter()
            .map(|d| d.stats.bad_rows.load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    }
}

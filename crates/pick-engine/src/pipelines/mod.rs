//! One pipeline per command: parameters in (plain values, no command-line types), a report out
//! (`serde::Serialize`), progress and statements through an `Observer`. Pipelines never print
//! and never import each other's internals; what two of them share lives in `ops` or `plan`.

pub mod agreement;
pub mod annotate;
pub mod balance;
pub mod batch_annotate;
pub mod bench;
pub mod calibration;
pub mod convert_fasttext;
pub mod count_tokens;
pub mod distill_model2vec;
pub mod eval_fasttext;
pub mod eval_model2vec;
pub mod export;
pub mod import_hf;
pub mod infer;
pub mod label_distribution;
pub mod normalize;
pub mod plots;
pub mod reshard;
pub mod sample;
pub mod sql;
pub mod train_fasttext;
pub mod train_model2vec;
pub mod transform;

use std::path::Path;
use std::sync::Arc;

use pick_fasttext::{Model, shared};

use crate::error::{PickError, Result};

pub use crate::error::usage;
pub use crate::plan::check_jq;

/// A split size: a fraction of the rows or a number of rows.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum SplitSize {
    Fraction(f64),
    Rows(u64),
}

impl SplitSize {
    /// Rows this size takes out of `total` (fractions round half to even, like Python).
    pub fn rows_of(self, total: u64) -> u64 {
        match self {
            SplitSize::Rows(n) => n,
            SplitSize::Fraction(f) => (total as f64 * f).round_ties_even() as u64,
        }
    }
}

/// The shared fastText model at `path` (a `.bin`/`.ftz` file or a directory holding
/// `model.bin`); a missing or unusable file fails the run (exit 1).
pub fn load_fasttext(path: &Path) -> Result<Arc<Model>> {
    shared(path).map_err(|e| PickError::Failed(e.to_string()))
}

/// The shared Model2Vec model in folder `path`; a missing or broken model fails the run
/// (exit 1) with the file and what is wrong.
pub fn load_model2vec(path: &Path) -> Result<Arc<pick_model2vec::StaticModel>> {
    pick_model2vec::shared(path).map_err(|e| PickError::Failed(e.to_string()))
}

//! fastText: training files from a dataset, training, evaluation, and scoring a dataset.

pub mod convert;
pub mod eval;
pub mod train;

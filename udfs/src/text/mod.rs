//! Text normalization as bonepick does it: Python-compatible primitives, plsfix per word run,
//! the nine normalizers, and their SQL functions.

pub mod commits;
pub mod fix;
pub mod indent;
pub mod normalizers;
pub mod sql;
pub mod unicode;

pub use normalizers::{Normalizer, UnknownNormalizer};

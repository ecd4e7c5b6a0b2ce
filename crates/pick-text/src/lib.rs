//! bonepick's text normalizers, byte for byte (Python's string semantics, plsfix per word run,
//! the nine normalizers), the BPE tokenizers two of them need, bonepick's label normalization,
//! and the text of a fastText training line.
//!
//! No DataFusion and no Arrow: the SQL functions in `pick-udfs` wrap these.

pub mod commits;
pub mod fasttext_line;
pub mod fix;
pub mod indent;
pub mod labels;
pub mod normalizers;
pub mod tokenizer;
pub mod unicode;

pub use normalizers::{Normalizer, UnknownNormalizer};

//! Model training.

pub mod fasttext;

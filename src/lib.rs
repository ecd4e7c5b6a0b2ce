//! pick: text-quality classifiers for LLM pretraining data, on one columnar engine.
//!
//! Datasets of JSON-lines and Parquet shards are DataFusion tables (`dataset`); every command
//! is a query over them on the session `engine` builds, with pick's functions (`pick_udfs`)
//! registered.

pub mod cli;
pub mod dataset;
pub mod engine;
pub mod error;
pub mod report;
pub mod train;
pub mod yaml;

pub use error::{PickError, Result};

//! pick's engine: datasets of JSON-lines, Parquet and Arrow shards as DataFusion tables, the
//! session every query runs on (pick's functions registered, memory bounded), the writers, the
//! per-shard runner and the external shuffle, the one query builder, and a pipeline per command
//! (parameters in, a serializable report out). No command-line parsing and no printing here:
//! `pick-cli` parses, calls a pipeline with an `Observer`, and presents its report.

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod dataset;
pub mod error;
pub mod observe;
pub mod ops;
pub mod pipelines;
pub mod plan;
pub mod session;
pub mod store;
pub mod units;
pub mod write;

pub use error::{PickError, Result};
pub use observe::{Observer, Progress, Silent};
pub use plan::{Params, Query};
pub use session::Engine;

//! Datasets: shard discovery, JSON-lines and Parquet readers, the DataFusion table.

pub mod builders;
pub mod conform;
pub mod decode;
pub mod discover;
pub mod infer;
pub mod json_value;
pub mod jtype;
pub mod lines;
pub mod parquet_read;
pub mod partition;
pub mod scan;
pub mod schema_cache;
pub mod scope;
pub mod source;
pub mod table;

pub use decode::Virtual;
pub use discover::{Codec, Shard, ShardFormat};
pub use infer::InferRows;
pub use table::{Dataset, DatasetTable, ReadOptions};

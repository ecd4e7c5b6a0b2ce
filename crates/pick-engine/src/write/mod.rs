//! Writing: atomic files, format sinks (JSON lines, Parquet, CSV), JSON rows and files cut
//! into planned shards.

pub mod atomic;
pub mod sharded;
pub mod sink;
pub mod staging;

pub use atomic::{PendingFile, write_file};
pub use sharded::{Planned, ShardedWriter, Written};
pub use sink::{FileSink, OutputFormat};
pub use staging::OutputDir;

//! How work is run: the per-shard runner (in this process, or as one cluster job that writes
//! every shard where it is read), several inputs read as one table, and the external shuffle.

pub mod inputs;
pub mod labelled;
pub mod llm_rows;
pub mod mirror_job;
pub mod par;
pub mod per_shard;
pub mod shard_writer;
pub mod shuffle;
pub mod watch;

pub use inputs::Inputs;
pub use per_shard::{Mirror, Mirrored, ShardQuery, mirror, stream_in_order};

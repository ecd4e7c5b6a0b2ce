//! How work is run: the per-shard runner, several inputs read as one table, and the external
//! shuffle.

pub mod inputs;
pub mod labelled;
pub mod llm_rows;
pub mod par;
pub mod per_shard;
pub mod shuffle;
pub mod watch;

pub use inputs::Inputs;
pub use per_shard::{Mirror, Mirrored, ShardQuery, mirror, stream_in_order};

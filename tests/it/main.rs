//! Integration tests: one binary, one module per concern.

mod annotate;
mod annotate_llm;
mod bad_input;
mod cli_calibration;
mod cli_export;
mod cli_fasttext;
mod cli_normalize;
mod cli_prep;
mod cli_sql;
mod cli_transform;
#[cfg(feature = "cluster")]
mod cluster;
mod common;
mod crash;
mod distill;
mod fake_llm;
mod fasttext_flow;
mod fasttext_model;
mod guarantees;
mod metrics_sql;
mod model2vec;
mod object_store;
mod plots;
mod quickstart;
mod roundtrip;
mod slt;

//! LLM annotation without DataFusion: the prompt library, chat requests to any
//! OpenAI-compatible endpoint with request and token budgets, retries and a timeout, answers
//! checked against the prompt's schema, the SQLite answer cache, and the Batch API.

pub mod answer;
pub mod batch;
pub mod budget;
pub mod cache;
pub mod client;
mod error;
pub mod prompt;
pub mod request;

pub use error::LlmError;

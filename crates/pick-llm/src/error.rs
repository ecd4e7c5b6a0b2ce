use std::path::PathBuf;

/// What stops an annotation run. A single row's failure is not one of these: it is recorded
/// with the row (`Failure`).
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no {kind} prompt named {name:?}; known: {known}")]
    UnknownPrompt {
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error("prompt {name:?}: {message}")]
    Prompt { name: String, message: String },
    #[error("answer cache {path}: {source}")]
    Cache {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The endpoint refuses every request (a wrong key, an unknown model, no such route):
    /// going on would only record the same failure for every row.
    #[error("{url}: {message}")]
    Endpoint { url: String, message: String },
    #[error("{0}")]
    Usage(String),
}

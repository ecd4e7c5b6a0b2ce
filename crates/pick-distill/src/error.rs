use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DistillError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A model pick cannot distil: what it is and what is supported.
    #[error("{}: {message}", path.display())]
    Unsupported { path: PathBuf, message: String },
    /// A file that is there but cannot be used: the file and why.
    #[error("{}: {message}", path.display())]
    Bad { path: PathBuf, message: String },
    /// A flag value that cannot be used.
    #[error("{0}")]
    Usage(String),
}

impl DistillError {
    pub fn bad(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        DistillError::Bad {
            path: path.into(),
            message: message.into(),
        }
    }
}

//! Library errors. Every variant says what failed and where; the CLI adds what to do.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

pub type Result<T, E = PickError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A row that cannot be read. `line` is 1-based, as editors and `sed -n` count.
    #[error("{file}:{line}: {message}")]
    BadRow {
        file: String,
        line: u64,
        message: String,
    },

    /// A shard that cannot be read past some point (truncated or corrupt compression).
    #[error("{file}: {message} (after line {line})")]
    BadShard {
        file: String,
        line: u64,
        message: String,
    },

    #[error("dataset {}: {message}", path.display())]
    Dataset { path: PathBuf, message: String },

    #[error("{0}")]
    Usage(String),

    /// A run that cannot go on for a reason of the data, not of how pick was called.
    #[error("{0}")]
    Failed(String),

    #[error(transparent)]
    DataFusion(#[from] DataFusionError),

    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    /// An object store refused or failed a request; `url` is the object or prefix asked for.
    #[error("{url}: {message}")]
    Store { url: String, message: String },

    #[error("{}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
}

impl PickError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PickError::Io {
            path: path.into(),
            source,
        }
    }

    /// Errors travel through DataFusion streams wrapped as `External`; this unwraps them
    /// again so the CLI can print the original message.
    pub fn into_datafusion(self) -> DataFusionError {
        match self {
            PickError::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }

    /// Standard output was closed by its reader (`pick sql ... | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            PickError::Io { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            _ => false,
        }
    }

    /// True for errors caused by how pick was called rather than by the data.
    pub fn is_usage(&self) -> bool {
        match self {
            PickError::Usage(_) => true,
            PickError::DataFusion(e) => root_pick_error(e).is_some_and(|p| p.is_usage()),
            _ => false,
        }
    }
}

/// The innermost `PickError` inside a DataFusion error chain, if any.
pub fn root_pick_error(e: &DataFusionError) -> Option<&PickError> {
    match e.find_root() {
        DataFusionError::External(inner) => inner.downcast_ref::<PickError>(),
        _ => None,
    }
}

/// Human-readable message for any error: DataFusion's wrapping prefixes are removed for
/// pick's own errors, DataFusion's messages are kept as DataFusion prints them.
pub fn describe(e: &PickError) -> String {
    match e {
        PickError::DataFusion(df) => match root_pick_error(df) {
            Some(inner) => describe(inner),
            None => match df.find_root() {
                DataFusionError::External(inner) => inner.to_string(),
                DataFusionError::ArrowError(a, _) => a.to_string(),
                root => root.to_string(),
            },
        },
        other => other.to_string(),
    }
}

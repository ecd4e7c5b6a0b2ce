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
                DataFusionError::Execution(message) => match cluster_task_error(message) {
                    Some(inner) => inner,
                    None => df.find_root().to_string(),
                },
                DataFusionError::External(inner) => inner.to_string(),
                DataFusionError::ArrowError(a, _) => a.to_string(),
                root => root.to_string(),
            },
        },
        other => other.to_string(),
    }
}

/// A task's error as a Ballista cluster reports it to the client: the job and stage, then the
/// executor's error in Rust's debug form. The executor's own message (the innermost
/// `Execution("...")`) is what the user needs; the job's id follows it.
fn cluster_task_error(message: &str) -> Option<String> {
    const TASK: &str = "Task failed due to runtime execution error: ";
    const EXECUTION: &str = "Execution(\"";
    let (head, detail) = message.split_once(TASK)?;
    let start = detail.rfind(EXECUTION)? + EXECUTION.len();
    let mut inner = String::new();
    let mut chars = detail[start..].chars();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                'n' => inner.push('\n'),
                't' => inner.push('\t'),
                'r' => inner.push('\r'),
                '0' => inner.push('\0'),
                'u' => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    inner.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => inner.push(other),
            },
            c => inner.push(c),
        }
    }
    let job = head
        .split_whitespace()
        .skip_while(|w| *w != "Job")
        .nth(1)
        .unwrap_or("?");
    Some(format!("Execution error: {inner} (cluster job {job})"))
}

/// A usage error for a parameter combination the command line cannot express.
pub fn usage(message: impl Into<String>) -> PickError {
    PickError::Usage(message.into())
}

#[cfg(test)]
mod tests {
    use super::cluster_task_error;

    #[test]
    fn a_cluster_task_error_reads_as_the_executor_wrote_it() {
        let m = "Job 038HKA651A000 failed: Job failed due to stage 0 failed: Task failed due to \
                 runtime execution error: DataFusionError(Shared(External(DataFusionError(\
                 Execution(\"/m/model.bin: no label \\\"maybe\\\" (labels: a\\nb \\u{e9})\")))))";
        assert_eq!(
            cluster_task_error(m).as_deref(),
            Some(
                "Execution error: /m/model.bin: no label \"maybe\" (labels: a\nb \u{e9}) \
                 (cluster job 038HKA651A000)"
            )
        );
        assert_eq!(cluster_task_error("Execution error: plain"), None);
    }
}

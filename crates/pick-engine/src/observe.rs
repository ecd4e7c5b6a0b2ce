//! How a pipeline tells its caller what is happening without knowing who is watching: progress
//! over a known total, notes for the user, and the statements it runs (for `--show-sql`). The
//! CLI draws bars and prints; a library caller can pass `Silent`.

use std::sync::Arc;

/// Progress over a total fixed when it was made (bytes read, rows written, ...).
pub trait Progress: Send + Sync {
    fn inc(&self, n: u64);
    fn set(&self, position: u64);
    fn finish(&self);
    /// A line of live figures shown with the bar (rates, requests in flight).
    fn message(&self, _line: &str) {}
}

pub trait Observer: Send + Sync {
    /// A progress measure over `total` bytes, labelled `what`.
    fn progress(&self, total: u64, what: &str) -> Arc<dyn Progress>;
    /// A progress measure over `total` items (rows), labelled `what`.
    fn count(&self, total: u64, what: &str) -> Arc<dyn Progress> {
        self.progress(total, what)
    }
    /// A line for the user while the work runs (a warning, a step's outcome).
    fn note(&self, line: &str);
    /// A statement (or a plan step, as a `--` comment) the pipeline is about to run.
    fn statement(&self, sql: &str);
}

/// A warning about the input that does not stop the work (a symbolic-link loop in a dataset):
/// written to stderr whatever the command or its `--quiet`, since it says the data is not
/// what the user thinks.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Watches nothing: for tests and library callers.
pub struct Silent;

struct NoProgress;

impl Progress for NoProgress {
    fn inc(&self, _: u64) {}
    fn set(&self, _: u64) {}
    fn finish(&self) {}
}

impl Observer for Silent {
    fn progress(&self, _: u64, _: &str) -> Arc<dyn Progress> {
        Arc::new(NoProgress)
    }
    fn note(&self, _: &str) {}
    fn statement(&self, _: &str) {}
}

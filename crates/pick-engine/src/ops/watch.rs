//! Progress of a single long query: the bytes its scans have read, polled from the datasets'
//! counters (the scan itself knows nothing of progress bars).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::observe::Progress;
use crate::session::Engine;

/// Stops the polling (and finishes the bar) when dropped.
pub struct Watch {
    task: tokio::task::JoinHandle<()>,
    progress: Arc<dyn Progress>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
        self.progress.finish();
    }
}

/// Sets `progress` to the stored bytes every dataset of `engine` has read, five times a second.
pub fn scan(engine: &Engine, progress: Arc<dyn Progress>) -> Watch {
    let datasets: Vec<_> = engine.datasets().into_iter().map(|(_, d)| d).collect();
    let bar = Arc::clone(&progress);
    let task = tokio::spawn(async move {
        loop {
            let read: u64 = datasets
                .iter()
                .map(|d| d.stats.stored_bytes.load(Ordering::Relaxed))
                .sum();
            bar.set(read);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    Watch { task, progress }
}

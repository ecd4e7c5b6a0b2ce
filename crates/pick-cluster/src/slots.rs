//! A scan's partitions follow the cluster's size: unless the client asked for a number, the
//! scheduler plans each job's scans with as many partitions as its live executors have task
//! slots, counted again every second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ballista::prelude::SessionConfigExt;
use ballista_scheduler::cluster::ClusterState;
use datafusion::common::extensions_options;
use datafusion::config::ConfigExtension;
use datafusion::execution::config::SessionConfig;

extensions_options! {
    /// pick's settings, sent with every job as `pick.*`.
    pub struct PickOptions {
        /// Partitions of each scan; 0: as many as the cluster's executors have task slots.
        pub partitions: usize, default = 0
    }
}

impl ConfigExtension for PickOptions {
    const PREFIX: &'static str = "pick";
}

/// The scheduler's settings before a client's are applied: Ballista's, and pick's (without
/// them, Ballista drops the `pick.*` settings a client sends).
pub fn config() -> SessionConfig {
    SessionConfig::new_with_ballista().with_option_extension(PickOptions::default())
}

/// The task slots of the cluster's live executors.
#[derive(Debug, Clone, Default)]
pub struct Slots(Arc<AtomicUsize>);

impl Slots {
    /// Counts the slots of `state`'s executors that sent a heartbeat, every second.
    pub fn watch(&self, state: Arc<dyn ClusterState>) {
        let total = Arc::clone(&self.0);
        tokio::spawn(async move {
            loop {
                let beating = state.executor_heartbeats();
                let slots: usize = state
                    .registered_executor_metadata()
                    .await
                    .iter()
                    .filter(|m| beating.contains_key(&m.id))
                    .map(|m| m.specification.vcores as usize)
                    .sum();
                total.store(slots, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// `config` with the scans' partitions the client asked for: its number, or the slots
    /// the cluster has now (the client's own guess while no executor has been counted).
    pub fn partitions(&self, config: SessionConfig) -> SessionConfig {
        let asked = config
            .options()
            .extensions
            .get::<PickOptions>()
            .map_or(0, |o| o.partitions);
        if asked > 0 {
            return config.with_target_partitions(asked);
        }
        match self.0.load(Ordering::Relaxed) {
            0 => config,
            n => {
                log::info!("scans cut into {n} partitions, one per task slot of the cluster");
                config.with_target_partitions(n)
            }
        }
    }
}

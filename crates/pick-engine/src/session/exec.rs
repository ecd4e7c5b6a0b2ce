//! Where a command's queries run: in this process, or on a cluster. The cluster is a layer
//! above the engine (the `pick-cluster` crate, on Apache DataFusion Ballista); the engine
//! knows it only as this trait, a source of sessions whose queries run elsewhere.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// A cluster a client sends its queries to.
#[async_trait]
pub trait Cluster: Send + Sync + fmt::Debug {
    /// A session whose queries the cluster runs, cutting each scan into `partitions` streams
    /// (0: as many as the cluster has task slots). pick's functions and tables are added to
    /// it by the engine. Its queries bring the scan's counters home (rows read, bad rows
    /// skipped) into the datasets they read, as a local run counts them.
    async fn session(&self, partitions: usize, runtime: Arc<RuntimeEnv>) -> Result<SessionContext>;

    /// How messages name the cluster (its scheduler's URL).
    fn name(&self) -> String;
}

/// Where a command runs its queries.
#[derive(Debug, Clone, Default)]
pub enum Exec {
    /// In this process.
    #[default]
    Local,
    /// On a cluster; this process plans, and commits what the command writes (a dataset's
    /// shards are written by the executors, `ops::mirror_job`).
    Cluster(Arc<dyn Cluster>),
}

impl Exec {
    pub fn is_local(&self) -> bool {
        matches!(self, Exec::Local)
    }
}

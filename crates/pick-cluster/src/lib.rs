//! pick on an Apache DataFusion Ballista cluster, a layer above the engine: the scheduler and
//! executor roles with pick's functions, tables and scans, and the client sessions a
//! `--cluster` command plans on (`pick_engine::session::Cluster`).
//!
//! A query is planned on the client as it is locally (paths in FROM are opened there, the
//! schema inferred once); its datasets travel inside the logical plan (`codec`, `wire`). The
//! scheduler plans it physically with the engine's one scan, whose file groups Ballista cuts
//! into tasks. Executors read their pieces with the same scan, and resolve pick's functions,
//! and the models they name, in their own process. When a query ends, the client asks the
//! scheduler for the scan counters the executors reported (`counters`).
//!
//! pick's functions are registered in three places, as Ballista requires: the scheduler's
//! session builder, each executor's function registry, and the client after it connects.

pub mod codec;
mod counters;
mod roles;
mod slots;
pub mod wire;

pub use roles::{ExecutorOptions, SchedulerOptions, log_to_stderr, run_executor, run_scheduler};

use std::sync::Arc;

use async_trait::async_trait;
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::config::SessionConfig;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionContext;
use pick_engine::session::Exec;
use pick_engine::{PickError, Result};

/// Where a client's queries run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// A scheduler, `df://HOST:PORT`.
    Remote { host: String, port: u16 },
    /// A scheduler and one executor with `slots` task slots inside this process (Ballista's
    /// standalone mode): the cluster's planning and codecs without other processes.
    Standalone { slots: usize },
}

/// The scheduler's port when a URL names none (Ballista's).
pub const DEFAULT_PORT: u16 = 50050;

impl Cluster {
    /// `df://HOST[:PORT]`, or `standalone`.
    pub fn parse(s: &str) -> Result<Cluster> {
        if s == "standalone" {
            let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
            return Ok(Cluster::Standalone { slots });
        }
        let bad = |why: &str| {
            PickError::Usage(format!(
                "--cluster {s}: {why} (expected df://HOST:PORT or standalone)"
            ))
        };
        let rest = s
            .strip_prefix("df://")
            .ok_or_else(|| bad("not a df:// URL"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None => (rest, DEFAULT_PORT),
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad("no host"));
        }
        Ok(Cluster::Remote {
            host: host.to_string(),
            port,
        })
    }

    /// Where a command's queries run for `--cluster URL`.
    pub fn exec(url: &str) -> Result<Exec> {
        Ok(Exec::Cluster(Arc::new(Cluster::parse(url)?)))
    }
}

#[async_trait]
impl pick_engine::session::Cluster for Cluster {
    async fn session(&self, partitions: usize, runtime: Arc<RuntimeEnv>) -> Result<SessionContext> {
        client_context(self, partitions, runtime).await
    }

    fn name(&self) -> String {
        match self {
            Cluster::Remote { host, port } => format!("df://{host}:{port}"),
            Cluster::Standalone { .. } => "standalone".into(),
        }
    }
}

/// The session a client plans on: Ballista's planner sends what it plans to the cluster, and
/// pick's wraps it so that the scan's counters come home when a query ends. pick's functions
/// and tables are added by the caller (`Engine`), after this: Ballista resets a session's
/// functions when it connects.
///
/// `partitions` = 0: as many partitions per scan as the cluster has task slots (the
/// scheduler counts them when it plans a job; `slots`).
pub async fn client_context(
    cluster: &Cluster,
    partitions: usize,
    runtime: Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    let mut config = SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(codec::logical_codec())
        .with_ballista_physical_extension_codec(codec::physical_codec())
        .with_option_extension(slots::PickOptions { partitions });
    match (partitions, cluster) {
        (0, Cluster::Standalone { slots }) => config = config.with_target_partitions(*slots),
        (0, Cluster::Remote { .. }) => {}
        (n, _) => config = config.with_target_partitions(n),
    }
    let ctx = match cluster {
        Cluster::Remote { host, port } => {
            let state = SessionStateBuilder::new()
                .with_default_features()
                .with_config(config)
                .with_runtime_env(runtime)
                .build();
            SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?
        }
        Cluster::Standalone { slots } => {
            let config = config.with_ballista_standalone_parallelism(*slots);
            let state = roles::scheduler_state(config, runtime)?;
            SessionContext::standalone_with_state(state).await?
        }
    };
    Ok(counters::bring_home(ctx))
}

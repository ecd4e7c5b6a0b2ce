//! The scheduler and executor processes (`pick cluster scheduler`, `pick cluster executor`).
//!
//! Both use Ballista's pull-staged scheduling: an executor asks the scheduler for work, so it
//! needs one port of its own (Arrow Flight, which serves its shuffle output and results) and
//! the scheduler never dials executors. A silent executor is dropped after
//! `executor_timeout` and its tasks run again elsewhere.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::optimizer::ballista_default_optimizer_rules;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::common::Result as DfResult;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::config::SessionConfig;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionContext;

use pick_engine::dataset::scan::{memory_outside_pool, set_tasks_at_once};
use pick_engine::ops::mirror_job::query_planner;
use pick_engine::session::{function_state, memory_limit, register_functions, runtime};
use pick_engine::{PickError, Result};

use crate::Cluster;
use crate::codec::{logical_codec, physical_codec};

/// The scheduler's and executors' logs on stderr, filtered by `RUST_LOG` (`info` when unset,
/// `warn` with `--quiet`): executors joining and leaving, jobs and their stages, task failures.
pub fn log_to_stderr(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(if quiet { "warn" } else { "info" }));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .finish()
        .try_init();
}

fn failed(role: &str, e: impl std::fmt::Display) -> PickError {
    PickError::Failed(format!("{role}: {e}"))
}

/// The scheduler's session for one job: the client's settings, pick's functions, Ballista's
/// optimizer rules, and this process's runtime (the scheduler opens no shard, but plans
/// Parquet scans with the runtime's stores).
pub(crate) fn scheduler_state(
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> DfResult<SessionState> {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_optimizer_rules(ballista_default_optimizer_rules())
        .with_query_planner(query_planner())
        .build();
    // Registered on the built state: the builder's function lists replace the defaults.
    let ctx = SessionContext::new_with_state(state);
    register_functions(&ctx);
    Ok(ctx.state())
}

#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub bind: SocketAddr,
    /// The host executors and clients reach this scheduler at (default: the bind address).
    pub advertise: Option<String>,
    /// How long an executor may be silent before its tasks run elsewhere.
    pub executor_timeout: Duration,
}

/// Runs the scheduler until the process is stopped.
pub async fn run_scheduler(options: SchedulerOptions) -> Result<()> {
    let timeout = options.executor_timeout.as_secs().max(1);
    let slots = crate::slots::Slots::default();
    let counted = slots.clone();
    let config = SchedulerConfig {
        bind_host: options.bind.ip().to_string(),
        bind_port: options.bind.port(),
        external_host: options
            .advertise
            .clone()
            .unwrap_or_else(|| options.bind.ip().to_string()),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        executor_timeout_seconds: timeout,
        expire_dead_executor_interval_seconds: (timeout / 5).max(1),
        // A job whose every executor died fails after the same wait, not Ballista's 3 minutes.
        no_executors_grace_period_seconds: timeout,
        override_config_producer: Some(Arc::new(crate::slots::config)),
        override_session_builder: Some(Arc::new(move |config| {
            let config = slots.partitions(config);
            scheduler_state(config, runtime().map_err(PickError::into_datafusion)?)
        })),
        override_logical_codec: Some(logical_codec()),
        override_physical_codec: Some(physical_codec()),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed("scheduler", e))?;
    counted.watch(cluster.cluster_state());
    start_server(cluster, options.bind, Arc::new(config))
        .await
        .map_err(|e| failed("scheduler", e))
}

#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `df://HOST:PORT`.
    pub scheduler: String,
    /// This executor's Arrow Flight address (one port per executor).
    pub bind: SocketAddr,
    /// The host the scheduler and other executors reach this one at.
    pub advertise: Option<String>,
    /// Tasks run at once.
    pub slots: usize,
    /// Shuffle files (default: a temporary directory).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until the process is stopped.
pub async fn run_executor(options: ExecutorOptions) -> Result<()> {
    let Cluster::Remote { host, port } = Cluster::parse(&options.scheduler)? else {
        return Err(PickError::Usage(format!(
            "--scheduler {}: expected df://HOST:PORT",
            options.scheduler
        )));
    };
    let registry = Arc::new(BallistaFunctionRegistry::from(&function_state()?));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slots = if options.slots == 0 {
        cores
    } else {
        options.slots
    };
    // Each task's decoders and zstd workers get the cores of one slot; what the decoders
    // hold is taken from the pool.
    set_tasks_at_once(slots);
    pick_engine::write::sink::set_writers_at_once(slots);
    let pool = memory_limit().saturating_sub(memory_outside_pool(slots));
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        port: options.bind.port(),
        external_host: options.advertise.clone(),
        scheduler_host: host,
        scheduler_port: port,
        // Executors may start before the scheduler: keep trying for a while.
        scheduler_connect_timeout_seconds: 30,
        vcores: slots,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: options
            .work_dir
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        override_function_registry: Some(registry),
        override_runtime_producer: Some(Arc::new(|_config: &SessionConfig| {
            runtime().map_err(PickError::into_datafusion)
        })),
        override_logical_codec: Some(logical_codec()),
        override_physical_codec: Some(physical_codec()),
        // Shared by the task slots, as pick's own memory limit is by a local query's
        // partitions, less what the scans hold outside it.
        memory_pool_size: Some(pool.max(64 << 20) as u64),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed("executor", e))
}

//! The one SessionContext every command runs on: pick's tables and functions registered,
//! paths and globs in FROM resolved as datasets.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::{DynamicFileCatalog, TableProvider, UrlTableFactory};
use datafusion::execution::config::SessionConfig;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionContext;

use datafusion::dataframe::DataFrame;
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{DataType as SqlType, ExactNumberInfo, Ident, Statement};

use crate::dataset::scope::ShardScope;
use crate::dataset::{Dataset, DatasetTable, ReadOptions};
use crate::error::{PickError, Result};
use crate::plan::Query;

mod exec;
mod row_order;
pub mod scope;

pub use exec::{Cluster, Exec};
mod wildcard;

/// Memory every engine of the process shares; sorts and joins beyond it spill to disk.
static MEMORY_LIMIT: OnceLock<usize> = OnceLock::new();
static RUNTIME: OnceLock<Arc<RuntimeEnv>> = OnceLock::new();

/// Sets the memory limit (bytes) of every engine made afterwards; the first call wins.
pub fn set_memory_limit(bytes: usize) {
    let _ = MEMORY_LIMIT.set(bytes);
}

/// Half of the memory this process may use: the machine's, or its container's (cgroup v2
/// `memory.max`, v1 `memory.limit_in_bytes`) where that is lower; 4 GiB where neither can be
/// read.
pub fn default_memory_limit() -> usize {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    limit_from(
        read("/proc/meminfo").as_deref(),
        &[
            read("/sys/fs/cgroup/memory.max"),
            read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
        ],
    )
}

/// [`default_memory_limit`] from the text of `/proc/meminfo` and of the cgroup limit files
/// (v2 says `max` when there is no limit).
fn limit_from(meminfo: Option<&str>, cgroup: &[Option<String>]) -> usize {
    let machine = meminfo.and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = cgroup
        .iter()
        .flatten()
        .filter_map(|v| v.trim().parse::<usize>().ok())
        .min();
    match (machine, cgroup) {
        (Some(m), Some(c)) => m.min(c) / 2,
        (Some(m), None) => m / 2,
        (None, Some(c)) => c / 2,
        (None, None) => 4 << 30,
    }
}

#[cfg(test)]
mod limit_tests {
    use super::limit_from;

    #[test]
    fn a_container_limit_below_the_machine_wins() {
        let meminfo = Some("MemTotal:       25165824 kB\nMemFree: 1 kB\n");
        let gib = 1usize << 30;
        assert_eq!(limit_from(meminfo, &[]), 12 * gib);
        assert_eq!(limit_from(meminfo, &[Some("max\n".into()), None]), 12 * gib);
        assert_eq!(
            limit_from(meminfo, &[Some(format!("{}\n", 2 * gib)), None]),
            gib
        );
        // cgroup v1 says "no limit" with a huge number: the machine's memory is lower.
        assert_eq!(
            limit_from(meminfo, &[None, Some("9223372036854771712".into())]),
            12 * gib
        );
        assert_eq!(limit_from(None, &[Some(format!("{}", 4 * gib))]), 2 * gib);
        assert_eq!(limit_from(None, &[]), 4 * gib);
    }
}

/// The memory limit engines run under.
pub fn memory_limit() -> usize {
    *MEMORY_LIMIT.get_or_init(default_memory_limit)
}

/// The runtime every engine shares: its memory pool is the limit, its disk manager the spill.
/// Without one there would be no limit, so failing to build it fails the command.
pub fn runtime() -> Result<Arc<RuntimeEnv>> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(Arc::clone(rt));
    }
    let rt = RuntimeEnvBuilder::new()
        .with_memory_limit(memory_limit(), 1.0)
        .build_arc()
        .map_err(|e| PickError::Failed(format!("cannot set up the memory-limited runtime: {e}")))?;
    Ok(Arc::clone(RUNTIME.get_or_init(|| rt)))
}

/// A session with pick's functions and the shared runtime, for planning outside an `Engine`
/// (the functions a cluster's executors register).
pub fn function_state() -> Result<datafusion::execution::SessionState> {
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime()?);
    register_functions(&ctx);
    Ok(ctx.state())
}

/// pick's functions on `ctx`, reading models through the engine's stores.
pub fn register_functions(ctx: &SessionContext) {
    pick_udfs::models::set_resolver(resolve_model);
    pick_udfs::register_all(ctx);
}

/// A model location as pick's functions read it: a local path as it is; an object store's
/// model copied to the local cache, once per process (an executor fetches the models its
/// tasks name, and shares them among its tasks).
fn resolve_model(location: &str) -> std::result::Result<std::path::PathBuf, String> {
    if !crate::store::is_url(location) {
        return Ok(std::path::PathBuf::from(location));
    }
    static RESOLVED: std::sync::LazyLock<Mutex<HashMap<String, std::path::PathBuf>>> =
        std::sync::LazyLock::new(Default::default);
    let mut resolved = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(local) = resolved.get(location) {
        return Ok(local.clone());
    }
    let local = crate::store::local::materialize(std::path::Path::new(location))
        .map_err(|e| e.to_string())?;
    resolved.insert(location.to_string(), local.clone());
    Ok(local)
}

/// Datasets a session has opened, by table name (or path), for their scan statistics.
type Opened = Arc<Mutex<Vec<(String, Arc<Dataset>)>>>;

/// The shards the statements being planned can read of each table they name (`scope`).
type Scopes = Arc<Mutex<HashMap<String, ShardScope>>>;

pub struct Engine {
    pub ctx: SessionContext,
    pub options: ReadOptions,
    opened: Opened,
    scopes: Scopes,
}

impl Engine {
    /// `partitions`: how many streams a scan is cut into (0 = one per core). Commands that
    /// need file order use 1; the scan still decodes on every core.
    pub fn new(options: ReadOptions, partitions: usize) -> Result<Engine> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let partitions = if partitions == 0 { cores } else { partitions };
        let mut config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true)
            .with_batch_size(8192);
        // Each sorting partition sets this much aside for merging its spills (10 MB by
        // default); under a small limit that alone would exhaust the pool.
        let reserve = (memory_limit() / (4 * partitions)).min(10 << 20);
        config.options_mut().execution.sort_spill_reservation_bytes = reserve;
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime()?)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(row_order::RowOrder))
            .build();
        Ok(Engine::around(
            SessionContext::new_with_state(state),
            options,
        ))
    }

    /// An engine whose queries run where `exec` says: this process, or a cluster.
    pub async fn open(options: ReadOptions, partitions: usize, exec: &Exec) -> Result<Engine> {
        match exec {
            Exec::Local => Engine::new(options, partitions),
            Exec::Cluster(cluster) => {
                let ctx = cluster.session(partitions, runtime()?).await?;
                Ok(Engine::around(ctx, options))
            }
        }
    }

    /// pick's functions and its path tables on `ctx`.
    fn around(ctx: SessionContext, options: ReadOptions) -> Engine {
        register_functions(&ctx);
        let opened = Opened::default();
        let scopes = Scopes::default();
        let factory = Arc::new(PathTables {
            options: options.clone(),
            opened: Arc::clone(&opened),
            scopes: Arc::clone(&scopes),
        });
        ctx.register_catalog_list(Arc::new(DynamicFileCatalog::new(
            Arc::clone(ctx.state().catalog_list()),
            factory,
        )));
        Engine {
            ctx,
            options,
            opened,
            scopes,
        }
    }

    /// Registers the dataset at `location` (directory, file or glob) as table `name`.
    pub fn register(&self, name: &str, location: &str) -> Result<Arc<DatasetTable>> {
        self.register_dataset(name, Dataset::open(location, self.options.clone())?)
    }

    /// Registers `location` as `name` for the statements of `sql` alone: opened on the shards
    /// they can read (`scope`), when every mention of `name` filters `_split` or `_file`.
    pub fn register_for(&self, name: &str, location: &str, sql: &str) -> Result<Arc<DatasetTable>> {
        let scope = DFParser::parse_sql(sql)
            .ok()
            .and_then(|statements| scope::scopes(&statements).remove(name));
        let dataset = Dataset::open_scoped(location, self.options.clone(), scope.as_ref())?;
        self.register_dataset(name, dataset)
    }

    pub fn register_dataset(&self, name: &str, dataset: Dataset) -> Result<Arc<DatasetTable>> {
        let table = Arc::new(DatasetTable::new(dataset));
        self.ctx
            .register_table(name, Arc::clone(&table) as Arc<dyn TableProvider>)?;
        self.opened
            .lock()
            .expect("opened datasets lock")
            .push((name.to_string(), Arc::clone(table.dataset())));
        Ok(table)
    }

    /// Plans and runs every statement of `sql` in order, returning their results. This is
    /// how all SQL reaches the engine: `SELECT *` over a dataset leaves out the virtual columns.
    pub async fn run_sql(&self, sql: &str) -> Result<Vec<DataFrame>> {
        let statements = DFParser::parse_sql(sql)?;
        // Paths in FROM are opened while planning, on the shards these statements read.
        *self.scopes.lock().expect("scopes lock") = scope::scopes(&statements);
        let planned = self.plan_all(statements).await;
        self.scopes.lock().expect("scopes lock").clear();
        planned
    }

    async fn plan_all(&self, statements: VecDeque<DFStatement>) -> Result<Vec<DataFrame>> {
        let mut frames = Vec::with_capacity(statements.len());
        for mut statement in statements {
            wildcard::hide_virtual_columns(self, &mut statement).await;
            let plan = self.ctx.state().statement_to_plan(statement).await?;
            frames.push(self.ctx.execute_logical_plan(plan).await?);
        }
        Ok(frames)
    }

    /// One statement's result.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        let mut frames = self.run_sql(sql).await?;
        match (frames.pop(), frames.is_empty()) {
            (Some(df), true) => Ok(df),
            _ => Err(PickError::Usage(format!(
                "expected one SQL statement: {sql}"
            ))),
        }
    }

    /// Plans and runs one statement of pick's own, its values bound as parameters: the template is
    /// planned as the body of a `PREPARE` whose parameter types are the values' types, then the
    /// values are bound into the plan. No value is ever part of the SQL text.
    pub async fn query(&self, query: &Query) -> Result<DataFrame> {
        if query.params.is_empty() {
            return self.sql(&query.text).await;
        }
        let mut statements = DFParser::parse_sql(&query.text)?;
        let (Some(mut statement), true) = (statements.pop_front(), statements.is_empty()) else {
            return Err(PickError::Usage(format!(
                "expected one SQL statement: {}",
                query.text
            )));
        };
        wildcard::hide_virtual_columns(self, &mut statement).await;
        let DFStatement::Statement(body) = statement else {
            return Err(PickError::Usage(format!("not a query: {}", query.text)));
        };
        // A cluster's sessions plan VARCHAR as Utf8 (Ballista turns view types off).
        let views = self
            .ctx
            .state()
            .config_options()
            .sql_parser
            .map_string_types_to_utf8view;
        let (types, values): (Vec<SqlType>, Vec<ScalarValue>) =
            query.params.iter().map(|v| parameter(v, views)).unzip();
        let prepared = DFStatement::Statement(Box::new(Statement::Prepare {
            name: Ident::new("pick_query"),
            data_types: types,
            statement: body,
        }));
        let plan = self.ctx.state().statement_to_plan(prepared).await?;
        let plan = plan.with_param_values(values)?;
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// Every dataset this session opened, registered by name or read by path in FROM.
    pub fn datasets(&self) -> Vec<(String, Arc<Dataset>)> {
        self.opened.lock().expect("opened datasets lock").clone()
    }
}

/// A parameter's declared SQL type and its value as the planner types that declaration (text
/// is `VARCHAR`, which DataFusion plans as `Utf8View` when `views`, else `Utf8`).
fn parameter(v: &ScalarValue, views: bool) -> (SqlType, ScalarValue) {
    let text = |s: &Option<String>| {
        if views {
            ScalarValue::Utf8View(s.clone())
        } else {
            ScalarValue::Utf8(s.clone())
        }
    };
    match v {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) => (SqlType::Varchar(None), text(s)),
        ScalarValue::Int64(_) => (SqlType::BigInt(None), v.clone()),
        ScalarValue::Float64(_) => (SqlType::Double(ExactNumberInfo::None), v.clone()),
        other => (SqlType::Varchar(None), text(&Some(other.to_string()))),
    }
}

/// Resolves `FROM 'dir'`, `FROM 'file.jsonl.zst'` and `FROM 'dir/train/*.jsonl'`.
#[derive(Debug)]
struct PathTables {
    options: ReadOptions,
    opened: Opened,
    scopes: Scopes,
}

#[async_trait]
impl UrlTableFactory for PathTables {
    async fn try_new(
        &self,
        url: &str,
    ) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        let looks_like_path = url.contains(['/', '*', '.']) || std::path::Path::new(url).exists();
        if !looks_like_path {
            return Ok(None);
        }
        let scope = self.scopes.lock().expect("scopes lock").get(url).cloned();
        // A dataset opened on some shards is known by its path and that scope.
        let name = match &scope {
            Some(s) => format!("{url} {}", s.key()),
            None => url.to_string(),
        };
        let known = self
            .opened
            .lock()
            .expect("opened datasets lock")
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| Arc::clone(d));
        if let Some(dataset) = known {
            return Ok(Some(Arc::new(DatasetTable::shared(dataset))));
        }
        let dataset = Dataset::open_scoped(url, self.options.clone(), scope.as_ref())
            .map_err(PickError::into_datafusion)?;
        let table = Arc::new(DatasetTable::new(dataset));
        self.opened
            .lock()
            .expect("opened datasets lock")
            .push((name, Arc::clone(table.dataset())));
        Ok(Some(table))
    }
}

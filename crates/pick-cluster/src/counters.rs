//! The counters of a query's scans come home. Executors count the rows they read and the bad
//! rows they skip (`--skip-bad-rows`) in the scan's metrics, which Ballista sends to the
//! scheduler with each successful task. When a query's results are all in, the client asks
//! the scheduler for the job's metrics (`GetJobMetrics`) and adds each scan's counts to the
//! dataset it read, where a local run counts them: a command reports them the same way
//! wherever it ran.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use ballista::prelude::SessionConfigExt;
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::serde::protobuf::operator_metric::Metric;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{GetJobMetricsParams, GetJobMetricsResult};
use ballista_core::utils::{GrpcClientConfig, create_grpc_client_endpoint};
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::source_as_provider;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, displayable,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::protobuf::LogicalPlanNode;
use futures::StreamExt;
use pick_engine::dataset::source::{BAD_ROWS, ROWS_READ};
use pick_engine::dataset::{Dataset, DatasetTable};

use crate::wire::portable;

/// `ctx` with its query planner (Ballista's) wrapped so that every query it sends to the
/// cluster brings its scans' counters home.
pub(crate) fn bring_home(ctx: SessionContext) -> SessionContext {
    let state = ctx.state();
    let inner = Arc::clone(state.query_planner());
    let state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(Arc::new(CountersHome { inner }))
        .build();
    SessionContext::new_with_state(state)
}

#[derive(Debug)]
struct CountersHome {
    inner: Arc<dyn QueryPlanner + Send + Sync>,
}

#[async_trait]
impl QueryPlanner for CountersHome {
    async fn create_physical_plan(
        &self,
        logical: &LogicalPlan,
        session: &dyn Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.create_physical_plan(logical, session).await?;
        let datasets = datasets_in(logical);
        if datasets.is_empty() || job_of(&plan).is_none() {
            return Ok(plan);
        }
        Ok(Arc::new(CountersExec {
            input: plan,
            datasets,
            config: session.config().clone(),
        }))
    }
}

/// The datasets `plan` reads (each once).
fn datasets_in(plan: &LogicalPlan) -> Vec<Arc<Dataset>> {
    let mut found: Vec<Arc<Dataset>> = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(table) = provider.downcast_ref::<DatasetTable>()
            && !found.iter().any(|d| Arc::ptr_eq(d, table.dataset()))
        {
            found.push(Arc::clone(table.dataset()));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn job_of(plan: &Arc<dyn ExecutionPlan>) -> Option<&DistributedQueryExec<LogicalPlanNode>> {
    plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
}

/// A query sent to the cluster, whose stream, once its last batch is in, adds the job's scan
/// counters to the datasets it read.
#[derive(Debug)]
struct CountersExec {
    input: Arc<dyn ExecutionPlan>,
    datasets: Vec<Arc<Dataset>>,
    config: SessionConfig,
}

impl DisplayAs for CountersExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.input.fmt_as(t, f)
    }
}

impl ExecutionPlan for CountersExec {
    fn name(&self) -> &str {
        self.input.name()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn metrics(&self) -> Option<datafusion::physical_plan::metrics::MetricsSet> {
        self.input.metrics()
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let rows = self.input.execute(partition, context)?;
        let schema = rows.schema();
        let (input, datasets, config) = (
            Arc::clone(&self.input),
            self.datasets.clone(),
            self.config.clone(),
        );
        let home = futures::stream::once(async move {
            match fetch(&input, &config).await {
                Ok(metrics) => {
                    add(&metrics, &datasets);
                    None
                }
                // Without the count, rows skipped as unreadable would go unreported.
                Err(e) if datasets.iter().any(|d| d.options.skip_bad_rows) => {
                    Some(Err(DataFusionError::Execution(format!(
                        "the cluster ran the query, but the rows it skipped as unreadable \
                         could not be counted: {e}"
                    ))))
                }
                Err(e) => {
                    log::warn!("scan counters of a cluster job: {e}");
                    None
                }
            }
        })
        .filter_map(|end| async move { end });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            rows.chain(home),
        )))
    }
}

/// The metrics of the job `input` ran, from its scheduler.
async fn fetch(
    input: &Arc<dyn ExecutionPlan>,
    config: &SessionConfig,
) -> Result<GetJobMetricsResult, String> {
    let query = job_of(input).ok_or("not a cluster query")?;
    let job = query.job_id().ok_or("the query has no job")?;
    // Ballista keeps the scheduler's URL to itself but for the plan's text.
    let text = displayable(input.as_ref()).one_line().to_string();
    let url = text
        .split_once("scheduler_url=")
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or_default())
        .filter(|u| !u.is_empty())
        .ok_or("no scheduler URL")?
        .to_string();
    let grpc = GrpcClientConfig::from(&config.ballista_config());
    let endpoint =
        create_grpc_client_endpoint(url.clone(), Some(&grpc)).map_err(|e| format!("{url}: {e}"))?;
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let size = config.ballista_config().grpc_client_max_message_size();
    let mut client = SchedulerGrpcClient::new(channel)
        .max_encoding_message_size(size)
        .max_decoding_message_size(size);
    let result = client
        .get_job_metrics(GetJobMetricsParams {
            job_id: job.to_string(),
        })
        .await
        .map_err(|e| format!("{url}: job {job}: {}", e.message()))?;
    Ok(result.into_inner())
}

/// Adds each pick scan's counters to the dataset whose root it names.
fn add(metrics: &GetJobMetricsResult, datasets: &[Arc<Dataset>]) {
    let roots: Vec<String> = datasets
        .iter()
        .map(|d| format!("root={},", portable(&d.root)))
        .collect();
    for operator in metrics.stages.iter().flat_map(|s| &s.operators) {
        if !operator.operator_desc.contains("file_type=pick") {
            continue;
        }
        let Some(at) = roots
            .iter()
            .position(|r| operator.operator_desc.contains(r.as_str()))
        else {
            continue;
        };
        let stats = &datasets[at].stats;
        for metric in &operator.metrics {
            let Some(Metric::Count(count)) = &metric.metric else {
                continue;
            };
            match count.name.as_str() {
                ROWS_READ => stats.rows.fetch_add(count.value, Ordering::Relaxed),
                BAD_ROWS => stats.bad_rows.fetch_add(count.value, Ordering::Relaxed),
                _ => continue,
            };
        }
    }
}

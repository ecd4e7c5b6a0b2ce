//! A dataset rewritten shard for shard as one cluster job: the scan's partitions hold whole
//! shards, read in file order, and a writer at the top of each partition (`MirrorWriteExec`)
//! writes every shard it sees to its own output file, straight into the command's staging
//! location (a directory every node sees, or a store prefix). What each partition wrote comes
//! back to the client as rows (`manifest_schema`), which checks them against the shards it
//! asked for and commits the output as a local run does.
//!
//! The job is a logical node (`MirrorWrite`) over the statement's plan, so it travels to the
//! scheduler inside the plan, which plans it with `query_planner`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef, DataFusionError, Result as DfResult};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{PickError, Result};
use crate::ops::per_shard::ShardQuery;
use crate::ops::shard_writer::ShardWriter;
use crate::session::{Engine, Exec};
use crate::write::sink::OutputFormat;

/// The columns the statement adds for the writer: each row's shard and row number.
const FILE_COLUMN: &str = "__pick_file";
const ROW_COLUMN: &str = "__pick_row";

/// What a mirror job writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct MirrorSpec {
    /// The staging location: an absolute directory every node sees, or a store URL.
    pub dir: String,
    /// For each shard (its relative path, as `_file` gives it): the output file's relative
    /// path and the suffix of its format.
    pub files: BTreeMap<String, (String, String)>,
    /// The zstd level of `.zst` and Parquet outputs.
    pub zstd_level: i32,
}

impl MirrorSpec {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a spec of strings serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<MirrorSpec> {
        serde_json::from_slice(bytes)
            .map_err(|e| PickError::Failed(format!("a mirror job's spec does not read: {e}")))
    }

    /// Where the shard `rel` is written, and in which format.
    fn target(&self, rel: &str) -> Result<(PathBuf, OutputFormat)> {
        let (name, suffix) = self.files.get(rel).ok_or_else(|| {
            PickError::Failed(format!("{rel}: a shard this job was not asked to write"))
        })?;
        let format = OutputFormat::from_suffix(suffix)
            .ok_or_else(|| PickError::Failed(format!("{suffix}: not an output format")))?;
        let dir = self.dir.trim_end_matches('/');
        Ok((PathBuf::from(format!("{dir}/{name}")), format))
    }
}

/// What each partition reports: one row per output file.
pub fn manifest_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("rows", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
    ]))
}

/// The job as a logical plan node: `input` is the statement, with the writer's two columns
/// last.
#[derive(Debug, Clone)]
pub struct MirrorWrite {
    pub input: LogicalPlan,
    pub spec: Arc<MirrorSpec>,
    schema: DFSchemaRef,
}

impl MirrorWrite {
    pub fn new(input: LogicalPlan, spec: Arc<MirrorSpec>) -> DfResult<MirrorWrite> {
        let schema = Arc::new(DFSchema::try_from(manifest_schema().as_ref().clone())?);
        Ok(MirrorWrite {
            input,
            spec,
            schema,
        })
    }
}

impl PartialEq for MirrorWrite {
    fn eq(&self, other: &Self) -> bool {
        self.input == other.input && self.spec == other.spec
    }
}

impl Eq for MirrorWrite {}

impl PartialOrd for MirrorWrite {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match self.input.partial_cmp(&other.input) {
            Some(std::cmp::Ordering::Equal) => self.spec.partial_cmp(&other.spec),
            o => o,
        }
    }
}

impl Hash for MirrorWrite {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.spec.hash(state);
    }
}

impl UserDefinedLogicalNodeCore for MirrorWrite {
    fn name(&self) -> &str {
        "MirrorWrite"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MirrorWrite: {} shards to {}",
            self.spec.files.len(),
            self.spec.dir
        )
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> DfResult<Self> {
        let [input] = <[LogicalPlan; 1]>::try_from(inputs)
            .map_err(|_| DataFusionError::Internal("MirrorWrite has one input".into()))?;
        MirrorWrite::new(input, Arc::clone(&self.spec))
    }
}

/// The writer: each partition of `input` is whole shards, one after another, each in file
/// order; every shard becomes its own file.
#[derive(Debug)]
pub struct MirrorWriteExec {
    input: Arc<dyn ExecutionPlan>,
    spec: Arc<MirrorSpec>,
    props: Arc<PlanProperties>,
}

impl MirrorWriteExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, spec: Arc<MirrorSpec>) -> MirrorWriteExec {
        let props = PlanProperties::new(
            EquivalenceProperties::new(manifest_schema()),
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        MirrorWriteExec {
            input,
            spec,
            props: Arc::new(props),
        }
    }

    pub fn spec(&self) -> &Arc<MirrorSpec> {
        &self.spec
    }
}

impl DisplayAs for MirrorWriteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MirrorWriteExec: {} shards to {}",
            self.spec.files.len(),
            self.spec.dir
        )
    }
}

impl ExecutionPlan for MirrorWriteExec {
    fn name(&self) -> &str {
        "MirrorWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    // Each partition must stay whole shards in file order: nothing may be spread across
    // partitions beneath the writer.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("MirrorWriteExec has one input".into()))?;
        Ok(Arc::new(MirrorWriteExec::new(
            input,
            Arc::clone(&self.spec),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let rows = self.input.execute(partition, context)?;
        let spec = Arc::clone(&self.spec);
        let written = futures::stream::once(async move {
            write_partition(rows, &spec)
                .await
                .map_err(PickError::into_datafusion)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            manifest_schema(),
            written,
        )))
    }
}

/// Writes the shards of one partition and returns what it wrote.
async fn write_partition(
    mut rows: SendableRecordBatchStream,
    spec: &MirrorSpec,
) -> Result<RecordBatch> {
    let schema = rows.schema();
    let (file_at, row_at) = (schema.index_of(FILE_COLUMN)?, schema.index_of(ROW_COLUMN)?);
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| i != file_at && i != row_at)
        .collect();
    let out_schema = Arc::new(schema.project(&keep)?);
    let mut done: Vec<(String, u64, u64)> = Vec::new();
    // The shard being written: its name, writer, destination and last row number.
    let mut current: Option<(String, ShardWriter, PathBuf, Option<u64>)> = None;
    while let Some(batch) = rows.try_next().await? {
        let files = batch.column(file_at).as_string::<i32>();
        let numbers = arrow::compute::cast(batch.column(row_at), &DataType::UInt64)?;
        let numbers = numbers.as_primitive::<UInt64Type>();
        let data = batch.project(&keep)?;
        let mut start = 0;
        while start < batch.num_rows() {
            let file = files.value(start);
            let end = (start..batch.num_rows())
                .find(|&i| files.value(i) != file)
                .unwrap_or(batch.num_rows());
            if current.as_ref().is_none_or(|c| c.0 != file) {
                if let Some((name, writer, dest, _)) = current.take() {
                    done.push(finish(name, writer, &dest).await?);
                }
                if done.iter().any(|d| d.0 == file) {
                    return Err(out_of_order(file));
                }
                let (dest, format) = spec.target(file)?;
                let writer =
                    ShardWriter::create(&dest, format, Arc::clone(&out_schema), spec.zstd_level)?;
                current = Some((file.to_string(), writer, dest, None));
            }
            let (_, writer, _, last) = current.as_mut().expect("a shard is open");
            for i in start..end {
                let n = numbers.value(i);
                if last.is_some_and(|l| n <= l) {
                    return Err(out_of_order(file));
                }
                *last = Some(n);
            }
            writer.write(&data.slice(start, end - start))?;
            start = end;
        }
    }
    if let Some((name, writer, dest, _)) = current.take() {
        done.push(finish(name, writer, &dest).await?);
    }
    Ok(RecordBatch::try_new(
        manifest_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(
                done.iter().map(|d| d.0.as_str()),
            )),
            Arc::new(UInt64Array::from_iter_values(done.iter().map(|d| d.1))),
            Arc::new(UInt64Array::from_iter_values(done.iter().map(|d| d.2))),
        ],
    )?)
}

fn out_of_order(file: &str) -> PickError {
    PickError::Failed(format!(
        "{file}: the cluster delivered this shard's rows out of file order; nothing was committed"
    ))
}

async fn finish(name: String, writer: ShardWriter, dest: &Path) -> Result<(String, u64, u64)> {
    let rows = writer.finish(1).await?;
    Ok((name, rows, written_size(dest)))
}

/// The size of a file just written, locally or in a store.
pub(crate) fn written_size(dest: &Path) -> u64 {
    if crate::store::is_url_path(dest) {
        crate::store::Remote::parse(&dest.to_string_lossy())
            .and_then(|r| crate::store::read::size(&r))
            .unwrap_or(0)
    } else {
        std::fs::metadata(dest).map_or(0, |m| m.len())
    }
}

/// Plans `MirrorWrite` nodes.
#[derive(Debug)]
struct MirrorPlanner;

#[async_trait]
impl ExtensionPlanner for MirrorPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<MirrorWrite>() else {
            return Ok(None);
        };
        let [input] = physical_inputs else {
            return Err(DataFusionError::Internal(
                "MirrorWrite has one input".into(),
            ));
        };
        Ok(Some(Arc::new(MirrorWriteExec::new(
            Arc::clone(input),
            Arc::clone(&node.spec),
        ))))
    }
}

/// DataFusion's planner, and pick's nodes: what a cluster's scheduler plans jobs with.
#[derive(Debug)]
pub struct PickQueryPlanner;

#[async_trait]
impl QueryPlanner for PickQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(MirrorPlanner)])
            .create_physical_plan(logical_plan, session)
            .await
    }
}

pub fn query_planner() -> Arc<dyn QueryPlanner + Send + Sync> {
    Arc::new(PickQueryPlanner)
}

/// What one job wrote, per shard (its relative path): rows and bytes.
pub type Written = BTreeMap<String, (u64, u64)>;

/// Runs `query` over every shard of `dataset` on the cluster `exec` names, in `partitions`
/// tasks (0: one per task slot of the cluster), writing each shard to `spec`'s location, and
/// returns what was written. Shards the statement left no rows of produce no file here (the
/// caller writes those).
pub async fn run(
    dataset: &Arc<Dataset>,
    query: &ShardQuery,
    spec: MirrorSpec,
    partitions: usize,
    exec: &Exec,
) -> Result<Written> {
    let engine = Engine::open(dataset.options.clone(), partitions, exec).await?;
    // A round-robin spread of a partition's batches would split its shards across writers.
    engine
        .ctx
        .state_ref()
        .write()
        .config_mut()
        .options_mut()
        .optimizer
        .enable_round_robin_repartition = false;
    engine.register_dataset("t", dataset.subset(dataset.shards.clone()))?;
    let extra = format!(", _file AS {FILE_COLUMN}, _row AS {ROW_COLUMN}");
    let statement = engine.query(&query.statement(&extra, false)).await?;
    let expected = spec.files.clone();
    let node = MirrorWrite::new(statement.logical_plan().clone(), Arc::new(spec))?;
    let job = DataFrame::new(
        engine.ctx.state(),
        LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        }),
    );
    let mut written = Written::new();
    for batch in job.collect().await? {
        let files = batch.column(0).as_string::<i32>();
        let rows = batch.column(1).as_primitive::<UInt64Type>();
        let bytes = batch.column(2).as_primitive::<UInt64Type>();
        for i in 0..batch.num_rows() {
            let file = files.value(i);
            if !expected.contains_key(file)
                || written
                    .insert(file.to_string(), (rows.value(i), bytes.value(i)))
                    .is_some()
            {
                return Err(PickError::Failed(format!(
                    "the cluster wrote {file} more than once or unasked; nothing was committed"
                )));
            }
        }
    }
    Ok(written)
}

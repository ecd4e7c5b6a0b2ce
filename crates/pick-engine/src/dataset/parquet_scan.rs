//! Parquet shards through DataFusion's own `ParquetSource`: row groups pruned on their
//! statistics, pages on the page index, filters evaluated while decoding when the session
//! asks for it (`SET datafusion.execution.parquet.pushdown_filters = true`), footers cached
//! by the runtime. pick adds what its tables promise over every format:
//! - `_split` and `_file` are partition values of each file;
//! - `_row` is the Parquet reader's row number;
//! - `_json` is built from the conformed columns, as for Arrow shards;
//! - a file whose column types are not the table's goes through `ConformExpr` (the
//!   type-disagreement rules of `conform`), a missing column reads as null.
//!
//! `ParquetScanExec` sits on the `DataSourceExec`: it gives the table's column types and
//! order, builds `_json`, and keeps the dataset's counters (rows, bytes, shards), which
//! progress bars and `pick bench scan` read.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result as DfResult, ScalarValue};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfig, FileScanConfigBuilder, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_expr::expressions::{Column as PhysicalColumn, lit};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_expr_adapter::{PhysicalExprAdapter, PhysicalExprAdapterFactory};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::StreamExt;
use parquet::arrow::RowNumber;

use crate::dataset::conform::ConformExpr;
use crate::dataset::decode::{Column, Projection, Virtual};
use crate::dataset::discover::Shard;
use crate::dataset::partition::assign;
use crate::dataset::table::Dataset;
use crate::error::PickError;
use crate::write::json_rows::RowWriter;

/// The row number column the Parquet reader adds when `_row` is wanted.
const ROW_NUMBER: &str = "_row_number";

/// A scan of `shards` (all Parquet) of `dataset`, giving `projection`'s columns.
pub fn plan(
    state: &dyn Session,
    dataset: &Arc<Dataset>,
    shards: &[Arc<Shard>],
    projection: Projection,
    filters: &[Expr],
    partitions: usize,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let layout = &dataset.layout;
    let data = Schema::new(layout.schema.fields()[..layout.data_fields].to_vec());
    let parts: Vec<Virtual> = layout
        .virtuals
        .iter()
        .copied()
        .filter(|v| matches!(v, Virtual::Split | Virtual::File))
        .collect();
    let wants_row = projection.wants(Virtual::Row);
    let mut table = TableSchema::builder(Arc::new(data)).with_table_partition_cols(
        parts
            .iter()
            .map(|v| Arc::new(v.field()))
            .collect::<Vec<_>>(),
    );
    if wants_row {
        table = table.with_virtual_columns(vec![Arc::new(
            Field::new(ROW_NUMBER, DataType::Int64, false).with_extension_type(RowNumber),
        )]);
    }
    let table = table.build();

    // The columns the reader gives, as indices into DataFusion's table schema (data,
    // partition values, row number), and where each output column comes from.
    let wants_json = projection.wants(Virtual::Json);
    let mut read: Vec<usize> = Vec::new();
    let slot = |i: usize, read: &mut Vec<usize>| match read.iter().position(|&r| r == i) {
        Some(at) => at,
        None => {
            read.push(i);
            read.len() - 1
        }
    };
    let json_inputs: Vec<usize> = if wants_json {
        (0..layout.data_fields)
            .map(|i| slot(i, &mut read))
            .collect()
    } else {
        Vec::new()
    };
    let sources: Vec<Source> = projection
        .columns
        .iter()
        .map(|c| match *c {
            Column::Data(i) => Source::Read(slot(i, &mut read)),
            Column::Virtual(Virtual::Json) => Source::Json,
            Column::Virtual(Virtual::Row) => {
                Source::Row(slot(layout.data_fields + parts.len(), &mut read))
            }
            Column::Virtual(v) => {
                let at = parts
                    .iter()
                    .position(|p| *p == v)
                    .expect("partition column");
                Source::Read(slot(layout.data_fields + at, &mut read))
            }
        })
        .collect();

    let mut options = TableParquetOptions {
        global: state.config_options().execution.parquet.clone(),
        ..Default::default()
    };
    // The table's strings are Utf8 (as the JSON reader makes them); views would be cast back.
    options.global.schema_force_view_types = false;
    let mut source = ParquetSource::new(table.clone()).with_table_parquet_options(options);
    if let Some(predicate) = predicate(state, &table, filters) {
        source = source.with_predicate(predicate);
    }

    let url = store_url(state, shards)?;
    let groups: Vec<FileGroup> = assign(shards, partitions, false)
        .into_iter()
        .map(|pieces| {
            let files = pieces
                .iter()
                .map(|p| file(&p.shard, &parts))
                .collect::<DfResult<Vec<_>>>()?;
            Ok(FileGroup::new(files))
        })
        .collect::<DfResult<_>>()?;
    let config = FileScanConfigBuilder::new(url, Arc::new(source))
        .with_file_groups(groups)
        .with_projection_indices(Some(read))?
        .with_expr_adapter(Some(Arc::new(ConformAdapterFactory)))
        .with_batch_size(Some(Dataset::BATCH_ROWS))
        .build();
    Ok(Arc::new(ParquetScanExec::new(
        Arc::clone(dataset),
        shards.len(),
        DataSourceExec::from_data_source(config),
        projection,
        sources,
        json_inputs,
    )))
}

/// The scan's filters as one predicate over DataFusion's table schema, leaving out those on
/// columns it does not have (`_json`, and `_row`, typed differently there).
fn predicate(
    state: &dyn Session,
    table: &TableSchema,
    filters: &[Expr],
) -> Option<Arc<dyn PhysicalExpr>> {
    let schema = table.table_schema();
    let usable = filters.iter().filter(|f| {
        f.column_refs()
            .iter()
            .all(|c| c.name != ROW_NUMBER && schema.index_of(&c.name).is_ok())
    });
    let expr = conjunction(usable.cloned())?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone()).ok()?;
    state.create_physical_expr(expr, &df_schema).ok()
}

/// The store the shards are in, registered with the session's runtime (local files are in
/// the one it starts with).
fn store_url(state: &dyn Session, shards: &[Arc<Shard>]) -> DfResult<ObjectStoreUrl> {
    match shards.first().and_then(|s| s.object.as_ref()) {
        None => Ok(ObjectStoreUrl::local_filesystem()),
        Some(object) => {
            let url = ObjectStoreUrl::parse(&object.root)?;
            state
                .runtime_env()
                .register_object_store(url.as_ref(), Arc::clone(&object.store));
            Ok(url)
        }
    }
}

fn file(shard: &Shard, parts: &[Virtual]) -> DfResult<PartitionedFile> {
    let mut file = PartitionedFile::new(shard.rel.clone(), shard.size);
    file.object_meta.location = match &shard.object {
        Some(object) => object.path(),
        None => {
            crate::store::local::object_path(&shard.path).map_err(PickError::into_datafusion)?
        }
    };
    // The runtime's footer cache keys on size and modification time: a local shard's
    // version is its mtime in nanoseconds, an object's its ETag.
    match &shard.object {
        None => {
            if let Ok(ns) = shard.version.parse::<i64>() {
                file.object_meta.last_modified = chrono::DateTime::from_timestamp_nanos(ns);
            }
        }
        Some(_) => file.object_meta.e_tag = Some(shard.version.clone()),
    }
    let values = parts
        .iter()
        .map(|v| match v {
            Virtual::Split => ScalarValue::Utf8(shard.split.clone()),
            _ => ScalarValue::Utf8(Some(shard.rel.clone())),
        })
        .collect();
    Ok(file.with_partition_values(values))
}

/// Rewrites the scan's expressions for one file: a column the file lacks is null, one of
/// another type is conformed to the table's.
#[derive(Debug)]
struct ConformAdapterFactory;

impl PhysicalExprAdapterFactory for ConformAdapterFactory {
    fn create(
        &self,
        logical_file_schema: SchemaRef,
        physical_file_schema: SchemaRef,
    ) -> DfResult<Arc<dyn PhysicalExprAdapter>> {
        Ok(Arc::new(ConformAdapter {
            logical: logical_file_schema,
            physical: physical_file_schema,
        }))
    }
}

#[derive(Debug)]
struct ConformAdapter {
    logical: SchemaRef,
    physical: SchemaRef,
}

impl PhysicalExprAdapter for ConformAdapter {
    fn rewrite(&self, expr: Arc<dyn PhysicalExpr>) -> DfResult<Arc<dyn PhysicalExpr>> {
        expr.transform(|e| {
            let Some(column) = e.downcast_ref::<PhysicalColumn>() else {
                return Ok(Transformed::no(e));
            };
            let to = self.logical.field_with_name(column.name())?;
            let Ok(at) = self.physical.index_of(column.name()) else {
                return Ok(Transformed::yes(lit(ScalarValue::try_from(
                    to.data_type(),
                )?)));
            };
            let read: Arc<dyn PhysicalExpr> = Arc::new(PhysicalColumn::new(column.name(), at));
            let from = self.physical.field(at);
            if from.data_type() == to.data_type() {
                return Ok(Transformed::yes(read));
            }
            Ok(Transformed::yes(Arc::new(ConformExpr::new(
                read,
                from.clone(),
                to.clone(),
            ))))
        })
        .data()
    }
}

/// Where an output column of the scan comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A column of the reader's batches.
    Read(usize),
    /// The reader's row number, as `_row`'s type.
    Row(usize),
    /// The row as JSON text, from every data column.
    Json,
}

pub struct ParquetScanExec {
    dataset: Arc<Dataset>,
    shards: usize,
    input: Arc<dyn ExecutionPlan>,
    projection: Projection,
    sources: Vec<Source>,
    json_inputs: Vec<usize>,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    shards_opened: Count,
}

impl fmt::Debug for ParquetScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetScanExec")
            .field("root", &self.dataset.root)
            .field("shards", &self.shards)
            .finish()
    }
}

impl ParquetScanExec {
    fn new(
        dataset: Arc<Dataset>,
        shards: usize,
        input: Arc<dyn ExecutionPlan>,
        projection: Projection,
        sources: Vec<Source>,
        json_inputs: Vec<usize>,
    ) -> Self {
        let props = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&projection.schema)),
            input.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        let metrics = ExecutionPlanMetricsSet::new();
        let shards_opened = MetricBuilder::new(&metrics).global_counter("shards_opened");
        ParquetScanExec {
            dataset,
            shards,
            input,
            projection,
            sources,
            json_inputs,
            props: Arc::new(props),
            metrics,
            shards_opened,
        }
    }

    /// The files of the reader's `partition`, as the dataset's counters count them.
    fn partition_files(&self, partition: usize) -> (u64, u64) {
        let config = self
            .input
            .downcast_ref::<DataSourceExec>()
            .and_then(|d| d.data_source().downcast_ref::<FileScanConfig>());
        config
            .and_then(|c| c.file_groups.get(partition))
            .map_or((0, 0), |g| {
                let files = g.files();
                (
                    files.len() as u64,
                    files.iter().map(|f| f.object_meta.size).sum(),
                )
            })
    }
}

impl DisplayAs for ParquetScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "DatasetScan: root={}, shards={}, format=parquet, columns=[{}]",
            self.dataset.root.display(),
            self.shards,
            self.projection.column_names()
        )
    }
}

impl ExecutionPlan for ParquetScanExec {
    fn name(&self) -> &str {
        "DatasetScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
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
        let input = children.into_iter().next().expect("one child");
        Ok(Arc::new(ParquetScanExec::new(
            Arc::clone(&self.dataset),
            self.shards,
            input,
            self.projection.clone(),
            self.sources.clone(),
            self.json_inputs.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let (files, bytes) = self.partition_files(partition);
        self.shards_opened.add(files as usize);
        let input = self.input.execute(partition, context)?;
        let schema = Arc::clone(&self.projection.schema);
        let stats = Arc::clone(&self.dataset.stats);
        let (sources, json_inputs) = (self.sources.clone(), self.json_inputs.clone());
        let layout = Arc::clone(&self.dataset.layout);
        let out_schema = Arc::clone(&schema);
        let rows = input.map(move |batch| {
            let batch = batch?;
            let n = batch.num_rows();
            stats.rows.fetch_add(n as u64, Ordering::Relaxed);
            let json = if json_inputs.is_empty() {
                None
            } else {
                let fields: Vec<&Field> = (0..layout.data_fields)
                    .map(|i| layout.schema.field(i))
                    .collect();
                let arrays: Vec<ArrayRef> = json_inputs
                    .iter()
                    .map(|&i| Arc::clone(batch.column(i)))
                    .collect();
                let writer =
                    RowWriter::new(&fields, &arrays).map_err(PickError::into_datafusion)?;
                Some(writer.text_column(n))
            };
            let columns = sources
                .iter()
                .map(|s| match *s {
                    Source::Read(i) => Ok(Arc::clone(batch.column(i))),
                    Source::Row(i) => Ok(cast(batch.column(i), &DataType::UInt64)?),
                    Source::Json => Ok(Arc::clone(json.as_ref().expect("built"))),
                })
                .collect::<DfResult<Vec<ArrayRef>>>()?;
            Ok(RecordBatch::try_new_with_options(
                Arc::clone(&out_schema),
                columns,
                &RecordBatchOptions::new().with_row_count(Some(n)),
            )?)
        });
        let stats = Arc::clone(&self.dataset.stats);
        let done = futures::stream::once(async move {
            stats.decoded_bytes.fetch_add(bytes, Ordering::Relaxed);
            stats.stored_bytes.fetch_add(bytes, Ordering::Relaxed);
            stats.shards_done.fetch_add(files, Ordering::Relaxed);
            None
        })
        .filter_map(|end: Option<DfResult<RecordBatch>>| async move { end });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            rows.chain(done),
        )))
    }
}

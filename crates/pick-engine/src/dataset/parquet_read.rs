//! Parquet pieces of a scan, read by DataFusion's own `ParquetSource` inside pick's one scan
//! (`scan::PickSource`): row groups pruned on their statistics, pages on the page index,
//! filters evaluated while decoding when the session asks for it (`SET
//! datafusion.execution.parquet.pushdown_filters = true`), with the options of the session
//! that planned the scan (they travel to a cluster's executors with it). pick adds what its
//! tables promise over every format:
//! - `_split` and `_file` are partition values of each file;
//! - `_row` is the Parquet reader's row number (absolute in the file, so a piece that is a
//!   byte range of a shard numbers its rows as the whole shard does);
//! - `_json` is built from the conformed columns, as for Arrow shards;
//! - a file whose column types are not the table's goes through `ConformExpr` (the
//!   type-disagreement rules of `conform`), a missing column reads as null.
//!
//! `ParquetSource` plans a file as morsels (`Morselizer`); `Mapped` wraps its planners and
//! morsels so that every batch they give is turned into the scan's columns (`ParquetRead::finish`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result as DfResult, ScalarValue};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_expr::execution_props::ExecutionProps;
use datafusion::physical_expr::expressions::{Column as PhysicalColumn, lit};
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};
use datafusion::physical_expr_adapter::{PhysicalExprAdapter, PhysicalExprAdapterFactory};
use datafusion_datasource::morsel::{Morsel, MorselPlan, MorselPlanner, Morselizer};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::ObjectStore;
use parquet::arrow::RowNumber;

use crate::dataset::conform::ConformExpr;
use crate::dataset::decode::{Column, Projection, TableLayout, Virtual};
use crate::dataset::discover::Shard;
use crate::dataset::partition::Piece;
use crate::dataset::source::ScanContext;
use crate::error::PickError;
use crate::format::json_rows::RowWriter;

/// The row number column the Parquet reader adds when `_row` is wanted.
const ROW_NUMBER: &str = "_row_number";

/// How a scan reads its Parquet pieces: the `FileScanConfig` DataFusion's Parquet reader is
/// planned with (the table's data columns, `_split`/`_file` as partition values, the row
/// number, the pruning predicate, the conforming adapter), and how its batches become the
/// scan's columns.
pub(crate) struct ParquetRead {
    config: FileScanConfig,
    parts: Vec<Virtual>,
    sources: Vec<Source>,
    json_inputs: Vec<usize>,
}

impl fmt::Debug for ParquetRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetRead").finish_non_exhaustive()
    }
}

impl ParquetRead {
    /// The reading of `projection`'s columns, pruned by `filters`, with `options`.
    pub(crate) fn new(
        layout: &TableLayout,
        projection: &Projection,
        filters: &[Expr],
        options: TableParquetOptions,
    ) -> DfResult<ParquetRead> {
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

        let mut source = ParquetSource::new(table.clone()).with_table_parquet_options(options);
        if let Some(predicate) = predicate(&table, filters) {
            source = source.with_predicate(predicate);
        }
        // The store is the one each morselizer is made with; this URL is never opened.
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .with_projection_indices(Some(read))?
                .with_expr_adapter(Some(Arc::new(ConformAdapterFactory)))
                .with_batch_size(Some(super::Dataset::BATCH_ROWS))
                .build();
        Ok(ParquetRead {
            config,
            parts,
            sources,
            json_inputs,
        })
    }

    /// The Parquet reader's metrics (row groups pruned, bytes scanned), which the scan shows
    /// as its own.
    pub(crate) fn metrics(&self) -> &datafusion::physical_plan::metrics::ExecutionPlanMetricsSet {
        self.config.file_source().metrics()
    }

    /// DataFusion's morselizer of Parquet files in `store`.
    pub(crate) fn morselizer(
        &self,
        store: Arc<dyn ObjectStore>,
        partition: usize,
    ) -> DfResult<Box<dyn Morselizer>> {
        // DataFusion sets a source's batch size when it opens a scan; this one is opened here.
        let batch = self.config.batch_size.unwrap_or(super::Dataset::BATCH_ROWS);
        self.config
            .file_source()
            .with_batch_size(batch)
            .create_morselizer(store, &self.config, partition)
    }

    /// A batch of the Parquet reader as the scan's columns.
    fn finish(&self, ctx: &ScanContext, batch: RecordBatch) -> DfResult<RecordBatch> {
        let layout = &ctx.layout;
        let n = batch.num_rows();
        ctx.count_rows(n);
        let json = if self.json_inputs.is_empty() {
            None
        } else {
            let fields: Vec<&Field> = (0..layout.data_fields)
                .map(|i| layout.schema.field(i))
                .collect();
            let arrays: Vec<ArrayRef> = self
                .json_inputs
                .iter()
                .map(|&i| Arc::clone(batch.column(i)))
                .collect();
            let writer = RowWriter::new(&fields, &arrays).map_err(PickError::into_datafusion)?;
            Some(writer.text_column(n))
        };
        let columns = self
            .sources
            .iter()
            .map(|s| match *s {
                Source::Read(i) => Ok(Arc::clone(batch.column(i))),
                Source::Row(i) => Ok(cast(batch.column(i), &DataType::UInt64)?),
                Source::Json => Ok(Arc::clone(json.as_ref().expect("built"))),
            })
            .collect::<DfResult<Vec<ArrayRef>>>()?;
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&ctx.projection.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?)
    }

    /// The planner of one Parquet piece: DataFusion's, its batches turned into the scan's.
    pub(crate) fn plan_piece(
        self: &Arc<Self>,
        morselizer: &dyn Morselizer,
        ctx: &Arc<ScanContext>,
        piece: &Piece,
    ) -> DfResult<Box<dyn MorselPlanner>> {
        if piece.opens_shard() {
            ctx.metrics.shards_opened.add(1);
        }
        let stats = &ctx.stats;
        stats
            .decoded_bytes
            .fetch_add(piece.bytes(), Ordering::Relaxed);
        stats
            .stored_bytes
            .fetch_add(piece.bytes(), Ordering::Relaxed);
        if piece.ends_shard() {
            stats.shards_done.fetch_add(1, Ordering::Relaxed);
        }
        let mut file = file(&piece.shard, &self.parts)?;
        file.range = piece
            .range
            .as_ref()
            .map(|r| datafusion::datasource::listing::FileRange {
                start: r.start as i64,
                end: r.end as i64,
            });
        let inner = morselizer.plan_file(file)?;
        Ok(Box::new(Mapped {
            inner,
            read: Arc::clone(self),
            ctx: Arc::clone(ctx),
        }))
    }
}

/// A planner or morsel of DataFusion's Parquet reader whose batches become the scan's.
struct Mapped<T> {
    inner: T,
    read: Arc<ParquetRead>,
    ctx: Arc<ScanContext>,
}

impl<T> fmt::Debug for Mapped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mapped")
    }
}

impl<T> Mapped<T> {
    fn wrap<U>(&self, inner: U) -> Mapped<U> {
        Mapped {
            inner,
            read: Arc::clone(&self.read),
            ctx: Arc::clone(&self.ctx),
        }
    }
}

impl MorselPlanner for Mapped<Box<dyn MorselPlanner>> {
    fn plan(self: Box<Self>) -> DfResult<Option<MorselPlan>> {
        let this = *self;
        let Mapped { inner, read, ctx } = this;
        let shell = Mapped {
            inner: (),
            read,
            ctx,
        };
        let Some(mut plan) = inner.plan()? else {
            return Ok(None);
        };
        let morsels = plan
            .take_morsels()
            .into_iter()
            .map(|m| Box::new(shell.wrap(m)) as Box<dyn Morsel>)
            .collect();
        let planners = plan
            .take_ready_planners()
            .into_iter()
            .map(|p| Box::new(shell.wrap(p)) as Box<dyn MorselPlanner>)
            .collect();
        let mut out = MorselPlan::new()
            .with_morsels(morsels)
            .with_planners(planners);
        if let Some(pending) = plan.take_pending_planner() {
            let shell = shell.wrap(());
            out = out.with_pending_planner(async move {
                let planner = pending.await?;
                Ok(Box::new(shell.wrap(planner)) as Box<dyn MorselPlanner>)
            });
        }
        Ok(Some(out))
    }
}

impl Morsel for Mapped<Box<dyn Morsel>> {
    fn into_stream(self: Box<Self>) -> BoxStream<'static, DfResult<RecordBatch>> {
        let Mapped { inner, read, ctx } = *self;
        inner
            .into_stream()
            .map(move |batch| read.finish(&ctx, batch?))
            .boxed()
    }
}

/// The scan's filters as one predicate over DataFusion's table schema, leaving out those on
/// columns it does not have (`_json`, and `_row`, typed differently there).
fn predicate(table: &TableSchema, filters: &[Expr]) -> Option<Arc<dyn PhysicalExpr>> {
    let schema = table.table_schema();
    let usable = filters.iter().filter(|f| {
        f.column_refs()
            .iter()
            .all(|c| c.name != ROW_NUMBER && schema.index_of(&c.name).is_ok())
    });
    let expr = conjunction(usable.cloned())?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone()).ok()?;
    let planning =
        datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext::default();
    create_physical_expr(&expr, &df_schema, &ExecutionProps::new(), &planning).ok()
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

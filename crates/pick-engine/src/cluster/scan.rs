//! A dataset's scan as a cluster runs it: a `DataSourceExec` whose file source is
//! `ShardSource` and whose file groups are the pieces (`partition::assign`) each partition
//! reads.
//!
//! Locally pick scans through its own `ScanExec`. Ballista cuts a stage's plan into tasks by
//! slicing the file groups of a `FileScanConfig`, whatever its source, and leaves an unknown
//! scan node whole, so each task would read every partition of it. On a cluster a table
//! therefore scans through this source. It reads each piece with the local scan's own
//! machinery: JSON-lines and Arrow shards through the reader thread and the chunk decoder,
//! Parquet shards through `parquet_scan` (pruning, conformed types, `_row`, `_json`).

use std::fmt;
use std::sync::{Arc, OnceLock};

use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::SessionState;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use futures::StreamExt;
use object_store::ObjectStore;

use crate::dataset::decode::{Projection, Virtual};
use crate::dataset::partition::{Piece, assign};
use crate::dataset::table::stream_pieces;
use crate::dataset::{Dataset, ShardFormat, parquet_scan};
use crate::error::PickError;

/// A dataset's scan on the cluster (`DatasetTable::on_cluster`, the client's dataset as the
/// scheduler decodes it): its pieces as the file groups of a `ShardSource`.
pub fn plan(
    state: &dyn Session,
    dataset: &Arc<Dataset>,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let columns: Vec<usize> = match projection {
        Some(p) => p.clone(),
        None => (0..dataset.layout.schema.fields().len()).collect(),
    };
    let source = ShardSource::new(Arc::clone(dataset), columns, filters.to_vec())?;
    let shards = dataset.shards_for(filters);
    let partitions = state.config().target_partitions().max(1);
    let groups = assign(&shards, partitions, !source.projection.wants(Virtual::Row));
    Ok(scan_exec(source, groups, limit) as Arc<dyn ExecutionPlan>)
}

/// The plan reading `groups` (one per partition) through `source`.
pub fn scan_exec(
    source: ShardSource,
    groups: Vec<Vec<Piece>>,
    limit: Option<usize>,
) -> Arc<DataSourceExec> {
    let groups: Vec<FileGroup> = groups
        .into_iter()
        .map(|pieces| FileGroup::new(pieces.into_iter().map(piece_file).collect()))
        .collect();
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(groups)
        .with_limit(limit)
        .build();
    DataSourceExec::from_data_source(config)
}

/// A piece as DataFusion's file stream hands it to the opener: the piece rides along.
fn piece_file(piece: Piece) -> PartitionedFile {
    let mut file = PartitionedFile::new(piece.shard.path.to_string_lossy(), piece.bytes());
    file.extensions.insert(piece);
    file
}

/// The pieces of each partition of a scan through `ShardSource`.
pub fn groups_of(config: &FileScanConfig) -> DfResult<Vec<Vec<Piece>>> {
    config
        .file_groups
        .iter()
        .map(|group| {
            group
                .files()
                .iter()
                .map(|f| {
                    f.extensions.get::<Piece>().cloned().ok_or_else(|| {
                        DataFusionError::Internal(format!(
                            "{}: a pick scan file without its piece",
                            f.object_meta.location
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

/// Reads a dataset's pieces, the projection's columns of each, as pick's local scan does.
#[derive(Clone)]
pub struct ShardSource {
    pub(crate) dataset: Arc<Dataset>,
    /// Indices into the table's columns.
    pub(crate) columns: Vec<usize>,
    pub(crate) filters: Vec<Expr>,
    projection: Projection,
    table: TableSchema,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for ShardSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardSource")
            .field("root", &self.dataset.root)
            .field("columns", &self.projection.column_names())
            .finish()
    }
}

impl ShardSource {
    pub fn new(dataset: Arc<Dataset>, columns: Vec<usize>, filters: Vec<Expr>) -> DfResult<Self> {
        let projection =
            Projection::new(&dataset.layout, Some(&columns)).map_err(PickError::into_datafusion)?;
        // The source gives the projected columns itself; DataFusion sees them as the file's.
        let table = TableSchema::from(Arc::clone(&projection.schema));
        Ok(ShardSource {
            dataset,
            columns,
            filters,
            projection,
            table,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl FileSource for ShardSource {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        _partition: usize,
    ) -> DfResult<Arc<dyn FileOpener>> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let scan = self
            .dataset
            .scan_context(self.projection.clone(), &self.metrics);
        Ok(Arc::new(ShardOpener {
            source: self.clone(),
            scan: Arc::new(scan),
            decoders: cores.div_ceil(base_config.file_groups.len().max(1)).max(1),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table
    }

    fn with_batch_size(&self, _batch_size: usize) -> Arc<dyn FileSource> {
        // Chunks decode to batches of their own size, as in the local scan.
        Arc::new(self.clone())
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "pick"
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            ", root={}, columns=[{}]",
            self.dataset.root.display(),
            self.projection.column_names()
        )
    }

    /// Pieces are cut on line boundaries by `partition::assign`; DataFusion's byte-range
    /// repartitioning would cut lines.
    fn supports_repartitioning(&self) -> bool {
        false
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
}

struct ShardOpener {
    source: ShardSource,
    scan: Arc<crate::dataset::source::ScanContext>,
    decoders: usize,
}

impl FileOpener for ShardOpener {
    fn open(&self, file: PartitionedFile) -> DfResult<FileOpenFuture> {
        let piece = file.extensions.get::<Piece>().cloned().ok_or_else(|| {
            DataFusionError::Internal(format!(
                "{}: a pick scan file without its piece",
                file.object_meta.location
            ))
        })?;
        let schema = Arc::clone(&self.source.projection.schema);
        let stream = if piece.shard.format == ShardFormat::Parquet {
            let state = planning_state()?;
            let plan = parquet_scan::plan(
                state,
                &self.source.dataset,
                std::slice::from_ref(&piece.shard),
                self.source.projection.clone(),
                &self.source.filters,
                1,
            )?;
            plan.execute(0, state.task_ctx())?
        } else {
            stream_pieces(Arc::clone(&self.scan), vec![piece], self.decoders, schema)
        };
        Ok(Box::pin(async move { Ok(stream.boxed()) }))
    }
}

/// The session an executor plans a Parquet shard's read in: pick's functions (a pruning
/// filter may call them) and the process's runtime (its memory limit, stores and footer
/// cache).
fn planning_state() -> DfResult<&'static SessionState> {
    static STATE: OnceLock<SessionState> = OnceLock::new();
    if let Some(state) = STATE.get() {
        return Ok(state);
    }
    let state = crate::session::function_state().map_err(PickError::into_datafusion)?;
    Ok(STATE.get_or_init(|| state))
}

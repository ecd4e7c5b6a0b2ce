//! A dataset as a DataFusion table: `DatasetTable` (the TableProvider) and `ScanExec`.
//!
//! Each partition of a scan reads the shards (or byte ranges of a shard) that
//! `partition::assign` gave it, on a reader thread of its own, and decodes its chunks in
//! order. A partition decodes several chunks at once when there are more cores than
//! partitions, so one compressed shard still uses every core; with one partition
//! (commands that mirror input files use it) the rows come in file order.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::StreamExt;

use crate::dataset::decode::{Projection, TableLayout, Virtual};
use crate::dataset::discover::ShardFormat;
use crate::dataset::discover::{Shard, discover};
use crate::dataset::infer::{InferRows, infer_schema};
use crate::dataset::parquet_scan;
use crate::dataset::partition::{Piece, assign};
use crate::dataset::schema_cache;
use crate::dataset::source::{Item, ScanContext, ScanMetrics, ScanStats, produce};
use crate::error::{PickError, Result};
use crate::session::scope::ShardScope;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub skip_bad_rows: bool,
    pub infer_rows: InferRows,
}

/// A discovered dataset with its inferred schema.
#[derive(Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub shards: Vec<Arc<Shard>>,
    pub layout: Arc<TableLayout>,
    pub options: ReadOptions,
    pub stats: Arc<ScanStats>,
}

impl Dataset {
    /// Discovers the shards under `location` (directory, file or glob) and infers a schema.
    pub fn open(location: &str, options: ReadOptions) -> Result<Dataset> {
        Dataset::open_scoped(location, options, None)
    }

    /// As `open`, keeping only the shards `scope` allows (all of them when it allows none,
    /// so that a query over nothing still plans, and answers with no rows).
    pub fn open_scoped(
        location: &str,
        options: ReadOptions,
        scope: Option<&ShardScope>,
    ) -> Result<Dataset> {
        let (root, mut shards) = discover(location)?;
        if let Some(scope) = scope
            && shards.iter().any(|s| scope.keeps(s))
        {
            shards.retain(|s| scope.keeps(s));
        }
        if shards.is_empty() {
            return Err(PickError::Dataset {
                path: location.into(),
                message: "no shards found (.jsonl, .json, .jsonl.zst, .jsonl.gz, .parquet, ...)"
                    .into(),
            });
        }
        let shards: Vec<Arc<Shard>> = shards.into_iter().map(Arc::new).collect();
        let (rows, skip_bad) = (options.infer_rows, options.skip_bad_rows);
        let data = match schema_cache::load(&shards, rows, skip_bad) {
            Some(schema) => schema,
            None => {
                let schema = infer_schema(&shards, rows, skip_bad)?;
                schema_cache::store(&shards, rows, skip_bad, &schema);
                schema
            }
        };
        let layout = Arc::new(TableLayout::new(data, options.infer_rows.describe()));
        Ok(Dataset {
            root,
            shards,
            layout,
            options,
            stats: Arc::default(),
        })
    }

    /// The same dataset restricted to some of its shards (schema unchanged).
    pub fn subset(&self, shards: Vec<Arc<Shard>>) -> Dataset {
        Dataset {
            root: self.root.clone(),
            shards,
            layout: Arc::clone(&self.layout),
            options: self.options.clone(),
            stats: Arc::clone(&self.stats),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.layout.schema)
    }

    /// What a reader and decoder of `projection`'s columns need, counting into `metrics`.
    pub(crate) fn scan_context(
        &self,
        projection: Projection,
        metrics: &ExecutionPlanMetricsSet,
    ) -> ScanContext {
        ScanContext {
            layout: Arc::clone(&self.layout),
            projection,
            skip_bad_rows: self.options.skip_bad_rows,
            stats: Arc::clone(&self.stats),
            batch_rows: Dataset::BATCH_ROWS,
            metrics: ScanMetrics::new(metrics),
        }
    }

    /// The shards that can hold rows passing `filters`: those on `_split`/`_file` literals
    /// prune shards before any is opened.
    pub fn shards_for(&self, filters: &[Expr]) -> Vec<Arc<Shard>> {
        let mut shards = self.shards.clone();
        for (v, values) in filters.iter().filter_map(shard_filter) {
            shards.retain(|s| {
                let key = match v {
                    Virtual::Split => s.split.as_deref(),
                    _ => Some(s.rel.as_str()),
                };
                key.is_some_and(|k| values.iter().any(|x| x == k))
            });
        }
        shards
    }

    /// Rows per batch handed to DataFusion (Parquet reads; JSON batches are one chunk).
    pub(crate) const BATCH_ROWS: usize = 8192;
}

#[derive(Debug)]
pub struct DatasetTable {
    dataset: Arc<Dataset>,
    /// Scanned as a cluster's tasks read it (`cluster::scan`), not by `ScanExec`.
    #[cfg(feature = "cluster")]
    on_cluster: bool,
}

impl DatasetTable {
    pub fn new(dataset: Dataset) -> Self {
        DatasetTable::shared(Arc::new(dataset))
    }

    /// Another table over an already opened dataset (same schema, same statistics).
    pub fn shared(dataset: Arc<Dataset>) -> Self {
        DatasetTable {
            dataset,
            #[cfg(feature = "cluster")]
            on_cluster: false,
        }
    }

    /// The table on a cluster's scheduler: the client's dataset, scanned in tasks.
    #[cfg(feature = "cluster")]
    pub fn on_cluster(dataset: Dataset) -> Self {
        DatasetTable {
            dataset: Arc::new(dataset),
            on_cluster: true,
        }
    }

    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }
}

/// Filters on `_split` / `_file` that can prune shards before any is opened.
fn shard_filter(expr: &Expr) -> Option<(Virtual, Vec<String>)> {
    let virtual_of = |e: &Expr| match e {
        Expr::Column(c) if c.name == "_split" => Some(Virtual::Split),
        Expr::Column(c) if c.name == "_file" => Some(Virtual::File),
        _ => None,
    };
    let literal = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => {
            Some(s.clone())
        }
        _ => None,
    };
    match expr {
        Expr::BinaryExpr(b) if b.op == Operator::Eq => {
            let (v, s) = match (virtual_of(&b.left), literal(&b.right)) {
                (Some(v), Some(s)) => (v, s),
                _ => (virtual_of(&b.right)?, literal(&b.left)?),
            };
            Some((v, vec![s]))
        }
        Expr::InList(l) if !l.negated => {
            let v = virtual_of(&l.expr)?;
            let values: Option<Vec<String>> = l.list.iter().map(literal).collect();
            Some((v, values?))
        }
        _ => None,
    }
}

#[async_trait]
impl TableProvider for DatasetTable {
    fn schema(&self) -> SchemaRef {
        self.dataset.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Every filter comes to `scan`: those on `_split`/`_file` prune shards, the others
        // Parquet row groups. DataFusion still applies them all to the rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection_indices: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        #[cfg(feature = "cluster")]
        if self.on_cluster {
            let dataset = &self.dataset;
            return crate::cluster::scan::plan(state, dataset, projection_indices, filters, limit);
        }
        let _ = limit;
        let shards = self.dataset.shards_for(filters);
        let partitions = state.config().target_partitions().max(1);
        let (parquet, others): (Vec<_>, Vec<_>) = shards
            .into_iter()
            .partition(|s| s.format == ShardFormat::Parquet);
        let projection =
            |p| Projection::new(&self.dataset.layout, p).map_err(PickError::into_datafusion);
        let parquet = (!parquet.is_empty())
            .then(|| {
                parquet_scan::plan(
                    state,
                    &self.dataset,
                    &parquet,
                    projection(projection_indices)?,
                    filters,
                    partitions,
                )
            })
            .transpose()?;
        let others = (!others.is_empty() || parquet.is_none()).then(|| {
            Ok::<_, datafusion::error::DataFusionError>(Arc::new(ScanExec::new(
                Arc::clone(&self.dataset),
                others,
                projection(projection_indices)?,
                partitions,
            )) as Arc<dyn ExecutionPlan>)
        });
        match (parquet, others.transpose()?) {
            (Some(p), Some(o)) => UnionExec::try_new(vec![o, p]),
            (Some(p), None) => Ok(p),
            (None, Some(o)) => Ok(o),
            (None, None) => unreachable!("one of the two plans is made"),
        }
    }
}

pub struct ScanExec {
    dataset: Arc<Dataset>,
    shards: usize,
    /// Each partition's pieces.
    groups: Arc<Vec<Vec<Piece>>>,
    /// Chunks a partition decodes at once: the cores shared among the partitions.
    decoders: usize,
    /// Set when one reader deals its one group's chunks to every partition in turn.
    dealer: Option<Arc<Dealer>>,
    ctx: Arc<ScanContext>,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl fmt::Debug for ScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanExec")
            .field("root", &self.dataset.root)
            .field("shards", &self.shards)
            .field("partitions", &self.groups.len())
            .finish()
    }
}

impl ScanExec {
    fn new(
        dataset: Arc<Dataset>,
        shards: Vec<Arc<Shard>>,
        projection: Projection,
        partitions: usize,
    ) -> Self {
        // Every partition reads its shards in file order, so over one shard each partition
        // is sorted by `_row`: `ORDER BY _row` becomes a streaming merge, not a sort.
        let schema = Arc::clone(&projection.schema);
        let wants_row = projection.wants(Virtual::Row);
        let row_order = match schema.index_of(Virtual::Row.name()) {
            Ok(i) if shards.len() == 1 => vec![vec![PhysicalSortExpr::new(
                Arc::new(PhysicalColumn::new(Virtual::Row.name(), i)),
                SortOptions {
                    descending: false,
                    nulls_first: false,
                },
            )]],
            _ => vec![],
        };
        // Fewer partitions than asked for when there are fewer pieces: DataFusion spreads
        // the batches itself when the plan above gains from it.
        let groups = assign(&shards, partitions, !wants_row);
        let decoders = decoders_per(groups.len());
        let props = PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema, row_order),
            Partitioning::UnknownPartitioning(groups.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        let metrics = ExecutionPlanMetricsSet::new();
        let ctx = Arc::new(dataset.scan_context(projection, &metrics));
        ScanExec {
            metrics,
            dataset,
            shards: shards.len(),
            groups: Arc::new(groups),
            decoders,
            dealer: None,
            ctx,
            props: Arc::new(props),
        }
    }

    /// This scan of one partition as `n` partitions, its reader dealing chunks to them in
    /// turn, each partition still in file order. It is what a round-robin repartition of
    /// the scan gives, without the repartition's copy (it gathers batches up to the batch
    /// size: with 3 KB rows, 8,192 of them, 24 MB moved to join 4 MB chunks). Its consumer
    /// must read every partition at once (a merge of them does): a partition left unread
    /// holds the reader, and the others, once its channel is full.
    pub(crate) fn dealt(&self, n: usize) -> Option<ScanExec> {
        if self.groups.len() != 1 || n < 2 {
            return None;
        }
        let props = PlanProperties::new(
            self.props.eq_properties.clone(),
            Partitioning::UnknownPartitioning(n),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Some(ScanExec {
            dataset: Arc::clone(&self.dataset),
            shards: self.shards,
            groups: Arc::clone(&self.groups),
            decoders: decoders_per(n),
            dealer: Some(Arc::new(Dealer::new(n))),
            ctx: Arc::clone(&self.ctx),
            props: Arc::new(props),
            metrics: self.metrics.clone(),
        })
    }
}

/// Chunks each of `partitions` decodes at once: the cores shared among them.
fn decoders_per(partitions: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    cores.div_ceil(partitions.max(1)).max(1)
}

type ItemReceiver = async_channel::Receiver<Result<Item>>;

/// The receiving ends of a dealt scan's current reading, taken by its partitions as they are
/// executed. A partition executed again starts a new reading.
#[derive(Debug)]
struct Dealer {
    receivers: std::sync::Mutex<Vec<Option<ItemReceiver>>>,
}

impl Dealer {
    fn new(n: usize) -> Dealer {
        Dealer {
            receivers: std::sync::Mutex::new(vec![None; n]),
        }
    }

    fn take(&self, partition: usize, ctx: &Arc<ScanContext>, pieces: &[Piece]) -> ItemReceiver {
        let mut slots = self.receivers.lock().expect("dealer lock");
        if slots[partition].is_none() {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..slots.len()).map(|_| async_channel::bounded(2)).unzip();
            *slots = receivers.into_iter().map(Some).collect();
            let (ctx, pieces) = (Arc::clone(ctx), pieces.to_vec());
            std::thread::spawn(move || {
                // A partition whose consumer stopped (a limit reached) is passed over; the
                // reading ends when no partition is left.
                let turn = std::cell::RefCell::new((vec![true; senders.len()], 0));
                produce(&ctx, &pieces, &|item| {
                    let (open, next) = &mut *turn.borrow_mut();
                    deal(&senders, open, next, item)
                });
            });
        }
        slots[partition].take().expect("a receiver was just made")
    }
}

impl DisplayAs for ScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "DatasetScan: root={}, shards={}, partitions={}{}, columns=[{}]",
            self.dataset.root.display(),
            self.shards,
            self.props.partitioning.partition_count(),
            if self.dealer.is_some() {
                " (dealt)"
            } else {
                ""
            },
            self.ctx.projection.column_names()
        )
    }
}

impl ExecutionPlan for ScanExec {
    fn name(&self) -> &str {
        "DatasetScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
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
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.ctx.projection.schema);
        if let Some(dealer) = &self.dealer {
            let rx = dealer.take(partition, &self.ctx, &self.groups[0]);
            return Ok(decode_stream(
                Arc::clone(&self.ctx),
                rx,
                self.decoders,
                schema,
            ));
        }
        let pieces = self.groups.get(partition).cloned().ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!(
                "scan partition {partition} of {}",
                self.groups.len()
            ))
        })?;
        Ok(stream_pieces(
            Arc::clone(&self.ctx),
            pieces,
            self.decoders,
            schema,
        ))
    }
}

/// The rows of `pieces`, read in order on a reader thread of their own and decoded
/// `decoders` chunks at a time.
pub(crate) fn stream_pieces(
    ctx: Arc<ScanContext>,
    pieces: Vec<Piece>,
    decoders: usize,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    let (tx, rx) = async_channel::bounded(2 * decoders + 2);
    let reader_ctx = Arc::clone(&ctx);
    std::thread::spawn(move || {
        produce(&reader_ctx, &pieces, &|item| tx.send_blocking(item).is_ok());
    });
    decode_stream(ctx, rx, decoders, schema)
}

/// Sends `item` to the next open partition in turn; false once none is open.
fn deal(
    senders: &[async_channel::Sender<Result<Item>>],
    open: &mut [bool],
    next: &mut usize,
    item: Result<Item>,
) -> bool {
    let mut item = item;
    for _ in 0..senders.len() {
        let at = *next;
        *next = (at + 1) % senders.len();
        if !open[at] {
            continue;
        }
        match senders[at].send_blocking(item) {
            Ok(()) => return true,
            Err(async_channel::SendError(back)) => {
                open[at] = false;
                item = back;
            }
        }
    }
    false
}

/// The batches of the items on `rx`, decoded `decoders` at a time, in order.
fn decode_stream(
    ctx: Arc<ScanContext>,
    rx: ItemReceiver,
    decoders: usize,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    if decoders <= 1 {
        let stream = rx.map(move |item| {
            item.and_then(|i| ctx.decode(i))
                .map_err(PickError::into_datafusion)
        });
        return Box::pin(RecordBatchStreamAdapter::new(schema, stream));
    }
    let stream = rx
        .map(move |item| {
            let ctx = Arc::clone(&ctx);
            tokio::task::spawn_blocking(move || item.and_then(|i| ctx.decode(i)))
        })
        .buffered(decoders)
        .map(|joined| match joined {
            Ok(r) => r.map_err(PickError::into_datafusion),
            Err(e) => Err(datafusion::error::DataFusionError::External(Box::new(e))),
        });
    Box::pin(RecordBatchStreamAdapter::new(schema, stream))
}

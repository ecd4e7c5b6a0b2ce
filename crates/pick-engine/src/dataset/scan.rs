//! The one scan of a dataset, in this process and on a cluster's executors alike: a
//! DataFusion `DataSourceExec` whose `FileScanConfig` has `PickSource` as its file source and
//! the pieces `partition::assign` cuts (shards, byte ranges of big shards) as its file groups.
//!
//! - JSON-lines and Arrow pieces are read by pick's reader thread and chunk decoder
//!   (`source::produce`, `decode`); Parquet pieces by DataFusion's `ParquetSource`
//!   (`parquet_read`), with the options of the session that planned the scan.
//! - Row order is DataFusion's output ordering: over one shard, `[_row ASC]` per partition.
//! - `LIMIT` is the config's limit, which DataFusion's file stream applies per partition.
//! - A one-shard scan can be dealt (`dealt`): its reader hands its chunks to `n` partitions
//!   in turn, each a file group of its own holding the same piece with its `Turn`.
//! - Ballista cuts a stage into tasks by slicing these file groups, so a cluster runs this
//!   very scan; its codec carries the source and the groups' pieces.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use datafusion_datasource::morsel::{Morsel, MorselPlan, MorselPlanner, Morselizer};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::ObjectStore;

use crate::dataset::decode::{Projection, Virtual};
use crate::dataset::parquet_read::ParquetRead;
use crate::dataset::partition::{Piece, assign};
use crate::dataset::source::{Item, ScanContext, ScanMetrics, produce};
use crate::dataset::{Dataset, ShardFormat};
use crate::error::{PickError, Result};

/// The scan of `dataset`'s `projection` columns, its shards pruned by `filters`, in as many
/// partitions as the session's target (fewer when there are fewer pieces).
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
    let mut options = TableParquetOptions {
        global: state.config_options().execution.parquet.clone(),
        ..Default::default()
    };
    // The table's strings are Utf8 (as the JSON reader makes them); views would be cast back.
    options.global.schema_force_view_types = false;
    let mut source = PickSource::new(Arc::clone(dataset), columns, filters.to_vec(), options)?;
    let shards = dataset.shards_for(filters);
    source.scanned = shards.len();
    let partitions = state.config().target_partitions().max(1);
    let wants_row = source.projection.wants(Virtual::Row);
    let groups = assign(&shards, partitions, !wants_row);
    let ordered = wants_row && shards.len() == 1;
    Ok(scan_exec(source, groups, limit, ordered, state.runtime_env())? as Arc<dyn ExecutionPlan>)
}

/// The plan reading `groups` (one per partition) through `source`; `ordered`: every group is
/// in `_row` order (one shard, read in file order).
pub fn scan_exec(
    source: PickSource,
    groups: Vec<Vec<Piece>>,
    limit: Option<usize>,
    ordered: bool,
    runtime: &RuntimeEnv,
) -> DfResult<Arc<DataSourceExec>> {
    let groups: Vec<FileGroup> = groups
        .into_iter()
        .map(|pieces| FileGroup::new(pieces.into_iter().map(piece_file).collect()))
        .collect();
    let ordering = ordered
        .then(|| source.projection.schema.index_of(Virtual::Row.name()).ok())
        .flatten()
        .and_then(|i| {
            LexOrdering::new([PhysicalSortExpr::new(
                Arc::new(PhysicalColumn::new(Virtual::Row.name(), i)),
                SortOptions {
                    descending: false,
                    nulls_first: false,
                },
            )])
        });
    let url = store_url(&source.dataset, runtime)?;
    // Each partition reads its own group (`assign` balances them by size): DataFusion's work
    // stealing would move a piece whose partition's reader already reads it ahead.
    let config = FileScanConfigBuilder::new(url, Arc::new(source))
        .with_file_groups(groups)
        .with_preserve_order(true)
        .with_limit(limit)
        .with_output_ordering(ordering.into_iter().collect())
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// The store the dataset's shards are in, registered with `runtime` (local files are in the
/// one it starts with). DataFusion's Parquet reader opens files through it.
fn store_url(dataset: &Dataset, runtime: &RuntimeEnv) -> DfResult<ObjectStoreUrl> {
    match dataset.shards.first().and_then(|s| s.object.as_ref()) {
        None => Ok(ObjectStoreUrl::local_filesystem()),
        Some(object) => {
            let url = ObjectStoreUrl::parse(&object.root)?;
            runtime.register_object_store(url.as_ref(), Arc::clone(&object.store));
            Ok(url)
        }
    }
}

/// `exec`, a one-piece scan through `PickSource`, as `n` partitions its reader deals the
/// piece's chunks to in turn, each partition still in file order. It is what a round-robin
/// repartition of the scan gives, without the repartition's copy (it gathers batches up to
/// the batch size: with 3 KB rows, 8,192 of them, 24 MB moved to join 4 MB chunks). Its
/// consumer must read every partition at once (a merge of them does): a partition left
/// unread holds the reader, and the others, once its channel is full.
pub(crate) fn dealt(exec: &DataSourceExec, n: usize) -> Option<Arc<DataSourceExec>> {
    let config = exec.data_source().downcast_ref::<FileScanConfig>()?;
    let source = config.file_source().downcast_ref::<PickSource>()?;
    let [group] = config.file_groups.as_slice() else {
        return None;
    };
    let [file] = group.files() else {
        return None;
    };
    // Only pick's reader deals; DataFusion's Parquet reader reads a file whole.
    let piece = file.extensions.get::<Piece>()?;
    if n < 2 || source.dealer.is_some() || piece.shard.format == ShardFormat::Parquet {
        return None;
    }
    let mut source = source.clone();
    source.dealer = Some(Arc::new(Dealer::new(n)));
    let groups = (0..n)
        .map(|k| {
            let mut file = file.clone();
            file.extensions.insert(Turn(k));
            FileGroup::new(vec![file])
        })
        .collect();
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::new(source))
        .with_file_groups(groups)
        .build();
    Some(DataSourceExec::from_data_source(config))
}

/// Which of a dealt scan's partitions a file of it is.
#[derive(Debug, Clone, Copy)]
struct Turn(usize);

/// A piece as DataFusion's file stream hands it to the source: the piece rides along.
fn piece_file(piece: Piece) -> PartitionedFile {
    let mut file = PartitionedFile::new(piece.shard.path.to_string_lossy(), piece.bytes());
    file.extensions.insert(piece);
    file
}

fn piece_of(file: &PartitionedFile) -> DfResult<Piece> {
    file.extensions.get::<Piece>().cloned().ok_or_else(|| {
        DataFusionError::Internal(format!(
            "{}: a pick scan file without its piece",
            file.object_meta.location
        ))
    })
}

/// The pieces of each partition of a scan through `PickSource`.
pub fn groups_of(config: &FileScanConfig) -> DfResult<Vec<Vec<Piece>>> {
    config
        .file_groups
        .iter()
        .map(|group| group.files().iter().map(piece_of).collect())
        .collect()
}

/// Whether `config`'s partitions are each in `_row` order.
pub fn is_ordered(config: &FileScanConfig) -> bool {
    !config.output_ordering.is_empty()
}

/// Reads a dataset's pieces, the projection's columns of each.
#[derive(Clone)]
pub struct PickSource {
    dataset: Arc<Dataset>,
    /// Indices into the table's columns.
    columns: Vec<usize>,
    filters: Vec<Expr>,
    parquet_options: TableParquetOptions,
    projection: Projection,
    table: TableSchema,
    parquet: Option<Arc<ParquetRead>>,
    dealer: Option<Arc<Dealer>>,
    /// Pieces a reader has claimed (`PickMorselizer::read_on`).
    claims: Arc<Claims>,
    /// Shards the scan reads (those its filters do not prune).
    scanned: usize,
    metrics: ExecutionPlanMetricsSet,
    counters: ScanMetrics,
}

impl fmt::Debug for PickSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickSource")
            .field("root", &self.dataset.root)
            .field("columns", &self.projection.column_names())
            .finish()
    }
}

impl PickSource {
    pub fn new(
        dataset: Arc<Dataset>,
        columns: Vec<usize>,
        filters: Vec<Expr>,
        parquet_options: TableParquetOptions,
    ) -> DfResult<Self> {
        let projection =
            Projection::new(&dataset.layout, Some(&columns)).map_err(PickError::into_datafusion)?;
        // The source gives the projected columns itself; DataFusion sees them as the file's.
        let table = TableSchema::from(Arc::clone(&projection.schema));
        let parquet = dataset
            .shards
            .iter()
            .any(|s| s.format == ShardFormat::Parquet)
            .then(|| {
                ParquetRead::new(
                    &dataset.layout,
                    &projection,
                    &filters,
                    parquet_options.clone(),
                )
            })
            .transpose()?
            .map(Arc::new);
        // One set of metrics shows the scan's counters and the Parquet reader's.
        let metrics = parquet
            .as_ref()
            .map_or_else(ExecutionPlanMetricsSet::new, |p| p.metrics().clone());
        let counters = ScanMetrics::new(&metrics);
        Ok(PickSource {
            columns,
            filters,
            parquet_options,
            projection,
            table,
            parquet,
            dealer: None,
            claims: Arc::default(),
            scanned: dataset.shards.len(),
            dataset,
            metrics,
            counters,
        })
    }

    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }

    /// Indices into the table's columns.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// The filters the scan was planned with (they prune Parquet row groups).
    pub fn filters(&self) -> &[Expr] {
        &self.filters
    }

    pub fn parquet_options(&self) -> &TableParquetOptions {
        &self.parquet_options
    }

    fn opener(&self, config: &FileScanConfig) -> PickOpener {
        PickOpener {
            schema: Arc::clone(&self.projection.schema),
            ctx: self.context(),
            dealer: self.dealer.clone(),
            decoders: decoders_per(config.file_groups.len()),
        }
    }

    /// `store`, its reads of the dataset's objects pinned to the versions listed (DataFusion's
    /// Parquet reader reads through it; pick's own reader pins its GETs itself).
    fn pinned(&self, store: Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> {
        let pins: std::collections::HashMap<_, _> = self
            .dataset
            .shards
            .iter()
            .filter_map(|s| {
                let object = s.object.as_ref()?;
                let etag = crate::store::read::etag_of(&s.version)?;
                Some((object.path(), (etag.to_string(), object.url())))
            })
            .collect();
        if pins.is_empty() {
            return store;
        }
        Arc::new(crate::store::pinned::Pinned::new(store, pins))
    }

    fn context(&self) -> Arc<ScanContext> {
        Arc::new(
            self.dataset
                .scan_context(self.projection.clone(), self.counters.clone()),
        )
    }
}

impl FileSource for PickSource {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        _partition: usize,
    ) -> DfResult<Arc<dyn FileOpener>> {
        Ok(Arc::new(self.opener(base_config)))
    }

    fn create_morselizer(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> DfResult<Box<dyn Morselizer>> {
        let parquet = match &self.parquet {
            Some(read) => {
                let store = self.pinned(object_store);
                Some((Arc::clone(read), read.morselizer(store, partition)?))
            }
            None => None,
        };
        let group = base_config
            .file_groups
            .get(partition)
            .map(|g| g.files().to_vec())
            .unwrap_or_default();
        Ok(Box::new(PickMorselizer {
            lines: self.opener(base_config),
            parquet,
            group,
            claims: Arc::clone(&self.claims),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table
    }

    fn with_batch_size(&self, _batch_size: usize) -> Arc<dyn FileSource> {
        // Chunks decode to batches of their own size (4 MB of text).
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
            ", root={}, shards={}{}, columns=[{}]",
            self.dataset.root.display(),
            self.scanned,
            if self.dealer.is_some() {
                " (dealt)"
            } else {
                ""
            },
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

type Rows = BoxStream<'static, DfResult<RecordBatch>>;

/// The pieces of a scan that a reader has claimed, shared by its partitions: each piece is
/// read once, by the first reader to claim it, and its items wait on a channel for the
/// partition that plans it (its own, or one that took it by DataFusion's work stealing).
#[derive(Default)]
struct Claims(std::sync::Mutex<std::collections::HashMap<String, Option<ItemReceiver>>>);

impl Claims {
    fn key(file: &PartitionedFile) -> String {
        let range = file.extensions.get::<Piece>().and_then(|p| p.range.clone());
        format!("{}{range:?}", file.object_meta.location)
    }

    /// The items of a claimed piece, or `None` after claiming it for the caller.
    fn take_or_claim(&self, key: &str) -> Option<ItemReceiver> {
        let mut claims = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match claims.get_mut(key) {
            Some(items) => items.take(),
            None => {
                claims.insert(key.to_string(), None);
                None
            }
        }
    }

    /// Claims a piece for a reader, whose items wait on `items`; false if it was claimed.
    fn claim(&self, key: String, items: ItemReceiver) -> bool {
        let mut claims = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if claims.contains_key(&key) {
            return false;
        }
        claims.insert(key, Some(items));
        true
    }
}

/// JSON-lines and Arrow pieces through pick's reader, Parquet pieces through DataFusion's.
/// DataFusion opens a partition's next file when the current one is done; pick's reader
/// goes on from a piece to the partition's next ones on the same thread (claiming each
/// before it ends the one before), so reading and decompressing run ahead of decoding and
/// the thread's buffers are reused, as one reader per partition.
struct PickMorselizer {
    lines: PickOpener,
    parquet: Option<(Arc<ParquetRead>, Box<dyn Morselizer>)>,
    /// The partition's files, in order.
    group: Vec<PartitionedFile>,
    claims: Arc<Claims>,
}

impl fmt::Debug for PickMorselizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PickMorselizer").finish_non_exhaustive()
    }
}

impl Morselizer for PickMorselizer {
    fn plan_file(&self, file: PartitionedFile) -> DfResult<Box<dyn MorselPlanner>> {
        let piece = piece_of(&file)?;
        if piece.shard.format != ShardFormat::Parquet {
            let stream = match self.lines.dealer {
                Some(_) => self.lines.stream(&file, piece),
                None => self.read_on(&file, piece),
            };
            return Ok(Box::new(Ready(Some(stream))));
        }
        let Some((read, morselizer)) = &self.parquet else {
            return Err(DataFusionError::Internal(format!(
                "{}: a Parquet piece in a scan planned without Parquet",
                piece.shard.path.display()
            )));
        };
        read.plan_piece(morselizer.as_ref(), &self.lines.ctx, &piece)
    }
}

impl PickMorselizer {
    /// The rows of `file`'s piece: from the reader that claimed it, or from a reader started
    /// here, which goes on to the partition's next pieces.
    fn read_on(&self, file: &PartitionedFile, piece: Piece) -> Rows {
        let lines = &self.lines;
        let capacity = 2 * lines.decoders + 2;
        let key = Claims::key(file);
        let items = match self.claims.take_or_claim(&key) {
            Some(items) => items,
            None => {
                let at = self.group.iter().position(|f| Claims::key(f) == key);
                let next: Vec<(String, Piece)> = at
                    .map(|at| &self.group[at + 1..])
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|f| Some((Claims::key(f), piece_of(f).ok()?)))
                    .filter(|(_, p)| p.shard.format != ShardFormat::Parquet)
                    .collect();
                let (tx, rx) = async_channel::bounded(capacity);
                let (ctx, claims) = (Arc::clone(&lines.ctx), Arc::clone(&self.claims));
                spawn_reader(move || {
                    let mut current = (tx, piece);
                    let mut next = next.into_iter();
                    loop {
                        // The next piece is claimed before this one ends, so its partition
                        // finds it when it asks.
                        let following = next.by_ref().find_map(|(key, piece)| {
                            let (tx, rx) = async_channel::bounded(capacity);
                            claims.claim(key, rx).then_some((tx, piece))
                        });
                        let (tx, piece) = current;
                        produce(&ctx, std::slice::from_ref(&piece), &|item| {
                            tx.send_blocking(item).is_ok()
                        });
                        drop(tx);
                        match following {
                            Some(f) => current = f,
                            None => break,
                        }
                    }
                });
                rx
            }
        };
        let (ctx, schema) = (Arc::clone(&lines.ctx), Arc::clone(&lines.schema));
        decode_stream(ctx, items, lines.decoders, schema).boxed()
    }
}

/// A piece whose stream is already open (pick's reader runs on a thread of its own): one
/// planner, one morsel.
struct Ready(Option<BoxStream<'static, DfResult<RecordBatch>>>);

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ready")
    }
}

impl MorselPlanner for Ready {
    fn plan(self: Box<Self>) -> DfResult<Option<MorselPlan>> {
        Ok(Some(
            MorselPlan::new().with_morsels(vec![self as Box<dyn Morsel>]),
        ))
    }
}

impl Morsel for Ready {
    fn into_stream(self: Box<Self>) -> BoxStream<'static, DfResult<RecordBatch>> {
        self.0.unwrap_or_else(|| futures::stream::empty().boxed())
    }
}

struct PickOpener {
    schema: SchemaRef,
    ctx: Arc<ScanContext>,
    dealer: Option<Arc<Dealer>>,
    decoders: usize,
}

impl PickOpener {
    /// The rows of `file`'s piece (its turn of them, in a dealt scan).
    fn stream(&self, file: &PartitionedFile, piece: Piece) -> Rows {
        let ctx = Arc::clone(&self.ctx);
        let schema = Arc::clone(&self.schema);
        match (&self.dealer, file.extensions.get::<Turn>()) {
            (Some(dealer), Some(turn)) => {
                let rx = dealer.take(turn.0, &ctx, piece);
                decode_stream(ctx, rx, self.decoders, schema).boxed()
            }
            _ => stream_pieces(ctx, vec![piece], self.decoders, schema).boxed(),
        }
    }
}

impl FileOpener for PickOpener {
    fn open(&self, file: PartitionedFile) -> DfResult<FileOpenFuture> {
        let piece = piece_of(&file)?;
        let stream = self.stream(&file, piece);
        Ok(Box::pin(async move { Ok(stream) }))
    }
}

/// Partitions of scans this process runs at once, where something other than the scan's own
/// partition count bounds it (0: nothing does).
static TASKS_AT_ONCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Bounds the partitions of scans this process runs at once: a cluster's executor runs as
/// many tasks as it has slots, each a partition of some scan, so each task's decoders get the
/// cores of one slot whatever the scan's partition count.
pub fn set_tasks_at_once(n: usize) {
    TASKS_AT_ONCE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// About the most memory the scans of `tasks` partitions at once hold outside DataFusion's
/// memory pool: each partition's queue of chunks (`2 * decoders + 2`, see `stream`), each chunk
/// counted twice (its text, and its decoded columns).
pub fn memory_outside_pool(tasks: usize) -> usize {
    let queued = 2 * decoders_per(tasks) + 2;
    tasks * queued * 2 * crate::dataset::lines::CHUNK_BYTES
}

/// Chunks each of `partitions` decodes at once: the cores shared among the partitions that
/// run at once.
fn decoders_per(partitions: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let at_once = match TASKS_AT_ONCE.load(std::sync::atomic::Ordering::Relaxed) {
        0 => partitions,
        slots => partitions.min(slots),
    };
    cores.div_ceil(at_once.max(1)).max(1)
}

type ItemReceiver = async_channel::Receiver<Result<Item>>;

/// The receiving ends of a dealt scan's current reading, taken by its partitions as they are
/// opened. A partition opened again starts a new reading.
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

    fn take(&self, partition: usize, ctx: &Arc<ScanContext>, piece: Piece) -> ItemReceiver {
        let mut slots = self.receivers.lock().unwrap_or_else(|e| e.into_inner());
        if slots[partition].is_none() {
            let (senders, receivers): (Vec<_>, Vec<_>) =
                (0..slots.len()).map(|_| async_channel::bounded(2)).unzip();
            *slots = receivers.into_iter().map(Some).collect();
            let ctx = Arc::clone(ctx);
            spawn_reader(move || {
                // A partition whose consumer stopped (a limit reached) is passed over; the
                // reading ends when no partition is left.
                let turn = std::cell::RefCell::new((vec![true; senders.len()], 0));
                produce(&ctx, std::slice::from_ref(&piece), &|item| {
                    let (open, next) = &mut *turn.borrow_mut();
                    deal(&senders, open, next, item)
                });
            });
        }
        slots[partition].take().expect("a receiver was just made")
    }
}

/// The rows of `pieces`, read in order on a reader thread of their own and decoded
/// `decoders` chunks at a time.
fn stream_pieces(
    ctx: Arc<ScanContext>,
    pieces: Vec<Piece>,
    decoders: usize,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    let (tx, rx) = async_channel::bounded(2 * decoders + 2);
    let reader_ctx = Arc::clone(&ctx);
    spawn_reader(move || {
        produce(&reader_ctx, &pieces, &|item| tx.send_blocking(item).is_ok());
    });
    decode_stream(ctx, rx, decoders, schema)
}

/// Runs a reader on a thread of the runtime's blocking pool, which keeps its threads for the
/// next pieces: a fresh thread per piece faults its 4 MB chunk buffers in anew (2.8x the
/// page faults of a 16-shard scan, 20% of its time).
fn spawn_reader(read: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(read)),
        Err(_) => drop(std::thread::spawn(read)),
    }
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
            Err(e) => Err(DataFusionError::External(Box::new(e))),
        });
    Box::pin(RecordBatchStreamAdapter::new(schema, stream))
}

//! Reader threads: they open shards in order, decompress and cut JSON lines into chunks,
//! read Arrow IPC batches, and hand both to the decoding streams. (Parquet pieces are read
//! by DataFusion's `ParquetSource`, `parquet_read`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt64Array, new_null_array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::dataset::conform::conform;
use crate::dataset::decode::{Column, Projection, TableLayout, Virtual, decode_chunk};
use crate::dataset::discover::{Shard, ShardFormat};
use crate::dataset::lines::{Chunker, LineChunk};
use crate::dataset::partition::Piece;
use crate::error::{PickError, Result};
use crate::format::json_rows::RowWriter;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};

/// Counters shared by every stream of a scan; commands report them when the scan ends.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub rows: AtomicU64,
    pub bad_rows: AtomicU64,
    /// Bytes of shards fully read, as stored on disk.
    pub stored_bytes: AtomicU64,
    /// Bytes after decompression (JSON text; for Parquet, the stored size).
    pub decoded_bytes: AtomicU64,
    pub shards_done: AtomicU64,
}

/// Unit of work passed from reader threads to decoding streams.
pub enum Item {
    Lines(LineChunk),
    Batch(RecordBatch),
}

/// Everything a reader or decoder needs to know about the scan.
pub struct ScanContext {
    pub layout: Arc<TableLayout>,
    pub projection: Projection,
    pub skip_bad_rows: bool,
    pub stats: Arc<ScanStats>,
    pub batch_rows: usize,
    /// What `EXPLAIN ANALYZE` shows of the scan.
    pub metrics: ScanMetrics,
}

/// Counters of one scan, shown by `EXPLAIN ANALYZE`: the shards it opened (pruned ones are
/// never opened), the rows it gave and the unreadable rows it skipped. A cluster's executors
/// send them to the scheduler with each task's status, which is how a client learns them.
#[derive(Debug, Clone)]
pub struct ScanMetrics {
    pub shards_opened: Count,
    pub rows: Count,
    pub bad_rows: Count,
}

/// The names of `ScanMetrics`' counters.
pub const ROWS_READ: &str = "rows_read";
pub const BAD_ROWS: &str = "bad_rows_skipped";

impl ScanMetrics {
    pub fn new(set: &ExecutionPlanMetricsSet) -> ScanMetrics {
        ScanMetrics {
            shards_opened: MetricBuilder::new(set).global_counter("shards_opened"),
            rows: MetricBuilder::new(set).global_counter(ROWS_READ),
            bad_rows: MetricBuilder::new(set).global_counter(BAD_ROWS),
        }
    }
}

impl ScanContext {
    pub fn decode(&self, item: Item) -> Result<RecordBatch> {
        let batch = match item {
            Item::Batch(b) => b,
            Item::Lines(chunk) => {
                let bad = AtomicU64::new(0);
                let batch = decode_chunk(
                    &self.layout,
                    &self.projection,
                    &chunk,
                    self.skip_bad_rows,
                    &bad,
                )?;
                let bad = bad.into_inner();
                if bad > 0 {
                    self.stats.bad_rows.fetch_add(bad, Ordering::Relaxed);
                    self.metrics.bad_rows.add(bad as usize);
                }
                batch
            }
        };
        self.count_rows(batch.num_rows());
        Ok(batch)
    }

    /// `n` more rows given by the scan.
    pub fn count_rows(&self, n: usize) {
        self.stats.rows.fetch_add(n as u64, Ordering::Relaxed);
        self.metrics.rows.add(n);
    }
}

/// Reads `pieces` in order and sends their items until they run out or the receiving side
/// hangs up.
pub fn produce(ctx: &ScanContext, pieces: &[Piece], send: &dyn Fn(Result<Item>) -> bool) {
    for piece in pieces {
        let shard = &piece.shard;
        if piece.opens_shard() {
            ctx.metrics.shards_opened.add(1);
        }
        let result = match (shard.format, &piece.range) {
            (ShardFormat::JsonLines(_), Some(range)) => {
                Chunker::range(Arc::clone(shard), range.clone())
                    .and_then(|c| read_lines(ctx, c, send))
            }
            (ShardFormat::JsonLines(codec), None) => {
                Chunker::new(Arc::clone(shard), codec).and_then(|c| read_lines(ctx, c, send))
            }
            (ShardFormat::Arrow, _) => read_arrow(ctx, shard, send),
            (ShardFormat::Parquet, _) => Err(PickError::Dataset {
                path: shard.path.clone(),
                message: "Parquet shards are read by DataFusion's Parquet reader".into(),
            }),
        };
        match result {
            Ok(true) => {
                ctx.stats
                    .stored_bytes
                    .fetch_add(piece.bytes(), Ordering::Relaxed);
                if piece.ends_shard() {
                    ctx.stats.shards_done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(false) => return,
            Err(e) => {
                send(Err(e));
                return;
            }
        }
    }
}

fn read_lines(
    ctx: &ScanContext,
    mut chunker: Chunker,
    send: &dyn Fn(Result<Item>) -> bool,
) -> Result<bool> {
    let mut reported = 0;
    while let Some(chunk) = chunker.next_chunk()? {
        ctx.stats
            .decoded_bytes
            .fetch_add(chunker.bytes - reported, Ordering::Relaxed);
        reported = chunker.bytes;
        if !send(Ok(Item::Lines(chunk))) {
            return Ok(false);
        }
    }
    ctx.stats
        .decoded_bytes
        .fetch_add(chunker.bytes - reported, Ordering::Relaxed);
    Ok(true)
}

/// The Arrow schema of a Parquet shard, from its footer.
pub fn parquet_schema(shard: &Shard) -> Result<arrow::datatypes::SchemaRef> {
    if let Some(object) = &shard.object {
        return crate::store::read::parquet_schema(object, shard.size);
    }
    let file = crate::store::local::open(&shard.path, 0)?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| PickError::Parquet {
            path: shard.path.clone(),
            source,
        })?;
    Ok(Arc::clone(builder.schema()))
}

/// An Arrow IPC shard's batches: the file format (`ARROW1` magic) or the stream format.
pub fn arrow_batches(
    shard: &Shard,
) -> Result<Box<dyn arrow::record_batch::RecordBatchReader + Send>> {
    use std::io::{Read, Seek};
    let ioerr = |e| PickError::io(&shard.path, e);
    let aerr = |e: arrow::error::ArrowError| PickError::Dataset {
        path: shard.path.clone(),
        message: format!("not an Arrow IPC file or stream: {e}"),
    };
    if let Some(object) = &shard.object {
        // IPC files are read from their footer back: the object is fetched whole.
        let bytes = crate::store::read::fetch(object)?;
        let is_file = bytes.starts_with(b"ARROW1");
        let cursor = std::io::Cursor::new(bytes);
        return Ok(if is_file {
            Box::new(arrow::ipc::reader::FileReader::try_new(cursor, None).map_err(aerr)?)
        } else {
            Box::new(arrow::ipc::reader::StreamReader::try_new(cursor, None).map_err(aerr)?)
        });
    }
    let mut file = crate::store::local::open(&shard.path, 0)?;
    let mut magic = [0u8; 6];
    let is_file = file.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    file.rewind().map_err(ioerr)?;
    let file = std::io::BufReader::with_capacity(1 << 20, file);
    Ok(if is_file {
        Box::new(arrow::ipc::reader::FileReader::try_new(file, None).map_err(aerr)?)
    } else {
        Box::new(arrow::ipc::reader::StreamReader::try_new(file, None).map_err(aerr)?)
    })
}

fn read_arrow(
    ctx: &ScanContext,
    shard: &Arc<Shard>,
    send: &dyn Fn(Result<Item>) -> bool,
) -> Result<bool> {
    let reader = arrow_batches(shard)?;
    ctx.stats
        .decoded_bytes
        .fetch_add(shard.size, Ordering::Relaxed);
    let data_cols = wanted_data_columns(ctx);
    let path = shard.path.clone();
    emit_batches(
        ctx,
        shard,
        &data_cols,
        reader.map(move |b| {
            b.map_err(|e| PickError::Dataset {
                path: path.clone(),
                message: e.to_string(),
            })
        }),
        send,
    )
}

/// Data columns a scan reads: the projected ones, or all of them when `_json` rebuilds the row.
fn wanted_data_columns(ctx: &ScanContext) -> Vec<usize> {
    if ctx.projection.wants(Virtual::Json) {
        (0..ctx.layout.data_fields).collect()
    } else {
        ctx.projection
            .columns
            .iter()
            .filter_map(|c| match c {
                Column::Data(i) => Some(*i),
                Column::Virtual(_) => None,
            })
            .collect()
    }
}

/// Conforms Arrow IPC batches to the table, adds the virtual columns and
/// sends them.
fn emit_batches(
    ctx: &ScanContext,
    shard: &Arc<Shard>,
    data_cols: &[usize],
    batches: impl Iterator<Item = Result<RecordBatch>>,
    send: &dyn Fn(Result<Item>) -> bool,
) -> Result<bool> {
    let layout = &ctx.layout;
    let wants_json = ctx.projection.wants(Virtual::Json);
    let mut row = 0u64;
    for batch in batches {
        let batch = batch?;
        let n = batch.num_rows();
        // Conform every needed data column to the table schema.
        let mut data: Vec<Option<ArrayRef>> = vec![None; layout.data_fields];
        for &i in data_cols {
            let target = layout.schema.field(i);
            data[i] = Some(match batch.schema().index_of(target.name()) {
                Ok(j) => conform(batch.column(j), batch.schema().field(j), target)?,
                Err(_) => new_null_array(target.data_type(), n),
            });
        }
        let json = if wants_json {
            let fields: Vec<&arrow::datatypes::Field> = (0..layout.data_fields)
                .map(|i| layout.schema.field(i))
                .collect();
            let arrays: Vec<ArrayRef> = data
                .iter()
                .map(|a| Arc::clone(a.as_ref().expect("read")))
                .collect();
            Some(RowWriter::new(&fields, &arrays)?.text_column(n))
        } else {
            None
        };
        let columns: Vec<ArrayRef> = ctx
            .projection
            .columns
            .iter()
            .map(|c| match *c {
                Column::Data(i) => Arc::clone(data[i].as_ref().expect("read")),
                Column::Virtual(Virtual::Row) => {
                    Arc::new(UInt64Array::from_iter_values(row..row + n as u64))
                }
                Column::Virtual(Virtual::Json) => Arc::clone(json.as_ref().expect("built")),
                Column::Virtual(v) => v.shard_column(shard, n).expect("per-shard column"),
            })
            .collect();
        row += n as u64;
        let out = RecordBatch::try_new_with_options(
            Arc::clone(&ctx.projection.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        if !send(Ok(Item::Batch(out))) {
            return Ok(false);
        }
    }
    Ok(true)
}

//! Writers: JSON lines (plain, zstd, gzip by file name), Parquet, CSV. Every file is written
//! under a hidden temporary name and renamed into place only when complete, so an
//! interrupted command never leaves a file that looks finished.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{PickError, Result};
use crate::format::Codec;
use crate::format::json_rows::RowWriter;
use crate::write::atomic::PendingFile;

/// Output formats of `export`, `sql -o` and the data commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl(Codec),
    Parquet,
    Csv,
    /// One JSON array (for `pick sql --format json`).
    JsonArray,
}

impl OutputFormat {
    /// The file suffix a shard of this format gets.
    pub fn suffix(self) -> &'static str {
        match self {
            OutputFormat::Jsonl(Codec::Plain) => ".jsonl",
            OutputFormat::Jsonl(Codec::Zstd) => ".jsonl.zst",
            OutputFormat::Jsonl(Codec::Gzip) => ".jsonl.gz",
            OutputFormat::Parquet => ".parquet",
            OutputFormat::Csv => ".csv",
            OutputFormat::JsonArray => ".json",
        }
    }

    /// The format of a shard whose name ends in `suffix` (the inverse of `suffix`).
    pub fn from_suffix(suffix: &str) -> Option<OutputFormat> {
        [
            OutputFormat::Jsonl(Codec::Plain),
            OutputFormat::Jsonl(Codec::Zstd),
            OutputFormat::Jsonl(Codec::Gzip),
            OutputFormat::Parquet,
            OutputFormat::Csv,
            OutputFormat::JsonArray,
        ]
        .into_iter()
        .find(|f| f.suffix() == suffix)
    }
}

/// Parquet row groups: at most this many rows, or fewer when rows are large (see `write`).
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
const ROW_GROUP_BYTES: usize = 128 << 20;

/// The error for a row whose `_json` text is NULL: writing nothing for it would lose the row.
pub fn null_row(dest: &Path, row: u64) -> PickError {
    PickError::Failed(format!(
        "{}: row {} has no JSON text (its _json is NULL); pick writes every row or fails",
        dest.display(),
        row + 1
    ))
}

/// The zstd level of `.zst` outputs and of Parquet's column chunks, for the whole process
/// (`--compression-level`): 3, as bonepick (and zstd's command line) writes by default.
static ZSTD_LEVEL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(3);

/// Sets the zstd level of every output written after this (1..=19).
pub fn set_compression_level(level: i32) {
    ZSTD_LEVEL.store(level.clamp(1, 19), std::sync::atomic::Ordering::Relaxed);
}

pub fn zstd_level() -> i32 {
    ZSTD_LEVEL.load(std::sync::atomic::Ordering::Relaxed)
}

/// Files this process writes at once, where something bounds it (0: one at a time is
/// assumed, every core compressing it).
static WRITERS_AT_ONCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Bounds the files this process compresses at once: a cluster's executor runs as many
/// tasks as it has slots, each writing its own file, so each file's zstd workers get the
/// cores of one slot.
pub fn set_writers_at_once(n: usize) {
    WRITERS_AT_ONCE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// zstd's workers per file: the cores, shared by the files written at once.
fn zstd_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let at_once = WRITERS_AT_ONCE
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(1);
    cores.div_ceil(at_once).max(1)
}

/// A compressing writer chosen by codec, finished explicitly so write errors surface.
type Base = BufWriter<Box<dyn Write + Send>>;

enum Compressed {
    Plain(Base),
    Zstd(zstd::stream::write::Encoder<'static, Base>),
    Gzip(flate2::write::GzEncoder<Base>),
}

impl Compressed {
    fn new(w: Base, codec: Codec, level: i32) -> std::io::Result<Compressed> {
        Ok(match codec {
            Codec::Plain => Compressed::Plain(w),
            Codec::Zstd => {
                // zstd's own workers compress while rows are still being made; the output
                // is one ordinary frame whatever their number.
                let mut e = zstd::stream::write::Encoder::new(w, level)?;
                e.multithread(zstd_workers() as u32)?;
                Compressed::Zstd(e)
            }
            Codec::Gzip => Compressed::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            )),
        })
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Compressed::Plain(w) => w.write_all(buf),
            Compressed::Zstd(w) => w.write_all(buf),
            Compressed::Gzip(w) => w.write_all(buf),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        let mut inner = match self {
            Compressed::Plain(w) => w,
            Compressed::Zstd(w) => w.finish()?,
            Compressed::Gzip(w) => w.finish()?,
        };
        inner.flush()
    }
}

enum Inner {
    Jsonl {
        out: Compressed,
        buf: Vec<u8>,
    },
    JsonArray {
        out: Base,
        buf: Vec<u8>,
        first: bool,
    },
    Parquet(ArrowWriter<Base>),
    Csv(arrow::csv::Writer<Base>),
}

/// Writes record batches to one file (or to standard output).
pub struct FileSink {
    pending: Option<PendingFile>,
    dest: PathBuf,
    inner: Inner,
    pub rows: u64,
}

impl FileSink {
    pub fn create(dest: &Path, format: OutputFormat, schema: SchemaRef) -> Result<FileSink> {
        Self::create_at_level(dest, format, schema, zstd_level())
    }

    /// `create`, compressing at zstd `level` rather than the process's (a cluster's executor
    /// writes at the level of the client that asked).
    pub fn create_at_level(
        dest: &Path,
        format: OutputFormat,
        schema: SchemaRef,
        level: i32,
    ) -> Result<FileSink> {
        let (pending, file) = PendingFile::create(dest)?;
        Self::new(Box::new(file), Some(pending), dest, format, schema, level)
    }

    pub fn stdout(format: OutputFormat, schema: SchemaRef) -> Result<FileSink> {
        Self::new(
            Box::new(std::io::stdout()),
            None,
            Path::new("<stdout>"),
            format,
            schema,
            zstd_level(),
        )
    }

    fn new(
        base: Box<dyn Write + Send>,
        pending: Option<PendingFile>,
        dest: &Path,
        format: OutputFormat,
        schema: SchemaRef,
        level: i32,
    ) -> Result<FileSink> {
        let level = level.clamp(1, 19);
        let file = BufWriter::with_capacity(1 << 20, base);
        let err = |e: std::io::Error| PickError::io(dest, e);
        let inner = match format {
            OutputFormat::Jsonl(codec) => Inner::Jsonl {
                out: Compressed::new(file, codec, level).map_err(err)?,
                buf: Vec::with_capacity(1 << 20),
            },
            OutputFormat::JsonArray => Inner::JsonArray {
                out: file,
                buf: Vec::new(),
                first: true,
            },
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(
                        ZstdLevel::try_new(level).expect("1..=19 is valid"),
                    ))
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .build();
                Inner::Parquet(ArrowWriter::try_new(file, schema, Some(props)).map_err(
                    |source| PickError::Parquet {
                        path: dest.to_path_buf(),
                        source,
                    },
                )?)
            }
            OutputFormat::Csv => Inner::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(file),
            ),
        };
        Ok(FileSink {
            pending,
            dest: dest.to_path_buf(),
            inner,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let dest = self.dest.clone();
        let err = |e: std::io::Error| PickError::io(&dest, e);
        self.rows += batch.num_rows() as u64;
        match &mut self.inner {
            Inner::Jsonl { out, buf } => {
                let schema = batch.schema();
                // A lone `_json` column holds whole rows as JSON text: written as they are.
                if let [f] = schema.fields().as_ref()
                    && f.name() == "_json"
                {
                    let rows =
                        arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
                    let rows = arrow::array::AsArray::as_string::<i32>(&rows);
                    for (i, row) in rows.iter().enumerate() {
                        // A row without text would vanish from the file: refuse instead.
                        let Some(row) = row else {
                            return Err(null_row(
                                &dest,
                                self.rows - batch.num_rows() as u64 + i as u64,
                            ));
                        };
                        buf.extend_from_slice(row.as_bytes());
                        buf.push(b'\n');
                    }
                    out.write_all(buf).map_err(err)?;
                    buf.clear();
                    return Ok(());
                }
                let fields: Vec<_> = schema.fields().iter().map(|f| f.as_ref()).collect();
                let writer = RowWriter::new(&fields, batch.columns())?;
                for row in 0..batch.num_rows() {
                    writer.write_row(row, buf);
                    buf.push(b'\n');
                    if buf.len() >= 1 << 20 {
                        out.write_all(buf).map_err(err)?;
                        buf.clear();
                    }
                }
                out.write_all(buf).map_err(err)?;
                buf.clear();
            }
            Inner::JsonArray { out, buf, first } => {
                let schema = batch.schema();
                let fields: Vec<_> = schema.fields().iter().map(|f| f.as_ref()).collect();
                let writer = RowWriter::new(&fields, batch.columns())?;
                for row in 0..batch.num_rows() {
                    buf.push(if *first { b'[' } else { b',' });
                    *first = false;
                    writer.write_row(row, buf);
                    buf.push(b'\n');
                }
                out.write_all(buf).map_err(err)?;
                buf.clear();
            }
            Inner::Parquet(w) => {
                let perr = |source| PickError::Parquet {
                    path: dest.clone(),
                    source,
                };
                w.write(batch).map_err(perr)?;
                // Long documents: cut row groups by size too, so readers need not hold
                // gigabytes to decode one.
                if w.in_progress_size() >= ROW_GROUP_BYTES {
                    w.flush().map_err(perr)?;
                }
            }
            Inner::Csv(w) => w.write(batch)?,
        }
        Ok(())
    }

    pub fn finish(self) -> Result<u64> {
        let dest = self.dest.clone();
        let err = |e: std::io::Error| PickError::io(&dest, e);
        match self.inner {
            Inner::Jsonl { out, .. } => out.finish().map_err(err)?,
            Inner::JsonArray { mut out, first, .. } => {
                out.write_all(if first { b"[]\n" } else { b"]\n" })
                    .map_err(err)?;
                out.flush().map_err(err)?;
            }
            Inner::Parquet(w) => {
                w.close().map_err(|source| PickError::Parquet {
                    path: dest.clone(),
                    source,
                })?;
            }
            Inner::Csv(w) => {
                let mut inner = w.into_inner();
                inner.flush().map_err(err)?;
            }
        }
        if let Some(p) = self.pending {
            p.commit()?;
        }
        Ok(self.rows)
    }
}

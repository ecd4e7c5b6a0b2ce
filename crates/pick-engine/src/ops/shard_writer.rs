//! One output shard of a mirrored dataset being written, batch by batch: a format sink, or,
//! for rows given as JSON text (a lone `_json` column, as transforms give) written as Parquet,
//! the rows kept as JSON lines and turned into Parquet with their own columns when the shard
//! ends (the schema inferred from every row, as a local read of them would infer it). The
//! local runner and a cluster's executors write every mirrored shard through it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::TryStreamExt;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::session::Engine;
use crate::write::sink::{FileSink, OutputFormat};

/// An output shard being written.
pub struct ShardWriter {
    dest: PathBuf,
    level: i32,
    kind: Kind,
}

enum Kind {
    Sink(FileSink),
    /// JSON rows on their way to Parquet: the text file, and where it lives (removed when
    /// the writer is done, whatever happens).
    Rows {
        text: FileSink,
        scratch: Scratch,
        schema: SchemaRef,
    },
}

/// A file or directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::fs::remove_file(&self.0).is_err() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
        crate::write::staging::unregister(&self.0);
    }
}

/// `PICK_TEST_PANIC` set: writing a shard panics, so the tests can hold what a panic does
/// (a hidden knob, read once).
fn panic_for_tests() -> bool {
    static SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SET.get_or_init(|| std::env::var_os("PICK_TEST_PANIC").is_some())
}

/// A result that is whole rows as JSON text (a lone `_json` column), as transforms give.
pub fn is_row_text(schema: &Schema) -> bool {
    schema.fields().len() == 1 && schema.field(0).name() == "_json"
}

impl ShardWriter {
    /// Starts `dest` (a path, or a store URL as a path) in `format`, for batches of `schema`,
    /// `.zst` and Parquet compressed at zstd `level`.
    pub fn create(
        dest: &Path,
        format: OutputFormat,
        schema: SchemaRef,
        level: i32,
    ) -> Result<ShardWriter> {
        let kind = if format == OutputFormat::Parquet && is_row_text(&schema) {
            let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("rows");
            let (text, scratch) = if crate::store::is_url_path(dest) {
                let dir = crate::write::staging::local_scratch()?;
                (dir.join("rows.jsonl"), Scratch(dir))
            } else {
                let text =
                    dest.with_file_name(format!(".{name}.{}.rows.jsonl", std::process::id()));
                (text.clone(), Scratch(text))
            };
            Kind::Rows {
                text: FileSink::create(
                    &text,
                    OutputFormat::Jsonl(crate::dataset::Codec::Plain),
                    Arc::clone(&schema),
                )?,
                scratch,
                schema,
            }
        } else {
            Kind::Sink(FileSink::create_at_level(dest, format, schema, level)?)
        };
        Ok(ShardWriter {
            dest: dest.to_path_buf(),
            level,
            kind,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if panic_for_tests() {
            panic!("PICK_TEST_PANIC is set");
        }
        match &mut self.kind {
            Kind::Sink(sink) => sink.write(batch),
            Kind::Rows { text, .. } => text.write(batch),
        }
    }

    /// Completes the shard (the JSON rows' Parquet is written with `partitions` threads) and
    /// returns its rows.
    pub async fn finish(self, partitions: usize) -> Result<u64> {
        let (text, scratch, schema) = match self.kind {
            Kind::Sink(sink) => return sink.finish(),
            Kind::Rows {
                text,
                scratch,
                schema,
            } => (text, scratch, schema),
        };
        if text.finish()? == 0 {
            // No rows, no columns to give them: an empty file of the one text column.
            let sink =
                FileSink::create_at_level(&self.dest, OutputFormat::Parquet, schema, self.level)?;
            return sink.finish();
        }
        let path = if scratch.0.is_dir() {
            scratch.0.join("rows.jsonl")
        } else {
            scratch.0.clone()
        };
        let options = crate::dataset::ReadOptions {
            skip_bad_rows: false,
            infer_rows: crate::dataset::InferRows(None),
        };
        let rows = Dataset::open(&path.to_string_lossy(), options)?;
        let select: Vec<String> = crate::plan::rows::fields(&rows)
            .into_iter()
            .map(crate::plan::ident)
            .collect();
        let engine = Engine::new(rows.options.clone(), partitions)?;
        engine.register_dataset("t", rows)?;
        let df = engine
            .sql(&format!(
                "SELECT {} FROM t ORDER BY _row",
                select.join(", ")
            ))
            .await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let mut stream = df.execute_stream().await?;
        let mut sink =
            FileSink::create_at_level(&self.dest, OutputFormat::Parquet, schema, self.level)?;
        while let Some(batch) = stream.try_next().await? {
            sink.write(&batch)?;
        }
        let written = sink.finish();
        drop(scratch);
        written
    }
}

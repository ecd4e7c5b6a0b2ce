//! An external shuffle for rows of any width: each row carries a uniform key in [0, 1); rows
//! are spread over bucket files by key range (one pass, any order), then each bucket is read
//! back, sorted by key and written. Bucket ranges are consecutive, so the output is the rows in
//! key order — the same as `ORDER BY key` — while memory holds one bucket, not the dataset.
//! (DataFusion's sort spills too, but its merge needs several batches of every run in memory,
//! which for long documents is more than a small memory limit allows.)

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use futures::TryStreamExt;

use crate::error::{PickError, Result};
use crate::observe::Progress;
use crate::plan::Query;
use crate::session::Engine;
use crate::write::sharded::{Planned, ShardedWriter, Written};

/// Most bucket files open at once while spreading.
const MAX_BUCKETS: u64 = 256;
const OUT_BATCH_ROWS: usize = 4096;

/// The schema of shuffled output: the rows as JSON text.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("_json", DataType::Utf8, true)]))
}

/// How many buckets `bytes` of rows need so one fits a quarter of `memory`.
pub fn bucket_count(bytes: u64, memory: u64) -> u64 {
    let per_bucket = (memory / 4).max(16 << 20);
    bytes.div_ceil(per_bucket).clamp(1, MAX_BUCKETS)
}

/// A scratch directory next to the output, removed however the shuffle ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `query` (columns: a Float64 key in [0, 1), then the row's JSON text) and writes its
/// rows in key order into the writer `open` makes once the number of rows is known. `bytes`
/// estimates the rows' size, to choose the bucket count. `progress` follows the input's
/// stored bytes as the scan reads them.
pub async fn shuffle_into<P, F>(
    engine: &Engine,
    query: &Query,
    bytes: u64,
    scratch_parent: &Path,
    open: F,
    progress: Arc<dyn Progress>,
) -> Result<Written>
where
    P: Iterator<Item = Planned>,
    F: FnOnce(u64) -> Result<ShardedWriter<P>>,
{
    let buckets = bucket_count(bytes, crate::session::memory_limit() as u64);
    let _watch = crate::ops::watch::scan(engine, progress);
    let mut stream = engine.query(query).await?.execute_stream().await?;
    if buckets == 1 {
        let mut rows = Vec::new();
        while let Some(batch) = stream.try_next().await? {
            for_each_row(&batch, |k, r| rows.push((k, r.as_bytes().to_vec())))?;
        }
        let mut writer = open(rows.len() as u64)?;
        write_sorted(rows, &mut writer)?;
        return writer.finish();
    }

    std::fs::create_dir_all(scratch_parent).map_err(|e| PickError::io(scratch_parent, e))?;
    let scratch = Scratch(scratch_parent.join(format!(".pick-shuffle-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).map_err(|e| PickError::io(&scratch.0, e))?;
    let path = |b: u64| scratch.0.join(format!("bucket-{b:03}.zst"));
    let mut files = (0..buckets)
        .map(|b| {
            let p = path(b);
            let f = File::create(&p).map_err(|e| PickError::io(&p, e))?;
            zstd::stream::write::Encoder::new(BufWriter::with_capacity(256 << 10, f), 1)
                .map_err(|e| PickError::io(&p, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut total = 0u64;
    while let Some(batch) = stream.try_next().await? {
        let mut failed = None;
        for_each_row(&batch, |k, r| {
            total += 1;
            let b = ((k * buckets as f64) as u64).min(buckets - 1);
            let w = &mut files[b as usize];
            let result = w
                .write_all(&k.to_le_bytes())
                .and_then(|_| w.write_all(&(r.len() as u64).to_le_bytes()))
                .and_then(|_| w.write_all(r.as_bytes()));
            if let Err(e) = result {
                failed.get_or_insert(PickError::io(path(b), e));
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
    }
    for (b, f) in files.into_iter().enumerate() {
        f.finish()
            .and_then(|mut w| w.flush())
            .map_err(|e| PickError::io(path(b as u64), e))?;
    }
    let mut writer = open(total)?;
    for b in 0..buckets {
        let p = path(b);
        let rows = read_bucket(&p)?;
        let _ = std::fs::remove_file(&p);
        write_sorted(rows, &mut writer)?;
    }
    writer.finish()
}

/// Calls `f(key, row)` for every row; a row without text (NULL `_json`) is an error, never a row
/// that silently goes missing.
fn for_each_row(batch: &RecordBatch, mut f: impl FnMut(f64, &str)) -> Result<()> {
    let keys = arrow::compute::cast(batch.column(0), &DataType::Float64)?;
    let keys = keys.as_primitive::<Float64Type>();
    let rows = arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
    let rows = rows.as_string::<i32>();
    for i in 0..batch.num_rows() {
        if rows.is_null(i) {
            return Err(PickError::Failed(
                "a row to shuffle has no JSON text (its _json is NULL); pick writes every row \
                 or fails"
                    .into(),
            ));
        }
        f(keys.value(i), rows.value(i));
    }
    Ok(())
}

fn read_bucket(path: &Path) -> Result<Vec<(f64, Vec<u8>)>> {
    let err = |e| PickError::io(path, e);
    let f = File::open(path).map_err(err)?;
    let mut r = zstd::stream::read::Decoder::new(BufReader::new(f)).map_err(err)?;
    let mut rows = Vec::new();
    let mut head = [0u8; 16];
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(err(e)),
        }
        let key = f64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(head[8..].try_into().expect("8 bytes")) as usize;
        let mut row = vec![0u8; len];
        r.read_exact(&mut row).map_err(err)?;
        rows.push((key, row));
    }
    Ok(rows)
}

/// Sorted by key; equal keys (vanishingly rare) by the row text, so the order never depends on
/// the order rows arrived in.
fn write_sorted<P: Iterator<Item = Planned>>(
    mut rows: Vec<(f64, Vec<u8>)>,
    writer: &mut ShardedWriter<P>,
) -> Result<()> {
    rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let schema = schema();
    for chunk in rows.chunks(OUT_BATCH_ROWS) {
        let bytes: usize = chunk.iter().map(|r| r.1.len()).sum();
        let mut b = StringBuilder::with_capacity(chunk.len(), bytes);
        for (_, row) in chunk {
            // The rows came from UTF-8 strings.
            b.append_value(
                std::str::from_utf8(row)
                    .map_err(|e| PickError::Failed(format!("shuffled row is not UTF-8: {e}")))?,
            );
        }
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(b.finish())])?;
        writer.write(&batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bucket_count;

    #[test]
    fn buckets_fit_a_quarter_of_memory() {
        assert_eq!(bucket_count(0, 1 << 30), 1);
        assert_eq!(bucket_count(100 << 20, 1 << 30), 1);
        assert_eq!(bucket_count(1 << 30, 1 << 30), 4);
        assert_eq!(bucket_count(1 << 50, 1 << 30), 256);
        assert_eq!(bucket_count(100 << 20, 1 << 20), 7);
    }
}

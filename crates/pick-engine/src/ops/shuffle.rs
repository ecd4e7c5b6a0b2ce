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
/// Memory one open bucket file costs while spreading: its zstd stream (a 128 KiB window, see
/// `Spread::new`) and its write buffer.
const BUCKET_FILE_COST: u64 = 512 << 10;
const OUT_BATCH_ROWS: usize = 4096;
/// Memory a row costs beyond its text while held for sorting: its key, its `Vec`, the
/// allocator's header.
const ROW_OVERHEAD: u64 = 48;

/// The schema of shuffled output: the rows as JSON text.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("_json", DataType::Utf8, true)]))
}

/// How many bytes of rows one bucket may hold, sorted in memory: a third of the memory limit
/// (the scan has finished by the time buckets are sorted).
/// `PICK_SHUFFLE_BUCKET_BYTES` sets it (a hidden knob, for tests and tuning).
fn bucket_bytes(memory: u64) -> u64 {
    std::env::var("PICK_SHUFFLE_BUCKET_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(memory / 3)
        .max(1)
}

/// How many buckets to spread `bytes` of rows over, so each fits `per_bucket`, within the files
/// half of `memory` can keep open. More than that is handled by splitting buckets again.
pub fn bucket_count(bytes: u64, per_bucket: u64, memory: u64) -> u64 {
    let open = (memory / 2 / BUCKET_FILE_COST).clamp(2, MAX_BUCKETS);
    bytes.div_ceil(per_bucket).clamp(2, open)
}

/// A scratch directory next to the output, removed however the shuffle ends.
struct Scratch {
    dir: PathBuf,
    next: u64,
}

impl Scratch {
    fn file(&mut self) -> PathBuf {
        self.next += 1;
        self.dir.join(format!("bucket-{:06}.zst", self.next))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Rows of keys in `[lo, hi)`, spilled to a file; `bytes` is their measured size.
struct Bucket {
    path: PathBuf,
    lo: f64,
    hi: f64,
    bytes: u64,
}

/// Rows being spread over buckets by key range.
struct Spread {
    lo: f64,
    hi: f64,
    files: Vec<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    paths: Vec<PathBuf>,
    bytes: Vec<u64>,
}

impl Spread {
    fn new(scratch: &mut Scratch, lo: f64, hi: f64, n: u64) -> Result<Spread> {
        let paths: Vec<PathBuf> = (0..n).map(|_| scratch.file()).collect();
        let files = paths
            .iter()
            .map(|p| {
                let f = File::create(p).map_err(|e| PickError::io(p, e))?;
                let mut z =
                    zstd::stream::write::Encoder::new(BufWriter::with_capacity(64 << 10, f), 1)
                        .map_err(|e| PickError::io(p, e))?;
                // Hundreds are open at once: a small window keeps each near BUCKET_FILE_COST.
                z.window_log(17).map_err(|e| PickError::io(p, e))?;
                Ok(z)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Spread {
            lo,
            hi,
            files,
            bytes: vec![0; paths.len()],
            paths,
        })
    }

    /// The bucket of a key: monotone in the key, so buckets hold consecutive key ranges even
    /// where rounding puts a key just outside its range (it is clamped to the nearest bucket).
    fn index(&self, key: f64) -> usize {
        let n = self.files.len();
        let at = (key - self.lo) / (self.hi - self.lo) * n as f64;
        (at.max(0.0) as usize).min(n - 1)
    }

    fn push(&mut self, key: f64, row: &[u8]) -> Result<()> {
        let b = self.index(key);
        let w = &mut self.files[b];
        w.write_all(&key.to_le_bytes())
            .and_then(|_| w.write_all(&(row.len() as u64).to_le_bytes()))
            .and_then(|_| w.write_all(row))
            .map_err(|e| PickError::io(&self.paths[b], e))?;
        self.bytes[b] += row.len() as u64 + ROW_OVERHEAD;
        Ok(())
    }

    fn finish(self) -> Result<Vec<Bucket>> {
        let n = self.files.len() as f64;
        let width = self.hi - self.lo;
        self.files
            .into_iter()
            .zip(self.paths)
            .zip(self.bytes)
            .enumerate()
            .map(|(b, ((f, path), bytes))| {
                f.finish()
                    .and_then(|mut w| w.flush())
                    .map_err(|e| PickError::io(&path, e))?;
                Ok(Bucket {
                    lo: self.lo + width * b as f64 / n,
                    hi: self.lo + width * (b + 1) as f64 / n,
                    path,
                    bytes,
                })
            })
            .collect()
    }
}

/// Runs `query` (columns: a Float64 key in [0, 1), then the row's JSON text) and writes its
/// rows in key order into the writer `open` makes once the number of rows is known. `bytes`
/// estimates the rows' size, to choose how many buckets to spread them over. `progress`
/// follows the input's stored bytes as the scan reads them.
///
/// Rows are held in memory until they outgrow one bucket; then they are spread over bucket
/// files by key range. A bucket that turns out larger than memory allows (its size is measured
/// as it is written) is spread again over narrower ranges, so memory holds one bucket's rows
/// however large or skewed the input.
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
    let memory = crate::session::memory_limit() as u64;
    let per_bucket = bucket_bytes(memory);
    let _watch = crate::ops::watch::scan(engine, progress);
    let mut stream = engine.query(query).await?.execute_stream().await?;

    let mut rows: Vec<(f64, Vec<u8>)> = Vec::new();
    let mut held = 0u64;
    let mut total = 0u64;
    let mut spilled: Option<(Scratch, Spread)> = None;
    while let Some(batch) = stream.try_next().await? {
        for_each_row(&batch, |k, r| {
            total += 1;
            if let Some((_, spread)) = &mut spilled {
                return spread.push(k, r.as_bytes());
            }
            held += r.len() as u64 + ROW_OVERHEAD;
            rows.push((k, r.as_bytes().to_vec()));
            if held > per_bucket {
                let mut scratch = new_scratch(scratch_parent)?;
                let n = bucket_count(bytes.max(2 * held), per_bucket, memory);
                let mut spread = Spread::new(&mut scratch, 0.0, 1.0, n)?;
                for (k, r) in rows.drain(..) {
                    spread.push(k, &r)?;
                }
                rows.shrink_to_fit();
                spilled = Some((scratch, spread));
            }
            Ok(())
        })?;
    }
    let Some((mut scratch, spread)) = spilled else {
        let mut writer = open(rows.len() as u64)?;
        write_sorted(rows, &mut writer)?;
        return writer.finish();
    };
    let mut writer = open(total)?;
    for bucket in spread.finish()? {
        drain(bucket, per_bucket, memory, &mut scratch, &mut writer)?;
    }
    writer.finish()
}

fn new_scratch(parent: &Path) -> Result<Scratch> {
    let dir = parent.join(format!(".pick-shuffle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| PickError::io(&dir, e))?;
    Ok(Scratch { dir, next: 0 })
}

/// Writes a bucket's rows in key order: sorted in memory if they fit, else spread again over
/// narrower key ranges first.
fn drain<P: Iterator<Item = Planned>>(
    bucket: Bucket,
    per_bucket: u64,
    memory: u64,
    scratch: &mut Scratch,
    writer: &mut ShardedWriter<P>,
) -> Result<()> {
    // A range too narrow to split means equal keys (vanishingly rare): they are sorted whole.
    let splittable = bucket.lo + (bucket.hi - bucket.lo) / 4.0 > bucket.lo;
    if bucket.bytes <= per_bucket || !splittable {
        let mut rows = Vec::new();
        read_bucket(&bucket.path, |k, r| {
            rows.push((k, r));
            Ok(())
        })?;
        let _ = std::fs::remove_file(&bucket.path);
        return write_sorted(rows, writer);
    }
    let n = bucket_count(bucket.bytes, per_bucket, memory);
    let mut spread = Spread::new(scratch, bucket.lo, bucket.hi, n)?;
    read_bucket(&bucket.path, |k, r| spread.push(k, &r))?;
    let _ = std::fs::remove_file(&bucket.path);
    for sub in spread.finish()? {
        // All of it in one narrower bucket: the keys are equal, splitting cannot help.
        if sub.bytes == bucket.bytes {
            let whole = Bucket {
                lo: sub.lo,
                hi: sub.lo,
                ..sub
            };
            drain(whole, per_bucket, memory, scratch, writer)?;
        } else {
            drain(sub, per_bucket, memory, scratch, writer)?;
        }
    }
    Ok(())
}

/// Calls `f(key, row)` for every row; a row without text (NULL `_json`) is an error, never a row
/// that silently goes missing.
fn for_each_row(batch: &RecordBatch, mut f: impl FnMut(f64, &str) -> Result<()>) -> Result<()> {
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
        f(keys.value(i), rows.value(i))?;
    }
    Ok(())
}

fn read_bucket(path: &Path, mut f: impl FnMut(f64, Vec<u8>) -> Result<()>) -> Result<()> {
    let err = |e| PickError::io(path, e);
    let file = File::open(path).map_err(err)?;
    let mut r = zstd::stream::read::Decoder::new(BufReader::new(file)).map_err(err)?;
    let mut head = [0u8; 16];
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(err(e)),
        }
        let key = f64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(head[8..].try_into().expect("8 bytes")) as usize;
        let mut row = vec![0u8; len];
        r.read_exact(&mut row).map_err(err)?;
        f(key, row)?;
    }
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
    fn buckets_fit_their_share_and_the_open_files_memory_allows() {
        let gib = 1u64 << 30;
        assert_eq!(bucket_count(0, gib / 4, gib), 2);
        assert_eq!(bucket_count(gib, gib / 4, gib), 4);
        assert_eq!(bucket_count(1 << 50, gib / 4, gib), 256);
        // 64 MiB of memory keeps 64 files open; the rest is split again later.
        assert_eq!(bucket_count(4 * gib, 16 << 20, 64 << 20), 64);
        assert_eq!(bucket_count(1 << 20, 1, 1 << 20), 2);
    }
}

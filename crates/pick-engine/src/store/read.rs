//! Reading objects: a sequential reader that keeps several ranged GETs in flight ahead of the
//! decompressor, Parquet through the crate's async reader (row groups' column chunks fetched
//! as coalesced ranges), and whole small objects.

use std::io::Read;

use bytes::Bytes;
use futures::StreamExt;
use object_store::ObjectStoreExt;

use super::{Remote, block_on, spawn};
use crate::error::{PickError, Result};

/// Bytes of the largest ranged GET: large enough that request latency is amortised, small
/// enough that `AHEAD` of them per reader stay well inside memory.
const RANGE_BYTES: u64 = 8 << 20;
/// The first GET, from which sizes double up to `RANGE_BYTES`: a reader that stops early
/// (schema inference reads a shard's first rows) fetches little more than it reads.
const FIRST_RANGE_BYTES: u64 = 1 << 20;
/// GETs in flight per reader, once it has read as many ranges.
const AHEAD: usize = 4;

/// An object read front to back as `std::io::Read`, up to `AHEAD` ranges fetched concurrently
/// ahead of the reader (one at first, one more per range delivered). Dropping it cancels the
/// fetches. Pinned to a version (an ETag), every GET asks for that version only, so an object
/// replaced mid-read is an error naming it, never a mix of two versions' bytes.
pub struct RangedReader {
    chunks: async_channel::Receiver<Result<Bytes>>,
    current: Bytes,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl RangedReader {
    /// Reads `object` (of `size` bytes) from `start` to its end; `version` (as `version`
    /// gives it when listing) pins it where it is an ETag.
    pub fn new(object: &Remote, start: u64, size: u64, version: Option<&str>) -> RangedReader {
        let etag = version.and_then(etag_of).map(str::to_string);
        let (tx, rx) = async_channel::bounded(AHEAD);
        let (store, path, url) = (object.store.clone(), object.path(), object.url());
        let mut ranges = Vec::new();
        let (mut at, mut len) = (start, FIRST_RANGE_BYTES);
        while at < size {
            let end = (at + len).min(size);
            ranges.push(at..end);
            at = end;
            len = (len * 2).min(RANGE_BYTES);
        }
        let task_url = url.clone();
        let task = spawn(async move {
            let mut pending = ranges.into_iter();
            let mut inflight = futures::stream::FuturesOrdered::new();
            let mut delivered = 0usize;
            loop {
                while inflight.len() < (delivered + 1).min(AHEAD) {
                    let Some(r) = pending.next() else { break };
                    let (store, path) = (store.clone(), path.clone());
                    let options = object_store::GetOptions {
                        if_match: etag.clone(),
                        range: Some(r.into()),
                        ..Default::default()
                    };
                    inflight.push_back(async move {
                        match store.get_opts(&path, options).await {
                            Ok(got) => got.bytes().await,
                            Err(e) => Err(e),
                        }
                    });
                }
                let Some(got) = inflight.next().await else {
                    return;
                };
                let item = got.map_err(|e| match e {
                    object_store::Error::Precondition { .. } => {
                        PickError::Failed(super::pinned::changed(&task_url))
                    }
                    e => super::store_error(&task_url, e),
                });
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
                delivered += 1;
            }
        });
        RangedReader {
            chunks: rx,
            current: Bytes::new(),
            url,
            task,
        }
    }
}

impl Drop for RangedReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Read for RangedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.recv_blocking() {
                Ok(Ok(bytes)) => self.current = bytes,
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                // The fetches ended: the object is read.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

impl std::fmt::Debug for RangedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RangedReader({})", self.url)
    }
}

/// A whole object in memory (Arrow IPC shards, which need to seek; models; small files).
pub fn fetch(object: &Remote) -> Result<Bytes> {
    let (store, path, url) = (object.store.clone(), object.path(), object.url());
    block_on(async move {
        let got = store
            .get(&path)
            .await
            .map_err(|e| super::store_error(&url, e))?;
        got.bytes().await.map_err(|e| super::store_error(&url, e))
    })
}

/// The size of an object, or a not-found error naming it.
pub fn size(object: &Remote) -> Result<u64> {
    head(object).map(|(size, _)| size)
}

/// An object's size and version (`version`).
pub fn head(object: &Remote) -> Result<(u64, String)> {
    let (store, path, url) = (object.store.clone(), object.path(), object.url());
    block_on(async move {
        store
            .head(&path)
            .await
            .map(|m| (m.size, version(&m)))
            .map_err(|e| super::store_error(&url, e))
    })
}

/// What changes when an object's bytes do: its ETag, else its last-modified time
/// (`modified:` and the milliseconds).
pub fn version(meta: &object_store::ObjectMeta) -> String {
    meta.e_tag
        .clone()
        .unwrap_or_else(|| format!("modified:{}", meta.last_modified.timestamp_millis()))
}

/// The ETag a version is, if it is one a GET can be pinned to (a strong one).
pub fn etag_of(version: &str) -> Option<&str> {
    (!version.starts_with("modified:") && !version.starts_with("W/")).then_some(version)
}

/// A Parquet object for the crate's async reader: footer, column chunks and ranges fetched
/// with ranged GETs (several ranges of a row group in one coalesced call).
struct ParquetObject {
    object: Remote,
    path: object_store::path::Path,
    size: u64,
}

impl ParquetObject {
    fn new(object: &Remote, size: u64) -> ParquetObject {
        ParquetObject {
            object: object.clone(),
            path: object.path(),
            size,
        }
    }
}

impl parquet::arrow::async_reader::AsyncFileReader for ParquetObject {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> futures::future::BoxFuture<'_, parquet::errors::Result<Bytes>> {
        Box::pin(async move {
            self.object
                .store
                .get_range(&self.path, range)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> futures::future::BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        Box::pin(async move {
            self.object
                .store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a parquet::arrow::arrow_reader::ArrowReaderOptions>,
    ) -> futures::future::BoxFuture<
        'a,
        parquet::errors::Result<std::sync::Arc<parquet::file::metadata::ParquetMetaData>>,
    > {
        Box::pin(async move {
            let size = self.size;
            let metadata = parquet::file::metadata::ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(std::sync::Arc::new(metadata))
        })
    }
}

/// The Arrow schema of a Parquet object, from its footer.
pub fn parquet_schema(object: &Remote, size: u64) -> Result<arrow::datatypes::SchemaRef> {
    use parquet::arrow::ParquetRecordBatchStreamBuilder;
    let url = object.url();
    let reader = ParquetObject::new(object, size);
    block_on(async move {
        ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .map(|b| b.schema().clone())
    })
    .map_err(|source| PickError::Parquet {
        path: url.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStore, PutPayload};
    use std::sync::Arc;

    #[test]
    fn ranged_reads_give_the_object_back_from_any_offset() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let bytes: Vec<u8> = (0..(21u32 << 20) + 12_345)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let object = Remote {
            store: Arc::clone(&store),
            root: "mem://b".into(),
            key: "dir/x.bin".into(),
        };
        let (s, p, b) = (Arc::clone(&store), object.path(), bytes.clone());
        block_on(async move { s.put(&p, PutPayload::from(b)).await.unwrap() });
        let size = bytes.len() as u64;
        for start in [0, 1, (1 << 20) - 1, 5 << 20, size - 1, size] {
            let mut out = Vec::new();
            RangedReader::new(&object, start, size, None)
                .read_to_end(&mut out)
                .unwrap();
            assert!(out == bytes[start as usize..], "from {start}");
        }
        // A missing object is an error naming its URL.
        let missing = object.child_of_root("nope");
        let err = RangedReader::new(&missing, 0, 10, None)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("mem://b/nope"), "{err}");
    }
}

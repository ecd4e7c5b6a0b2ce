//! Writing to a store. Commands write their outputs locally first (the same staging as local
//! outputs), then `publish` puts them in place (a cluster's executors write theirs to a hidden
//! prefix beside the output, which `publish_staged` puts in place the same way):
//!
//! - every object appears whole or not at all: a small file is one PUT, a large one a
//!   multipart upload streamed from disk with a bounded number of parts in flight, which the
//!   store makes visible only when it completes (an interrupted one is aborted, or, after
//!   `kill -9`, left as invisible parts for the bucket's lifecycle rule);
//! - a directory output is marked while it is being replaced: `_PICK_WRITING` goes up first,
//!   then the files, then the previous output's other objects are deleted, then `_SUCCESS`
//!   (the list of files) goes up and `_PICK_WRITING` is removed. pick refuses to read a prefix
//!   holding `_PICK_WRITING`, so an interrupted publish never looks finished; a rerun writes
//!   it again from the start.

use std::io::Read;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};

use super::{Remote, block_on};
use crate::error::{PickError, Result};

/// Objects up to this size go up in one PUT.
const SINGLE_PUT_BYTES: u64 = 16 << 20;
/// Multipart part size, and parts in flight per upload: memory is at most their product.
const PART_BYTES: usize = 16 << 20;
const PARTS_IN_FLIGHT: usize = 4;
/// Files uploaded at once when publishing a directory.
const FILES_IN_FLIGHT: usize = 4;

/// The marker of a directory output being replaced.
pub const WRITING_MARKER: &str = "_PICK_WRITING";
/// The marker of a complete directory output (the Hadoop/Spark convention), listing its files.
pub const DONE_MARKER: &str = "_SUCCESS";

/// Uploads the local file `from` as the object `to`.
pub fn upload_file(from: &Path, to: &Remote) -> Result<()> {
    let (from, to) = (from.to_path_buf(), to.clone());
    block_on(async move { upload(&from, &to).await })
}

async fn upload(from: &Path, to: &Remote) -> Result<()> {
    let ioerr = |e| PickError::io(from, e);
    let size = std::fs::metadata(from).map_err(ioerr)?.len();
    let path = to.path();
    if size <= SINGLE_PUT_BYTES {
        let bytes = std::fs::read(from).map_err(ioerr)?;
        to.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| to.error(e))?;
        return Ok(());
    }
    let upload = to
        .store
        .put_multipart(&path)
        .await
        .map_err(|e| to.error(e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut file = std::fs::File::open(from).map_err(ioerr)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
            let _ = writer.abort().await;
            return Err(to.error(e));
        }
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(ioerr(e));
            }
        };
        if n == 0 {
            break;
        }
        writer.write(&buf[..n]);
    }
    writer.finish().await.map_err(|e| to.error(e))?;
    Ok(())
}

/// Puts `bytes` as the object `to` in one request.
pub fn put(to: &Remote, bytes: Vec<u8>) -> Result<()> {
    let to = to.clone();
    block_on(async move {
        to.store
            .put(&to.path(), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| to.error(e))
    })
}

/// Every object under the prefix `dir` (keys relative to it, sorted) with its size.
pub fn list(dir: &Remote) -> Result<Vec<(String, u64)>> {
    Ok(list_versions(dir)?
        .into_iter()
        .map(|(key, size, _)| (key, size))
        .collect())
}

/// An object under a prefix: its key below the prefix, its size and its version (the ETag,
/// else the last-modified time).
pub type Listed = (String, u64, String);

/// [`list`] with each object's version.
pub fn list_versions(dir: &Remote) -> Result<Vec<Listed>> {
    let dir = dir.clone();
    block_on(async move {
        let prefix = dir.path();
        let strip = if dir.key.is_empty() {
            String::new()
        } else {
            format!("{}/", dir.key)
        };
        let mut out: Vec<Listed> = dir
            .store
            .list(Some(&prefix))
            .map_ok(|m| {
                let key = m.location.as_ref();
                let key = key.strip_prefix(&strip).unwrap_or(key).to_string();
                (key, m.size, super::read::version(&m))
            })
            .try_collect()
            .await
            .map_err(|e| dir.error(e))?;
        out.sort();
        Ok(out)
    })
}

/// Deletes the objects `keys` under `dir`.
fn delete(dir: &Remote, keys: Vec<String>) -> Result<()> {
    let dir = dir.clone();
    block_on(async move {
        futures::stream::iter(keys)
            .map(|k| {
                let obj = dir.child(&k);
                async move {
                    match obj.store.delete(&obj.path()).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                        Err(e) => Err(obj.error(e)),
                    }
                }
            })
            .buffer_unordered(FILES_IN_FLIGHT * 2)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    })
}

/// Checks a directory output before a command runs: it must be empty or absent unless the
/// user asked to overwrite it.
pub fn check_output(dest: &Remote, overwrite: bool) -> Result<()> {
    if overwrite {
        return Ok(());
    }
    if !list(dest)?.is_empty() {
        return Err(PickError::Usage(format!(
            "the output {} is not empty: pass --overwrite to replace it, or choose another",
            dest.url()
        )));
    }
    Ok(())
}

/// Publishes the local directory `staged` as the prefix `dest`, replacing what was there
/// (see the module comment for the order of steps).
pub fn publish(staged: &Path, dest: &Remote) -> Result<()> {
    let mut files = Vec::new();
    local_files(staged, staged, &mut files)?;
    files.sort();
    let staged = staged.to_path_buf();
    replace(dest, &files, move |rel, to| {
        let from = staged.join(rel);
        Box::pin(async move { upload(&from, &to).await })
    })
}

/// Publishes the objects under the prefix `staged` (written there by a cluster's executors)
/// as the prefix `dest`, as `publish` does, each copied within the store; then removes them.
pub fn publish_staged(staged: &Remote, dest: &Remote) -> Result<()> {
    let listed = list(staged)?;
    let files: Vec<String> = listed.iter().map(|(k, _)| k.clone()).collect();
    let sizes: std::collections::HashMap<String, u64> = listed.into_iter().collect();
    let from = staged.clone();
    replace(dest, &files, move |rel, to| {
        let size = sizes.get(rel).copied().unwrap_or(0);
        let from = from.child(rel);
        Box::pin(async move { copy_object(&from, &to, size).await })
    })?;
    // Published: what is left of the staging is litter, not a failure.
    let _ = delete(staged, files);
    Ok(())
}

/// The largest object a store copies in one request (S3's CopyObject limit).
const COPY_BYTES: u64 = 5 << 30;

/// `from` copied to `to` in the store: one copy request, or, above what one request may copy,
/// read and uploaded in parts as `upload` does.
async fn copy_object(from: &Remote, to: &Remote, size: u64) -> Result<()> {
    if size <= COPY_BYTES {
        return to
            .store
            .copy(&from.path(), &to.path())
            .await
            .map_err(|e| to.error(e));
    }
    let mut bytes = from
        .store
        .get(&from.path())
        .await
        .map_err(|e| from.error(e))?
        .into_stream();
    let upload = to
        .store
        .put_multipart(&to.path())
        .await
        .map_err(|e| to.error(e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    while let Some(chunk) = bytes.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(from.error(e));
            }
        };
        if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
            let _ = writer.abort().await;
            return Err(to.error(e));
        }
        writer.write(&chunk);
    }
    writer.finish().await.map_err(|e| to.error(e))?;
    Ok(())
}

/// Removes every object under the prefix `dir`.
pub fn remove_all(dir: &Remote) -> Result<()> {
    let keys = list(dir)?.into_iter().map(|(k, _)| k).collect();
    delete(dir, keys)
}

/// The steps every publish takes: the marker, `files` put in place by `put_one` (its relative
/// path, its destination), the previous output's other objects deleted, `_SUCCESS`, and the
/// marker removed.
fn replace<F>(dest: &Remote, files: &[String], put_one: F) -> Result<()>
where
    F: Fn(&str, Remote) -> futures::future::BoxFuture<'static, Result<()>> + Send + 'static,
{
    let previous = list(dest)?;
    put(
        &dest.child(WRITING_MARKER),
        format!("pick {} is writing here\n", std::process::id()).into_bytes(),
    )?;
    let jobs: Vec<futures::future::BoxFuture<'static, Result<()>>> = files
        .iter()
        .map(|rel| put_one(rel, dest.child(rel)))
        .collect();
    block_on(async move {
        futures::stream::iter(jobs)
            .buffer_unordered(FILES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await
    })?;
    let stale: Vec<String> = previous
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| k != WRITING_MARKER && k != DONE_MARKER && !files.contains(k))
        .collect();
    delete(dest, stale)?;
    let mut manifest = String::new();
    for rel in files {
        manifest.push_str(rel);
        manifest.push('\n');
    }
    put(&dest.child(DONE_MARKER), manifest.into_bytes())?;
    delete(dest, vec![WRITING_MARKER.to_string()])
}

/// Relative paths (with `/`) of the files under `dir`.
fn local_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| PickError::io(dir, e))? {
        let entry = entry.map_err(|e| PickError::io(dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            local_files(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

//! Inferred schemas kept per dataset, so that opening a dataset again (each `pick sql`, each
//! command of a pipeline) reads no shard before the query: a store's thousands of shards
//! otherwise cost a request each. The key is every shard's name, size and version (a file's
//! modification time, an object's ETag) with the inference settings; a changed shard is a
//! new key. Files in `~/.cache/pick/schemas/` (or `$PICK_CACHE_DIR/schemas/`), Arrow IPC
//! streams holding only a schema.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::Schema;
use sha2::{Digest, Sha256};

use crate::dataset::discover::Shard;
use crate::dataset::infer::InferRows;

/// A file modified this recently may change again within its clock tick without its
/// modification time changing (git's "racy" files): its schema is not kept.
const SETTLED_NS: u128 = 2_000_000_000;

fn path_of(shards: &[Arc<Shard>], rows: InferRows, skip_bad: bool) -> PathBuf {
    // The build is part of the key: another pick may infer differently.
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map_or(0, |m| crate::dataset::discover::modified_ns(&m));
    let mut key = Sha256::new();
    key.update(format!("pick schema {build}\n{:?}\n{skip_bad}\n", rows.0));
    for s in shards {
        key.update(format!("{}\t{}\t{}\n", s.path.display(), s.size, s.version));
    }
    crate::store::local::cache_dir()
        .join("schemas")
        .join(format!("{:x}.arrows", key.finalize()))
}

/// The schema inferred before for exactly these shards and settings.
pub fn load(shards: &[Arc<Shard>], rows: InferRows, skip_bad: bool) -> Option<Schema> {
    let file = std::fs::File::open(path_of(shards, rows, skip_bad)).ok()?;
    let reader = arrow::ipc::reader::StreamReader::try_new(file, None).ok()?;
    Some(reader.schema().as_ref().clone())
}

/// Keeps `schema` for these shards and settings; best effort (a read-only home only loses
/// the cache), and not for files modified within the last two seconds.
pub fn store(shards: &[Arc<Shard>], rows: InferRows, skip_bad: bool, schema: &Schema) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let racy = shards.iter().any(|s| {
        s.object.is_none()
            && s.version
                .parse::<u128>()
                .is_ok_and(|t| t + SETTLED_NS > now)
    });
    if racy {
        return;
    }
    let path = path_of(shards, rows, skip_bad);
    let write = || -> std::io::Result<()> {
        let dir = path.parent().expect("in schemas/");
        std::fs::create_dir_all(dir)?;
        static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{}-{n}.tmp", std::process::id()));
        let mut bytes = Vec::new();
        let mut writer = arrow::ipc::writer::StreamWriter::try_new(&mut bytes, schema)
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)?;
        drop(writer);
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)
    };
    let _ = write();
}

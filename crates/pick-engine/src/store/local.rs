//! Local files read through object_store's `LocalFileSystem` (`open`), and local copies of
//! objects that must be files (models: the fastText and safetensors readers
//! read them from disk). Objects stream to disk through the ranged reader. A URL's objects are downloaded once into `~/.cache/pick/objects/` (or
//! `$PICK_CACHE_DIR/objects/`), keyed by URL, and reused while the listing (keys, sizes) is
//! unchanged; a copy appears complete or not at all (a staging directory renamed into place).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Remote, read, write};
use crate::error::{PickError, Result};

/// A local file opened through object_store's `LocalFileSystem`, positioned at `start`.
/// Its answer for a local object is the open file itself, so shards read through the same
/// store interface as objects do, at the speed of plain file reads (measured: no change in
/// `pick bench scan`). Off a tokio runtime the store opens the file on the calling thread.
pub fn open(path: &Path, start: u64) -> Result<std::fs::File> {
    use object_store::{GetOptions, GetResultPayload, ObjectStore, local::LocalFileSystem};
    use std::io::{Seek, SeekFrom};
    static FS: std::sync::LazyLock<LocalFileSystem> =
        std::sync::LazyLock::new(LocalFileSystem::new);
    let ioerr = |e: std::io::Error| PickError::io(path, e);
    let key = object_path(path)?;
    let got = futures::executor::block_on(FS.get_opts(&key, GetOptions::default())).map_err(
        |e| match e {
            object_store::Error::NotFound { .. } => {
                ioerr(std::io::Error::from(std::io::ErrorKind::NotFound))
            }
            e => ioerr(std::io::Error::other(e)),
        },
    )?;
    let GetResultPayload::File(mut file, _) = got.payload else {
        unreachable!("LocalFileSystem answers with the file")
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(ioerr)?;
    }
    Ok(file)
}

/// A local file's path as `LocalFileSystem` names it: absolute, with `..` and symbolic links
/// resolved (its paths have no `..`).
pub fn object_path(path: &Path) -> Result<object_store::path::Path> {
    let ioerr = |e: std::io::Error| PickError::io(path, e);
    let real = std::fs::canonicalize(path).map_err(ioerr)?;
    object_store::path::Path::from_absolute_path(&real).map_err(|e| ioerr(std::io::Error::other(e)))
}

/// The listing a complete copy was made from.
const LISTING: &str = ".pick-listing";

/// `path` itself when it is local; for a URL, a local copy of the object (a file) or of every
/// object under the prefix (a directory).
pub fn materialize(path: &Path) -> Result<PathBuf> {
    if !super::is_url_path(path) {
        return Ok(path.to_path_buf());
    }
    let remote = Remote::parse(&path.to_string_lossy())?;
    let mut listed = write::list(&remote)?;
    let single = listed.is_empty();
    if single {
        listed = vec![(String::new(), read::size(&remote)?)];
    }
    let name = remote
        .key
        .rsplit('/')
        .next()
        .unwrap_or("object")
        .to_string();
    let base = cache_dir().join("objects");
    let digest = Sha256::digest(remote.url().as_bytes());
    let dir = base.join(&format!("{digest:x}")[..16]);
    let local = if single { dir.join(&name) } else { dir.clone() };
    let listing: String = listed.iter().map(|(k, n)| format!("{k}\t{n}\n")).collect();
    if std::fs::read_to_string(dir.join(LISTING)).ok().as_deref() == Some(listing.as_str()) {
        return Ok(local);
    }
    std::fs::create_dir_all(&base).map_err(|e| PickError::io(&base, e))?;
    let staging = base.join(format!(
        ".{}.pick-staging-{}",
        digest_name(&dir),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    super::live::register(&staging);
    let result = (|| {
        for (rel, size) in &listed {
            let (object, to) = if single {
                (remote.clone(), staging.join(&name))
            } else {
                (remote.child(rel), staging.join(rel))
            };
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| PickError::io(parent, e))?;
            }
            let mut file = std::fs::File::create(&to).map_err(|e| PickError::io(&to, e))?;
            let mut reader = read::RangedReader::new(&object, 0, *size, None);
            std::io::copy(&mut reader, &mut file).map_err(|e| PickError::io(&to, e))?;
        }
        std::fs::write(staging.join(LISTING), &listing).map_err(|e| PickError::io(&staging, e))?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir).map_err(|e| PickError::io(&dir, e))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    super::live::unregister(&staging);
    result.map(|()| local)
}

/// The file `name` in the directory `dir` as a local path: itself for a local directory, the
/// object fetched into the cache for a prefix in a store; `None` where there is no such file.
pub fn file_in(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    if !super::is_url_path(dir) {
        let path = dir.join(name);
        return Ok(path.is_file().then_some(path));
    }
    let prefix = Remote::parse(&dir.to_string_lossy())?;
    if !write::list(&prefix)?.iter().any(|(key, _)| key == name) {
        return Ok(None);
    }
    materialize(&prefix.child(name).display_path()).map(Some)
}

/// Where pick keeps what it can make again (copies of objects, inferred schemas):
/// `$PICK_CACHE_DIR`, else `~/.cache/pick`, else the temporary directory.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("PICK_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pick")))
        .unwrap_or_else(std::env::temp_dir)
}

fn digest_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

//! Local copies of objects that must be files (models: the fastText and safetensors readers
//! read them from disk). Objects stream to disk through the ranged reader. A URL's objects are downloaded once into `~/.cache/pick/objects/` (or
//! `$PICK_CACHE_DIR/objects/`), keyed by URL, and reused while the listing (keys, sizes) is
//! unchanged; a copy appears complete or not at all (a staging directory renamed into place).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Remote, read, write};
use crate::error::{PickError, Result};

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
    crate::write::staging::register(&staging);
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
            let mut reader = read::RangedReader::new(&object, 0, *size);
            std::io::copy(&mut reader, &mut file).map_err(|e| PickError::io(&to, e))?;
        }
        std::fs::write(staging.join(LISTING), &listing).map_err(|e| PickError::io(&staging, e))?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir).map_err(|e| PickError::io(&dir, e))
    })();
    let _ = std::fs::remove_dir_all(&staging);
    crate::write::staging::unregister(&staging);
    result.map(|()| local)
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

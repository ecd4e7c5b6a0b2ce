//! Every file pick writes goes through here: written under a hidden temporary name beside its
//! final path and renamed into place only when complete, so an interrupted command never
//! leaves a file that looks finished, and a failed one leaves the previous file as it was.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{PickError, Result};

/// A file being written under a temporary name next to its final path.
pub struct PendingFile {
    tmp: PathBuf,
    dest: PathBuf,
    /// The object the file becomes, for a destination in a store: it is written locally and
    /// uploaded by `commit`.
    remote: Option<crate::store::Remote>,
    done: bool,
}

impl PendingFile {
    pub fn create(dest: &Path) -> Result<(PendingFile, File)> {
        let pending = PendingFile::reserve(dest)?;
        let file = File::create(&pending.tmp).map_err(|e| PickError::io(&pending.tmp, e))?;
        Ok((pending, file))
    }

    /// A temporary path for a file some other writer creates (fastText's C++ saves its models
    /// itself); `commit` moves it into place, dropping uncommitted removes it.
    pub fn reserve(dest: &Path) -> Result<PendingFile> {
        if crate::store::is_url_path(dest) {
            let remote = crate::store::Remote::parse(&dest.to_string_lossy())?;
            let scratch = super::staging::local_scratch()?;
            let name = remote.key.rsplit('/').next().unwrap_or("out").to_string();
            return Ok(PendingFile {
                tmp: scratch.join(name),
                dest: dest.to_path_buf(),
                remote: Some(remote),
                done: false,
            });
        }
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| PickError::io(dir, e))?;
        }
        super::staging::remove_stale(dest);
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = dest.with_file_name(format!(".{name}.{}.pick-tmp", std::process::id()));
        super::staging::register(&tmp);
        Ok(PendingFile {
            tmp,
            dest: dest.to_path_buf(),
            remote: None,
            done: false,
        })
    }

    /// Where the file is being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    pub fn commit(mut self) -> Result<()> {
        if let Some(remote) = &self.remote {
            crate::store::write::upload_file(&self.tmp, remote)?;
            let scratch = self.tmp.parent().unwrap_or(&self.tmp).to_path_buf();
            let _ = std::fs::remove_dir_all(&scratch);
            super::staging::unregister(&scratch);
            self.done = true;
            return Ok(());
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| PickError::io(&self.dest, e))?;
        super::staging::unregister(&self.tmp);
        self.done = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            if self.remote.is_some() {
                let scratch = self.tmp.parent().unwrap_or(&self.tmp).to_path_buf();
                let _ = std::fs::remove_dir_all(&scratch);
                super::staging::unregister(&scratch);
            } else {
                let _ = std::fs::remove_file(&self.tmp);
                super::staging::unregister(&self.tmp);
            }
        }
    }
}

/// `bytes` as the whole of `dest`, atomically.
pub fn write_file(dest: &Path, bytes: &[u8]) -> Result<()> {
    let (pending, mut file) = PendingFile::create(dest)?;
    file.write_all(bytes).map_err(|e| PickError::io(dest, e))?;
    pending.commit()
}

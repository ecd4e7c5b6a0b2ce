//! Output directories: a command writes into a hidden staging directory beside its output and
//! moves it into place when it succeeds, so the output is either the previous state or the
//! complete new one, whatever happens in between (an error, Ctrl-C, kill -9).
//!
//! Before anything is written, the output is checked: it must not be or contain an input, or
//! lie inside one (compared as canonical paths), and it must be empty or absent unless the
//! user asked to overwrite it. An overwritten output is swapped with the staging directory in
//! one `renameat2(RENAME_EXCHANGE)`, then the old one is removed.
//!
//! Staging and scratch directories are registered while they live; `remove_registered` (which
//! the CLI calls on Ctrl-C) removes them.

use std::path::{Path, PathBuf};

use crate::error::{PickError, Result};

pub use crate::store::live::{register, remove_registered, unregister};

/// Removes what runs killed outright (`kill -9`, a lost machine) left beside `dest`: its
/// staging directories and temporary files whose process is gone. A live process's are kept.
pub(crate) fn remove_stale(dest: &Path) {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy();
    let staging = format!(".{name}.pick-staging-");
    let tmp = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = file.strip_prefix(&staging).or_else(|| {
            file.strip_prefix(&tmp)
                .and_then(|rest| rest.strip_suffix(".pick-tmp"))
        });
        let Some(pid) = pid.and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid != std::process::id() as i32 && !alive(pid) {
            let path = entry.path();
            if std::fs::remove_dir_all(&path).is_err() {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A path made absolute and free of `..` and links, for as much of it as exists.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            canonical(parent).join(name)
        }
        _ => std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// A local directory for what goes to a store: under `$TMPDIR`, named for this process so
/// a later run can tell a dead run's leftovers (and remove them) from a live one's.
pub(crate) fn local_scratch() -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    if NEXT.load(Ordering::Relaxed) == 0
        && let Ok(entries) = std::fs::read_dir(&tmp)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(owner) = name
                .strip_prefix("pick-upload-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            if owner != pid as i32 && !alive(owner) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = tmp.join(format!(
        "pick-upload-{pid}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| PickError::io(&dir, e))?;
    register(&dir);
    Ok(dir)
}

/// The output directory of a command, being written.
pub struct OutputDir {
    dest: PathBuf,
    staging: PathBuf,
    /// Where the staged output is published, for an output in a store.
    remote: Option<crate::store::Remote>,
    /// The store prefix the output is staged under, when other machines write it.
    staged: Option<crate::store::Remote>,
    done: bool,
}

impl OutputDir {
    /// Checks `dest` against `inputs` and its contents, then makes the staging directory.
    pub fn prepare(dest: &Path, inputs: &[PathBuf], overwrite: bool) -> Result<OutputDir> {
        if crate::store::is_url_path(dest) {
            return OutputDir::prepare_remote(dest, inputs, overwrite);
        }
        let target = canonical(dest);
        for input in inputs {
            let input = canonical(input);
            if target.starts_with(&input) || input.starts_with(&target) {
                return Err(PickError::Usage(format!(
                    "the output {} overlaps the input {}: write somewhere else",
                    dest.display(),
                    input.display()
                )));
            }
        }
        match std::fs::read_dir(dest) {
            Ok(mut entries) => {
                if entries.next().is_some() && !overwrite {
                    return Err(PickError::Usage(format!(
                        "the output directory {} is not empty: pass --overwrite to replace it, \
                         or choose another",
                        dest.display()
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(PickError::Usage(format!(
                    "the output {} is a file, not a directory",
                    dest.display()
                )));
            }
            Err(e) => return Err(PickError::io(dest, e)),
        }
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| PickError::io(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        remove_stale(&target);
        let staging = parent.join(format!(".{name}.pick-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| PickError::io(&staging, e))?;
        register(&staging);
        Ok(OutputDir {
            dest: target,
            staging,
            remote: None,
            staged: None,
            done: false,
        })
    }

    /// `prepare`; with `shared`, for an output other machines write too (a cluster's
    /// executors): it is staged where they can write. A local output's staging directory already is (beside the
    /// output, on the filesystem every node must share); an output in a store is staged under
    /// a hidden prefix beside it, in the store.
    pub fn prepare_for(
        dest: &Path,
        inputs: &[PathBuf],
        overwrite: bool,
        shared: bool,
    ) -> Result<OutputDir> {
        let mut out = OutputDir::prepare(dest, inputs, overwrite)?;
        if !shared {
            return Ok(out);
        }
        let Some(remote) = out.remote.clone() else {
            return Ok(out);
        };
        let _ = std::fs::remove_dir_all(&out.staging);
        unregister(&out.staging);
        let (parent, name) = match remote.key.rsplit_once('/') {
            Some((p, n)) => (p.to_string(), n.to_string()),
            None => (String::new(), remote.key.clone()),
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let hidden = format!(".{name}.pick-staging-{}-{nanos}", std::process::id());
        let staged = remote.child_of_root(&format!("{parent}/{hidden}"));
        out.staging = staged.display_path();
        register(&out.staging);
        out.staged = Some(staged);
        Ok(out)
    }

    /// An output in a store: checked there, staged in a local scratch directory, published
    /// by `commit` (`store::write::publish`).
    fn prepare_remote(dest: &Path, inputs: &[PathBuf], overwrite: bool) -> Result<OutputDir> {
        let remote = crate::store::Remote::parse(&dest.to_string_lossy())?;
        let url = format!("{}/", remote.url());
        for input in inputs {
            let input = input.to_string_lossy();
            let input = format!("{}/", input.trim_end_matches('/'));
            if input.starts_with(&url) || url.starts_with(&input) {
                return Err(PickError::Usage(format!(
                    "the output {} overlaps the input {}: write somewhere else",
                    remote.url(),
                    input.trim_end_matches('/')
                )));
            }
        }
        crate::store::write::check_output(&remote, overwrite)?;
        Ok(OutputDir {
            dest: remote.display_path(),
            staging: local_scratch()?,
            remote: Some(remote),
            staged: None,
            done: false,
        })
    }

    /// Where the command writes.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the staging directory into place: the complete output appears at once.
    pub fn commit(mut self) -> Result<()> {
        if let (Some(staged), Some(remote)) = (&self.staged, &self.remote) {
            crate::store::write::publish_staged(staged, remote)?;
            unregister(&self.staging);
            self.done = true;
            return Ok(());
        }
        if let Some(remote) = &self.remote {
            crate::store::write::publish(&self.staging, remote)?;
            let _ = std::fs::remove_dir_all(&self.staging);
        } else if self.dest.exists() {
            exchange(&self.staging, &self.dest)?;
            // The staging path now holds the previous output.
            let _ = std::fs::remove_dir_all(&self.staging);
        } else {
            std::fs::rename(&self.staging, &self.dest).map_err(|e| PickError::io(&self.dest, e))?;
        }
        unregister(&self.staging);
        self.done = true;
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.done
            && let Some(staged) = &self.staged
        {
            let _ = crate::store::write::remove_all(staged);
            unregister(&self.staging);
            return;
        }
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
            unregister(&self.staging);
        }
    }
}

/// Swaps two directories atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| PickError::Usage(format!("{}: a NUL in the path", p.display())))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths; the call only renames.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(PickError::io(b, std::io::Error::last_os_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_overlap_and_non_empty_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("data");
        std::fs::create_dir_all(input.join("train")).unwrap();
        std::fs::write(input.join("train/a.jsonl"), "{}\n").unwrap();
        for dest in [input.clone(), input.join("out"), tmp.path().to_path_buf()] {
            let e = OutputDir::prepare(&dest, std::slice::from_ref(&input), true).err();
            assert!(e.is_some(), "{}", dest.display());
        }
        // `./data` is the input, spelled differently.
        let dotted = tmp.path().join(".").join("data");
        assert!(OutputDir::prepare(&dotted, std::slice::from_ref(&input), true).is_err());
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("old"), "x").unwrap();
        assert!(OutputDir::prepare(&out, std::slice::from_ref(&input), false).is_err());
    }

    #[test]
    fn commit_replaces_and_drop_leaves_the_previous_state() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("old"), "x").unwrap();
        {
            let o = OutputDir::prepare(&out, &[], true).unwrap();
            std::fs::write(o.path().join("new"), "y").unwrap();
            // dropped without commit
        }
        assert!(out.join("old").exists() && !out.join("new").exists());
        let o = OutputDir::prepare(&out, &[], true).unwrap();
        std::fs::write(o.path().join("new"), "y").unwrap();
        o.commit().unwrap();
        assert!(!out.join("old").exists() && out.join("new").exists());
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "staging directories left behind");
    }
}

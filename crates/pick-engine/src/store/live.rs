//! Paths being written that an interrupted command must remove: staging, scratch and
//! temporary files and directories, and prefixes staged in a store, registered while they
//! live (`remove_registered` runs on Ctrl-C). Writers and the model cache share the one list.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Directories to remove if the process is interrupted.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Registers a directory to remove on interruption.
pub fn register(dir: &Path) {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// Forgets a directory (it was removed, or moved into place).
pub fn unregister(dir: &Path) {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|d| d != dir);
}

/// Removes every registered path: staging, scratch and temporary files left by an interrupted
/// command.
pub fn remove_registered() {
    let paths = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    let (remote, local): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().partition(|p| super::is_url_path(p));
    for p in local {
        if std::fs::remove_dir_all(&p).is_err() {
            let _ = std::fs::remove_file(&p);
        }
    }
    if remote.is_empty() {
        return;
    }
    // Objects staged in a store go as far as ten seconds allow: an interrupted command must
    // not hang on a store that does not answer (what is left, the next run writing there
    // can remove).
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for p in remote {
            if let Ok(prefix) = super::Remote::parse(&p.to_string_lossy()) {
                let _ = super::write::remove_all(&prefix);
            }
        }
        let _ = done.send(());
    });
    let _ = wait.recv_timeout(std::time::Duration::from_secs(10));
}

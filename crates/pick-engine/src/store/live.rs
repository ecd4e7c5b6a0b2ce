//! Paths being written that an interrupted command must remove: staging, scratch and
//! temporary files and directories, registered while they live (`remove_registered` runs on
//! Ctrl-C). Writers and the model cache share the one list.

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
    for p in paths {
        if std::fs::remove_dir_all(&p).is_err() {
            let _ = std::fs::remove_file(&p);
        }
    }
}

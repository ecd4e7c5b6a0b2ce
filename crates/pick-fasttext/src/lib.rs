//! Official fastText models, read natively: `.bin` and quantized `.ftz` files in fastText's own
//! format, loaded once per process and shared by every thread, with prediction that gives the
//! numbers `fasttext predict-prob` prints (summed in another order: `projection`); and
//! supervised training by the official fastText C++ code itself (`train`). The SQL functions
//! `fasttext_predict` and `fasttext_score` in `pick-udfs` wrap the predictor. No DataFusion
//! here.

mod dictionary;
mod matrix;
mod model;
mod projection;
pub mod train;

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use rustc_hash::FxHashMap;

pub use dictionary::{EOS, LABEL_PREFIX, hash, is_separator};
pub use model::{Args, Loss, Model, Scratch};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a usable fastText model: {what}", path.display())]
    Format { path: PathBuf, what: String },
}

/// The model file a user names: a `.bin`/`.ftz` file, or a directory holding `model.bin` (also
/// a missing one, so the error names the file that was looked for).
pub fn model_file(path: &Path) -> PathBuf {
    if path.is_dir() || (!path.exists() && path.extension().is_none()) {
        path.join("model.bin")
    } else {
        path.to_path_buf()
    }
}

static LOADED: LazyLock<Mutex<FxHashMap<PathBuf, Arc<Model>>>> = LazyLock::new(Default::default);

/// The model at `path`, read from disk the first time any thread asks for it.
pub fn shared(path: &Path) -> Result<Arc<Model>, ModelError> {
    let file = model_file(path);
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = loaded.get(&file) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(Model::load(&file)?);
    loaded.insert(file, Arc::clone(&model));
    Ok(model)
}

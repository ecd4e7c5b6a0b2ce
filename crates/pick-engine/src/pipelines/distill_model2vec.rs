//! `distill-model2vec`: a Model2Vec static model distilled from a local BERT-family sentence
//! transformer (`pick_distill`), as model2vec 0.10's `distill` makes it; the output folder
//! appears whole or not at all.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use pick_distill::{DistillError, Distilled, PcaDims, Pooling, Quantize};

use crate::dataset::discover::Codec;
use crate::error::{PickError, Result};
use crate::observe::{Observer, Progress};
use crate::pipelines::train_model2vec::resolve_model;
use crate::write::OutputDir;

#[derive(Debug, Clone)]
pub struct DistillParams {
    /// The transformer: a folder, a URL, or a Hugging Face id in the local hub cache.
    pub model_name: String,
    pub output: PathBuf,
    pub pca_dims: PcaDims,
    pub sif_coefficient: f64,
    pub token_remove_pattern: Option<String>,
    /// Words to add, one per line (compressed by its name's suffix; a local path or a URL).
    pub vocabulary_path: Option<PathBuf>,
    pub quantize_to: Quantize,
    pub vocabulary_quantization: Option<usize>,
    pub pooling: Pooling,
    pub overwrite: bool,
}

pub fn run(p: &DistillParams, observer: &dyn Observer) -> Result<Distilled> {
    // A model that is not there is a runtime error, as one pick cannot read.
    let model = resolve_model(&p.model_name).map_err(|e| match e {
        PickError::Usage(m) => PickError::Failed(m),
        e => e,
    })?;
    let vocabulary = match &p.vocabulary_path {
        Some(path) => read_vocabulary(path)?,
        None => Vec::new(),
    };
    let out = OutputDir::prepare(&p.output, std::slice::from_ref(&model), p.overwrite)?;
    let bar: OnceLock<Arc<dyn Progress>> = OnceLock::new();
    let distilled = pick_distill::distill(
        &pick_distill::Params {
            model: &model,
            model_name: &p.model_name,
            output: out.path(),
            pca_dims: p.pca_dims,
            sif_coefficient: p.sif_coefficient,
            token_remove_pattern: p.token_remove_pattern.as_deref(),
            vocabulary: &vocabulary,
            quantize_to: p.quantize_to,
            vocabulary_quantization: p.vocabulary_quantization,
            pooling: p.pooling,
        },
        &|done, total| {
            bar.get_or_init(|| observer.count(total as u64, "tokens"))
                .set(done as u64);
        },
    )
    .map_err(|e| match e {
        DistillError::Usage(m) => PickError::Usage(m),
        e => PickError::Failed(e.to_string()),
    })?;
    if let Some(bar) = bar.get() {
        bar.finish();
    }
    out.commit()?;
    Ok(distilled)
}

/// The lines of a vocabulary file, each stripped of surrounding white space (empty lines stay
/// and add nothing), as bonepick reads them.
fn read_vocabulary(path: &Path) -> Result<Vec<String>> {
    let location = path.to_string_lossy();
    let raw: Box<dyn Read> = if crate::store::is_url(&location) {
        let object = crate::store::Remote::parse(&location)?;
        Box::new(std::io::Cursor::new(crate::store::read::fetch(&object)?))
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| PickError::io(path, e))?)
    };
    let mut reader: Box<dyn Read> = match Codec::from_name(&location) {
        Codec::Plain => raw,
        Codec::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(raw).map_err(|e| PickError::io(path, e))?)
        }
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
    };
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| PickError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        PickError::Failed(format!(
            "{}:{line}: the vocabulary is not UTF-8 text",
            path.display()
        ))
    })?;
    Ok(text.lines().map(|l| l.trim().to_string()).collect())
}

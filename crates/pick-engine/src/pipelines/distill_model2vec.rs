//! `distill-model2vec`: a Model2Vec static model distilled from a local BERT-family sentence
//! transformer (`pick_distill`), as model2vec 0.10's `distill` makes it; the output folder
//! appears whole or not at all.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pick_distill::{DistillError, Distilled, PcaDims, Pooling, Quantize};

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
    pub quantize_to: Quantize,
    pub pooling: Pooling,
    pub overwrite: bool,
}

pub fn run(p: &DistillParams, observer: &dyn Observer) -> Result<Distilled> {
    // A model that is not there is a runtime error, as one pick cannot read.
    let model = resolve_model(&p.model_name).map_err(|e| match e {
        PickError::Usage(m) => PickError::Failed(m),
        e => e,
    })?;
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
            quantize_to: p.quantize_to,
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

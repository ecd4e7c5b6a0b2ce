//! The distilled model in model2vec 0.10's folder format (`StaticModel.save_pretrained`), so
//! that both pick and Python model2vec load it: `model.safetensors` (`embeddings`),
//! `config.json`, `tokenizer.json`, `modules.json` and a model card.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use serde_json::{Value, json};

use crate::error::DistillError;

pub struct Saved<'a> {
    pub embeddings: (safetensors::Dtype, Vec<u8>),
    pub rows: usize,
    pub dim: usize,
    /// With clustered rows: each token's SIF weight and its row.
    pub clustered: Option<(&'a [f64], &'a [u32])>,
    pub config: Value,
    pub tokenizer: &'a Value,
    pub base_model: &'a str,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DistillError> {
    std::fs::write(path, bytes).map_err(|source| DistillError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// JSON as Python's `json.dump(indent=4)` lays it out.
fn pretty(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut ser).expect("JSON values serialize");
    out
}

/// Writes the model into `dir` (which exists).
pub fn save(dir: &Path, model: &Saved) -> Result<(), DistillError> {
    let path = dir.join("model.safetensors");
    let (dtype, data) = &model.embeddings;
    let bad = |e: safetensors::SafeTensorError| DistillError::bad(&path, e.to_string());
    let mut tensors = vec![(
        "embeddings",
        TensorView::new(*dtype, vec![model.rows, model.dim], data).map_err(bad)?,
    )];
    let (weights, mapping): (Vec<u8>, Vec<u8>) = match model.clustered {
        Some((w, m)) => (
            w.iter().flat_map(|v| v.to_le_bytes()).collect(),
            m.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
        ),
        None => Default::default(),
    };
    if let Some((w, m)) = model.clustered {
        tensors.push((
            "weights",
            TensorView::new(safetensors::Dtype::F64, vec![w.len()], &weights).map_err(bad)?,
        ));
        tensors.push((
            "mapping",
            TensorView::new(safetensors::Dtype::I32, vec![m.len()], &mapping).map_err(bad)?,
        ));
    }
    let bytes = safetensors::serialize(tensors, None::<HashMap<String, String>>).map_err(bad)?;
    write(&path, &bytes)?;
    write(&dir.join("config.json"), &pretty(&model.config))?;
    let tokenizer = serde_json::to_vec(model.tokenizer).expect("JSON values serialize");
    write(&dir.join("tokenizer.json"), &tokenizer)?;
    let modules = json!([
        {"idx": 0, "name": "0", "path": ".", "type": "sentence_transformers.models.StaticEmbedding"},
        {"idx": 1, "name": "1", "path": "1_Normalize", "type": "sentence_transformers.models.Normalize"}
    ]);
    write(&dir.join("modules.json"), &pretty(&modules))?;
    let name = dir
        .file_name()
        .map_or("model".into(), |n| n.to_string_lossy().to_string());
    let card = format!(
        "---\nbase_model: {}\nlibrary_name: model2vec\nlicense: mit\nmodel_name: {name}\ntags:\n\
         - embeddings\n- static-embeddings\n- sentence-transformers\n---\n\n# {name} Model Card\n\n\
         A Model2Vec static model distilled from {} by pick (`pick distill-model2vec`): \
         {} tokens, {} dimensions.\n\n```python\nfrom model2vec import StaticModel\n\
         model = StaticModel.from_pretrained(\"{name}\")\n```\n",
        model.base_model,
        model.base_model,
        model.clustered.map_or(model.rows, |(w, _)| w.len()),
        model.dim
    );
    write(&dir.join("README.md"), card.as_bytes())
}

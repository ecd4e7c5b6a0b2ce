//! A trained model written as model2vec 0.10's pipeline folder (`StaticModelPipeline.
//! save_pretrained`), so that Python's `StaticModelPipeline.from_pretrained` and pick read it:
//! `model.safetensors` (`embeddings` F32, plus `weights` and `mapping` for a vocabulary-quantized
//! base), `head.safetensors` (`head.{i}.weight` `[out, in]` and `head.{i}.bias`),
//! `config.json` with `head_config`, the base's `tokenizer.json`, `modules.json` and a card.

use std::collections::HashMap;
use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde_json::json;

use crate::error::ModelError;
use crate::head::Activation;
use crate::model::StaticModel;
use crate::train::Params;

fn le_bytes<T: Copy, const N: usize>(values: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    std::fs::write(path, bytes).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn tensors(
    path: &Path,
    named: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
) -> Result<(), ModelError> {
    let views = named
        .iter()
        .map(|(name, dtype, shape, data)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| ModelError::bad(path, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = safetensors::serialize(views, None::<HashMap<String, String>>)
        .map_err(|e| ModelError::bad(path, e.to_string()))?;
    write(path, &bytes)
}

/// Write the pipeline into `dir` (which exists). Token weights are folded into the rows when
/// every token has its own row, as model2vec's `to_static_model` does.
pub fn save_pipeline(
    dir: &Path,
    base: &StaticModel,
    params: &Params,
    activation: Activation,
    classes: Option<&[String]>,
) -> Result<(), ModelError> {
    let d = params.dim;
    let rows = params.embeddings.len() / d;
    let mut model: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    match (&params.mapping, &params.token_weights) {
        (None, Some(w)) => {
            let folded: Vec<f32> = params
                .embeddings
                .chunks_exact(d)
                .zip(w)
                .flat_map(|(row, &w)| row.iter().map(move |v| v * w))
                .collect();
            model.push((
                "embeddings".into(),
                Dtype::F32,
                vec![rows, d],
                le_bytes(&folded, f32::to_le_bytes),
            ));
        }
        _ => model.push((
            "embeddings".into(),
            Dtype::F32,
            vec![rows, d],
            le_bytes(&params.embeddings, f32::to_le_bytes),
        )),
    }
    if let Some(mapping) = &params.mapping {
        let mapping: Vec<i64> = mapping.iter().map(|&r| r as i64).collect();
        model.push((
            "mapping".into(),
            Dtype::I64,
            vec![mapping.len()],
            le_bytes(&mapping, i64::to_le_bytes),
        ));
        if let Some(w) = &params.token_weights {
            model.push((
                "weights".into(),
                Dtype::F32,
                vec![w.len()],
                le_bytes(w, f32::to_le_bytes),
            ));
        }
    }
    tensors(&dir.join("model.safetensors"), model)?;

    let mut head = Vec::new();
    for (i, layer) in params.layers.iter().enumerate() {
        head.push((
            format!("head.{i}.weight"),
            Dtype::F32,
            vec![layer.outputs, layer.inputs],
            le_bytes(&layer.weight, f32::to_le_bytes),
        ));
        head.push((
            format!("head.{i}.bias"),
            Dtype::F32,
            vec![layer.outputs],
            le_bytes(&layer.bias, f32::to_le_bytes),
        ));
    }
    tensors(&dir.join("head.safetensors"), head)?;

    let tokenizer = std::fs::read(&base.tokenizer_path).map_err(|source| ModelError::Io {
        path: base.tokenizer_path.clone(),
        source,
    })?;
    write(&dir.join("tokenizer.json"), &tokenizer)?;

    let mut config = json!({
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "max_length": base.max_length(),
        "normalize": params.normalize,
        "embedding_dtype": "float32",
        "head_config": {
            "n_layers": params.layers.len(),
            "activation": match activation {
                Activation::Softmax => "softmax",
                Activation::Sigmoid => "sigmoid",
                Activation::Identity => "identity",
            },
            "classes": classes,
        },
    });
    if params.mapping.is_some() {
        config["vocabulary_quantization"] = json!(rows);
    }
    write(
        &dir.join("config.json"),
        serde_json::to_string_pretty(&config)
            .expect("a JSON value serializes")
            .as_bytes(),
    )?;
    let mut modules = vec![json!({"idx": 0, "name": "0", "path": ".",
        "type": "sentence_transformers.models.StaticEmbedding"})];
    if params.normalize {
        modules.push(json!({"idx": 1, "name": "1", "path": "1_Normalize",
            "type": "sentence_transformers.models.Normalize"}));
    }
    write(
        &dir.join("modules.json"),
        serde_json::to_string_pretty(&modules)
            .expect("a JSON value serializes")
            .as_bytes(),
    )?;
    let kind = match classes {
        Some(c) => format!("a classifier over {} classes ({})", c.len(), c.join(", ")),
        None => "a regressor".to_string(),
    };
    let card = format!(
        "---\nlibrary_name: model2vec\ntags:\n- embeddings\n- static-embeddings\n---\n\n\
         # Model2Vec pipeline\n\nFine-tuned by pick from `{}`: static embeddings ({rows} rows, \
         {d} dimensions) with {kind}.\n\n```python\nfrom model2vec.inference import \
         StaticModelPipeline\n\npipeline = StaticModelPipeline.from_pretrained(\"path/to/this/folder\")\n```\n",
        base.path.display()
    );
    write(&dir.join("README.md"), card.as_bytes())
}

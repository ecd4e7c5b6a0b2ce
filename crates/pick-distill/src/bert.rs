//! A BERT-family transformer from a local folder (`config.json`, then `model.safetensors` or
//! `pytorch_model.bin`), run by candle-transformers' BERT on the CPU in f32, plus the pooler
//! (`tanh(W h_CLS + b)`) that candle's model leaves out.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};

use crate::error::DistillError;

pub struct Bert {
    model: BertModel,
    pooler: Option<Linear>,
    device: Device,
    pub hidden: usize,
    /// Positions the model has embeddings for: the longest row it can take.
    pub max_positions: usize,
}

impl Bert {
    pub fn load(dir: &Path) -> Result<Bert, DistillError> {
        let config_path = dir.join("config.json");
        let config = config(&config_path)?;
        let device = Device::Cpu;
        let safetensors = dir.join("model.safetensors");
        let pth = dir.join("pytorch_model.bin");
        let (weights, vb) = if safetensors.is_file() {
            let bytes = std::fs::read(&safetensors).map_err(|source| DistillError::Io {
                path: safetensors.clone(),
                source,
            })?;
            let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device);
            (safetensors, vb)
        } else if pth.is_file() {
            let vb = VarBuilder::from_pth(&pth, DType::F32, &device);
            (pth, vb)
        } else {
            return Err(DistillError::Unsupported {
                path: dir.to_path_buf(),
                message: "no model.safetensors or pytorch_model.bin: pick reads a transformer's \
                          weights from one of these"
                    .into(),
            });
        };
        let bad = |e: candle_core::Error| DistillError::bad(&weights, e.to_string());
        let vb = vb.map_err(bad)?;
        let model = BertModel::load(vb.clone(), &config).map_err(bad)?;
        let pooler = ["pooler.dense", "bert.pooler.dense"]
            .into_iter()
            .find(|p| vb.contains_tensor(&format!("{p}.weight")))
            .map(|p| candle_nn::linear(config.hidden_size, config.hidden_size, vb.pp(p)))
            .transpose()
            .map_err(bad)?;
        Ok(Bert {
            model,
            pooler,
            device,
            hidden: config.hidden_size,
            max_positions: config.max_position_embeddings,
        })
    }

    /// The last hidden states `[rows, width, hidden]` of `rows` ids each `width` long; `mask`
    /// (same shape) is 1 where a position is attended.
    pub fn forward(
        &self,
        ids: &[u32],
        mask: &[u32],
        rows: usize,
        width: usize,
    ) -> Result<Tensor, DistillError> {
        let ids = Tensor::from_slice(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_slice(mask, (rows, width), &self.device)?;
        let types = ids.zeros_like()?;
        Ok(self.model.forward(&ids, &types, Some(&mask))?)
    }

    /// The pooler's output `[rows, hidden]` for hidden states `[rows, width, hidden]`, if the
    /// checkpoint has a pooler.
    pub fn pool(&self, states: &Tensor) -> Result<Option<Tensor>, DistillError> {
        let Some(pooler) = &self.pooler else {
            return Ok(None);
        };
        let first = states.narrow(1, 0, 1)?.squeeze(1)?;
        Ok(Some(pooler.forward(&first)?.tanh()?))
    }
}

/// The model's `config.json` as candle's BERT reads it, once it is known to be a BERT.
fn config(path: &Path) -> Result<Config, DistillError> {
    let text = std::fs::read_to_string(path).map_err(|source| DistillError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| DistillError::bad(path, e.to_string()))?;
    let unsupported = |message: String| DistillError::Unsupported {
        path: path.to_path_buf(),
        message,
    };
    match json.get("model_type").and_then(|t| t.as_str()) {
        Some("bert") => {}
        Some(other) => {
            return Err(unsupported(format!(
                "model_type `{other}` is not supported: pick distils BERT models (model_type \
                 `bert`, e.g. all-MiniLM-L6-v2, bge-small-en)"
            )));
        }
        None => {
            return Err(unsupported(
                "no model_type: not a transformers config".into(),
            ));
        }
    }
    if let Some(kind) = json.get("position_embedding_type").and_then(|t| t.as_str())
        && kind != "absolute"
    {
        return Err(unsupported(format!(
            "position_embedding_type `{kind}` is not supported (only `absolute`)"
        )));
    }
    // transformers' names for the activation, as candle's BERT names them: "gelu" is the exact
    // (erf) GELU in both; the tanh forms are candle's approximate one.
    let act = match json.get("hidden_act").and_then(|a| a.as_str()) {
        Some("gelu") => "gelu",
        Some("gelu_new" | "gelu_pytorch_tanh" | "gelu_fast") => "geluapproximate",
        Some("relu") => "relu",
        other => {
            return Err(unsupported(format!(
                "hidden_act {} is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)",
                other.map_or("(none)".to_string(), |a| format!("`{a}`"))
            )));
        }
    };
    json["hidden_act"] = serde_json::Value::from(act);
    serde_json::from_value(json).map_err(|e| DistillError::bad(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tiny() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert")
    }

    fn floats(v: &serde_json::Value) -> Vec<f32> {
        match v {
            serde_json::Value::Array(items) => items.iter().flat_map(floats).collect(),
            n => vec![n.as_f64().expect("a number") as f32],
        }
    }

    fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    }

    fn rows(v: &serde_json::Value) -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as u32)
            })
            .collect()
    }

    /// The forward pass matches PyTorch's (transformers' BertModel, made by
    /// `scripts/distill/torch_reference.py`) within 1e-4, the pooler included.
    #[test]
    fn forward_matches_pytorch() {
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tiny().join("forward.json")).unwrap())
                .unwrap();
        let bert = Bert::load(&tiny()).unwrap();
        let ids = rows(&reference["input_ids"]);
        let mask = rows(&reference["attention_mask"]);
        let n = reference["input_ids"].as_array().unwrap().len();
        let width = ids.len() / n;
        let states = bert.forward(&ids, &mask, n, width).unwrap();
        let got: Vec<f32> = states.flatten_all().unwrap().to_vec1().unwrap();
        let worst = largest_difference(&got, &floats(&reference["last_hidden_state"]));
        assert!(worst < 1e-4, "largest difference {worst}");
        let pooled: Vec<f32> = bert
            .pool(&states)
            .unwrap()
            .expect("the tiny model has a pooler")
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let worst = largest_difference(&pooled, &floats(&reference["pooler_output"]));
        assert!(worst < 1e-4, "pooler: largest difference {worst}");
    }

    #[test]
    fn other_architectures_are_named_in_the_error() {
        let tmp = std::env::temp_dir().join(format!("pick-distill-arch-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(
            tmp.join("config.json"),
            r#"{"model_type": "gpt2", "hidden_act": "gelu"}"#,
        )
        .unwrap();
        let err = Bert::load(&tmp).err().unwrap().to_string();
        assert!(err.contains("model_type `gpt2` is not supported"), "{err}");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

//! A model2vec 0.10 pipeline's head (`head.safetensors`, `config.json` `head_config`): linear
//! layers `x·Wᵀ + b` with ReLU between them, then softmax (a classifier), sigmoid (multi-label)
//! or nothing (a regressor), over the encoded text.

use std::path::Path;

use safetensors::SafeTensors;
use serde_json::Value;

use crate::error::ModelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Softmax,
    Sigmoid,
    Identity,
}

struct Layer {
    /// Row-major `out × in`, as torch stores it.
    weight: Vec<f64>,
    bias: Vec<f64>,
    inputs: usize,
    outputs: usize,
}

pub struct Head {
    layers: Vec<Layer>,
    pub activation: Activation,
    /// The class of each output (`None` for a regressor).
    pub classes: Option<Vec<String>>,
}

impl Head {
    /// The head in `dir`, if the folder is a pipeline (`head.safetensors` beside the config).
    pub fn load(dir: &Path, config: &Value, dim: usize) -> Result<Option<Head>, ModelError> {
        let path = dir.join("head.safetensors");
        if !path.is_file() {
            return Ok(None);
        }
        let config_path = dir.join("config.json");
        let hc = &config["head_config"];
        let activation = match hc["activation"].as_str().unwrap_or("identity") {
            "softmax" => Activation::Softmax,
            "sigmoid" => Activation::Sigmoid,
            "identity" => Activation::Identity,
            other => {
                return Err(ModelError::bad(
                    &config_path,
                    format!("head_config.activation is {other:?}: softmax, sigmoid or identity"),
                ));
            }
        };
        let classes = match &hc["classes"] {
            Value::Null => None,
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|c| match c {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>(),
            ),
            other => {
                return Err(ModelError::bad(
                    &config_path,
                    format!("head_config.classes is {other}, not a list"),
                ));
            }
        };
        let n_layers = hc["n_layers"].as_u64().unwrap_or(0) as usize;
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::bad(&path, format!("not a safetensors file: {e}")))?;
        let mut layers: Vec<Layer> = Vec::with_capacity(n_layers);
        let mut inputs = dim;
        for i in 0..n_layers {
            let tensor = |name: String| {
                let view = file
                    .tensor(&name)
                    .map_err(|_| ModelError::bad(&path, format!("no tensor {name:?}")))?;
                let shape = view.shape().to_vec();
                let values = crate::model::values(&path, &name, view.dtype(), view.data())?;
                Ok::<_, ModelError>((shape, values))
            };
            let (wshape, weight) = tensor(format!("head.{i}.weight"))?;
            let (bshape, bias) = tensor(format!("head.{i}.bias"))?;
            let [outputs, ins] = wshape[..] else {
                return Err(ModelError::bad(
                    &path,
                    format!("head.{i}.weight has shape {wshape:?}, not [out, in]"),
                ));
            };
            if ins != inputs || bshape != [outputs] {
                return Err(ModelError::bad(
                    &path,
                    format!(
                        "layer {i} takes {ins} inputs with a bias of shape {bshape:?}; it should \
                         take {inputs} and have a bias of [{outputs}]"
                    ),
                ));
            }
            layers.push(Layer {
                weight,
                bias,
                inputs: ins,
                outputs,
            });
            inputs = outputs;
        }
        if let Some(c) = &classes
            && c.len() != inputs
        {
            return Err(ModelError::bad(
                &config_path,
                format!("{} classes for a head with {inputs} outputs", c.len()),
            ));
        }
        Ok(Some(Head {
            layers,
            activation,
            classes,
        }))
    }

    /// The head's outputs for an embedding: probabilities, or values for a regressor.
    pub fn forward(&self, x: &[f32]) -> Vec<f64> {
        let mut out: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        for (i, layer) in self.layers.iter().enumerate() {
            let mut next = layer.bias.clone();
            for (o, n) in next.iter_mut().enumerate() {
                let row = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
                *n += row.iter().zip(&out).map(|(w, v)| w * v).sum::<f64>();
            }
            if i + 1 < self.layers.len() {
                for v in &mut next {
                    *v = v.max(0.0);
                }
            }
            debug_assert_eq!(next.len(), layer.outputs);
            out = next;
        }
        match self.activation {
            Activation::Identity => out,
            Activation::Sigmoid => out.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect(),
            Activation::Softmax => {
                let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let exps: Vec<f64> = out.iter().map(|&l| (l - max).exp()).collect();
                let sum: f64 = exps.iter().sum();
                exps.iter().map(|e| e / sum).collect()
            }
        }
    }
}

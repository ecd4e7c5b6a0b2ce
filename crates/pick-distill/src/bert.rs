//! A BERT-family transformer from a local folder (`config.json`, then `model.safetensors` or
//! `pytorch_model.bin`) and its forward pass on the CPU in f32, as transformers' `BertModel`
//! computes it in eval mode (pooler included).
//!
//! The forward is pick's own over `gemm` (the crate candle's CPU backend runs on) rather than
//! candle-transformers' BERT: the same products, with the bias added by the product itself, the
//! attention of short rows computed in place, LayerNorm, GELU and the residuals fused per row,
//! every step on every core. On all-MiniLM-L6-v2's 29,525 vocabulary rows (2 cores, release)
//! the distillation took 40.5 s with candle-transformers 0.11.1's BERT and takes 25.9 s with
//! this one (Python model2vec with torch: 40.1 s); it also drops candle-nn and
//! candle-transformers from the build. The tests hold it to PyTorch's own forward
//! within 1e-4 (`tests/fixtures/tiny-bert/forward.json`). candle-core still reads the weights
//! (safetensors of any float type, and PyTorch's pickles).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device};
use rayon::prelude::*;
use serde::Deserialize;

use crate::error::DistillError;
use crate::linalg::gemm_add;

/// `hidden_act`, as transformers names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    /// `gelu`: the exact GELU, `x Φ(x)` through erf.
    Gelu,
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: the tanh approximation.
    GeluTanh,
    Relu,
}

impl Act {
    fn apply(self, x: f32) -> f32 {
        match self {
            Act::Gelu => 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)),
            Act::GeluTanh => 0.5 * x * (1.0 + (0.797_884_6 * (x + 0.044_715 * x * x * x)).tanh()),
            Act::Relu => x.max(0.0),
        }
    }
}

/// erf by Abramowitz and Stegun's 7.1.26 (absolute error below 1.5e-7 in exact arithmetic,
/// 5e-7 in f32), the formula PyTorch's
/// vectorized CPU GELU uses; libm's `erff` took a fifth of the distillation's time.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * (-a * a).exp()).copysign(x)
}

#[derive(Debug, Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "two")]
    type_vocab_size: usize,
    #[serde(default = "eps")]
    layer_norm_eps: f64,
    #[serde(skip, default = "gelu")]
    act: Option<Act>,
}

fn two() -> usize {
    2
}

fn eps() -> f64 {
    1e-12
}

fn gelu() -> Option<Act> {
    None
}

/// `x · Wᵀ + b`, `W` as PyTorch stores it (`outputs × inputs`, row-major).
struct Dense {
    w: Vec<f32>,
    b: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Dense {
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut y = Vec::with_capacity(rows * self.outputs);
        for _ in 0..rows {
            y.extend_from_slice(&self.b);
        }
        gemm_add(
            &mut y,
            (rows, self.outputs, self.inputs),
            x,
            &self.w,
            (1, self.inputs),
        );
        y
    }
}

struct Norm {
    g: Vec<f32>,
    b: Vec<f32>,
    eps: f32,
}

impl Norm {
    /// `x ← LayerNorm(x + residual)` row by row (two-pass mean and variance, as PyTorch).
    fn add_apply(&self, x: &mut [f32], residual: Option<&[f32]>) {
        let h = self.g.len();
        let run = |(row, res): (&mut [f32], Option<&[f32]>)| {
            if let Some(res) = res {
                row.iter_mut().zip(res).for_each(|(v, r)| *v += r);
            }
            let mean = row.iter().sum::<f32>() / h as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.g).zip(&self.b) {
                *v = (*v - mean) * inv * g + b;
            }
        };
        match residual {
            Some(r) => x
                .par_chunks_mut(h)
                .zip(r.par_chunks(h))
                .for_each(|(row, res)| run((row, Some(res)))),
            None => x.par_chunks_mut(h).for_each(|row| run((row, None))),
        }
    }
}

struct Layer {
    /// Query, key and value in one product (`hidden → 3 · hidden`).
    qkv: Dense,
    attention_out: Dense,
    norm1: Norm,
    intermediate: Dense,
    output: Dense,
    norm2: Norm,
}

pub struct Bert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    pooler: Option<Dense>,
    heads: usize,
    act: Act,
    vocab: usize,
    pub hidden: usize,
    /// Positions the model has embeddings for: the longest row it can take.
    pub max_positions: usize,
}

/// A checkpoint's tensors as f32, by name (a `bert.` prefix taken off).
struct Weights {
    path: std::path::PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    fn read(dir: &Path) -> Result<Weights, DistillError> {
        let safetensors = dir.join("model.safetensors");
        let pth = dir.join("pytorch_model.bin");
        let (path, raw) = if safetensors.is_file() {
            let loaded = candle_core::safetensors::load(&safetensors, &Device::Cpu)
                .map_err(|e| DistillError::bad(&safetensors, e.to_string()))?;
            (safetensors, loaded.into_iter().collect::<Vec<_>>())
        } else if pth.is_file() {
            let loaded = candle_core::pickle::read_all(&pth)
                .map_err(|e| DistillError::bad(&pth, e.to_string()))?;
            (pth, loaded)
        } else {
            return Err(DistillError::Unsupported {
                path: dir.to_path_buf(),
                message: "no model.safetensors or pytorch_model.bin: pick reads a transformer's \
                          weights from one of these"
                    .into(),
            });
        };
        let mut tensors = HashMap::new();
        for (name, t) in raw {
            if !t.dtype().is_float() {
                continue; // position_ids and the like
            }
            let values = t
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| DistillError::bad(&path, format!("{name}: {e}")))?;
            let name = name.strip_prefix("bert.").unwrap_or(&name).to_string();
            tensors.insert(name, (t.dims().to_vec(), values));
        }
        Ok(Weights { path, tensors })
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, DistillError> {
        let (dims, values) = self.tensors.remove(name).ok_or_else(|| {
            DistillError::bad(&self.path, format!("no tensor `{name}` (a BERT's weights)"))
        })?;
        if dims != shape {
            return Err(DistillError::bad(
                &self.path,
                format!("`{name}` is {dims:?}, the config says {shape:?}"),
            ));
        }
        Ok(values)
    }

    fn dense(
        &mut self,
        prefix: &str,
        inputs: usize,
        outputs: usize,
    ) -> Result<Dense, DistillError> {
        let w = self.take(&format!("{prefix}.weight"), &[outputs, inputs])?;
        let b = self.take(&format!("{prefix}.bias"), &[outputs])?;
        Ok(Dense {
            w,
            b,
            inputs,
            outputs,
        })
    }

    fn norm(&mut self, prefix: &str, h: usize, eps: f32) -> Result<Norm, DistillError> {
        // Old TensorFlow-converted checkpoints call them gamma and beta.
        let g = self
            .take(&format!("{prefix}.weight"), &[h])
            .or_else(|_| self.take(&format!("{prefix}.gamma"), &[h]))?;
        let b = self
            .take(&format!("{prefix}.bias"), &[h])
            .or_else(|_| self.take(&format!("{prefix}.beta"), &[h]))?;
        Ok(Norm { g, b, eps })
    }
}

impl Bert {
    pub fn load(dir: &Path) -> Result<Bert, DistillError> {
        let c = config(&dir.join("config.json"))?;
        let h = c.hidden_size;
        if c.num_attention_heads == 0 || h % c.num_attention_heads != 0 {
            return Err(DistillError::bad(
                dir.join("config.json"),
                format!(
                    "hidden_size {h} is not a multiple of num_attention_heads {}",
                    c.num_attention_heads
                ),
            ));
        }
        let eps = c.layer_norm_eps as f32;
        let mut w = Weights::read(dir)?;
        let word = w.take("embeddings.word_embeddings.weight", &[c.vocab_size, h])?;
        let position = w.take(
            "embeddings.position_embeddings.weight",
            &[c.max_position_embeddings, h],
        )?;
        let types = w.take(
            "embeddings.token_type_embeddings.weight",
            &[c.type_vocab_size, h],
        )?;
        let embedding_norm = w.norm("embeddings.LayerNorm", h, eps)?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for l in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = w.dense(&format!("{p}.attention.self.query"), h, h)?;
            let k = w.dense(&format!("{p}.attention.self.key"), h, h)?;
            let v = w.dense(&format!("{p}.attention.self.value"), h, h)?;
            // One `h → 3h` product: each row's q, k and v side by side.
            let qkv = Dense {
                w: [q.w, k.w, v.w].concat(),
                b: [q.b, k.b, v.b].concat(),
                inputs: h,
                outputs: 3 * h,
            };
            layers.push(Layer {
                qkv,
                attention_out: w.dense(&format!("{p}.attention.output.dense"), h, h)?,
                norm1: w.norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
                intermediate: w.dense(
                    &format!("{p}.intermediate.dense"),
                    h,
                    c.intermediate_size,
                )?,
                output: w.dense(&format!("{p}.output.dense"), c.intermediate_size, h)?,
                norm2: w.norm(&format!("{p}.output.LayerNorm"), h, eps)?,
            });
        }
        let pooler = if w.tensors.contains_key("pooler.dense.weight") {
            Some(w.dense("pooler.dense", h, h)?)
        } else {
            None
        };
        Ok(Bert {
            word,
            position,
            token_type0: types[..h].to_vec(),
            embedding_norm,
            layers,
            pooler,
            heads: c.num_attention_heads,
            act: c.act.expect("config() sets the activation"),
            vocab: c.vocab_size,
            hidden: h,
            max_positions: c.max_position_embeddings,
        })
    }

    /// The last hidden states (`rows × width × hidden`, row-major) of `rows` id lists each
    /// `width` long; `mask` (same shape) is 1 where a position is attended.
    pub fn forward(
        &self,
        ids: &[u32],
        mask: &[u32],
        rows: usize,
        width: usize,
    ) -> Result<Vec<f32>, DistillError> {
        let h = self.hidden;
        if width > self.max_positions {
            return Err(DistillError::Usage(format!(
                "a row of {width} tokens; the model takes at most {}",
                self.max_positions
            )));
        }
        if let Some(bad) = ids.iter().find(|&&i| i as usize >= self.vocab) {
            return Err(DistillError::Usage(format!(
                "token id {bad} is outside the model's {} embeddings",
                self.vocab
            )));
        }
        let n = rows * width;
        let mut x = vec![0f32; n * h];
        x.par_chunks_mut(h).enumerate().for_each(|(i, row)| {
            let (id, pos) = (ids[i] as usize, i % width);
            let word = &self.word[id * h..(id + 1) * h];
            let position = &self.position[pos * h..(pos + 1) * h];
            for j in 0..h {
                row[j] = word[j] + position[j] + self.token_type0[j];
            }
        });
        self.embedding_norm.add_apply(&mut x, None);
        // transformers adds the dtype's lowest value to the scores of masked positions.
        let bias: Vec<f32> = mask
            .iter()
            .map(|&m| if m == 0 { f32::MIN } else { 0.0 })
            .collect();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x, n);
            let context = self.attend(&qkv, &bias, rows, width);
            let mut attended = layer.attention_out.forward(&context, n);
            layer.norm1.add_apply(&mut attended, Some(&x));
            let mut inner = layer.intermediate.forward(&attended, n);
            let act = self.act;
            inner
                .par_chunks_mut(4096)
                .for_each(|c| c.iter_mut().for_each(|v| *v = act.apply(*v)));
            x = layer.output.forward(&inner, n);
            layer.norm2.add_apply(&mut x, Some(&attended));
        }
        Ok(x)
    }

    /// Scaled dot-product attention of every head, one sequence per task.
    fn attend(&self, qkv: &[f32], bias: &[f32], rows: usize, width: usize) -> Vec<f32> {
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        let mut context = vec![0f32; rows * width * h];
        context
            .par_chunks_mut(width * h)
            .enumerate()
            .for_each(|(b, out)| {
                let seq = &qkv[b * width * 3 * h..(b + 1) * width * 3 * h];
                let bias = &bias[b * width..(b + 1) * width];
                let mut scores = vec![0f32; width];
                for head in 0..self.heads {
                    let off = head * d;
                    for i in 0..width {
                        let q = &seq[i * 3 * h + off..i * 3 * h + off + d];
                        let mut top = f32::NEG_INFINITY;
                        for j in 0..width {
                            let k = &seq[j * 3 * h + h + off..j * 3 * h + h + off + d];
                            let dot: f32 = q.iter().zip(k).map(|(a, b)| a * b).sum();
                            scores[j] = dot * scale + bias[j];
                            top = top.max(scores[j]);
                        }
                        let mut total = 0f32;
                        for s in scores.iter_mut() {
                            *s = (*s - top).exp();
                            total += *s;
                        }
                        let ctx = &mut out[i * h + off..i * h + off + d];
                        for (j, s) in scores.iter().enumerate() {
                            let p = s / total;
                            let v = &seq[j * 3 * h + 2 * h + off..j * 3 * h + 2 * h + off + d];
                            ctx.iter_mut().zip(v).for_each(|(c, v)| *c += p * v);
                        }
                    }
                }
            });
        context
    }

    /// The pooler's output (`rows × hidden`: `tanh(W h_CLS + b)`) for hidden states
    /// `rows × width × hidden`, if the checkpoint has a pooler.
    pub fn pool(&self, states: &[f32], rows: usize, width: usize) -> Option<Vec<f32>> {
        let pooler = self.pooler.as_ref()?;
        let h = self.hidden;
        let first: Vec<f32> = (0..rows)
            .flat_map(|r| states[r * width * h..r * width * h + h].iter().copied())
            .collect();
        let mut out = pooler.forward(&first, rows);
        out.iter_mut().for_each(|v| *v = v.tanh());
        Some(out)
    }
}

/// The model's `config.json`, once it is known to be a BERT pick can run.
fn config(path: &Path) -> Result<Config, DistillError> {
    let text = std::fs::read_to_string(path).map_err(|source| DistillError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let json: serde_json::Value =
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
    let act = match json.get("hidden_act").and_then(|a| a.as_str()) {
        Some("gelu") => Act::Gelu,
        Some("gelu_new" | "gelu_pytorch_tanh" | "gelu_fast") => Act::GeluTanh,
        Some("relu") => Act::Relu,
        other => {
            return Err(unsupported(format!(
                "hidden_act {} is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)",
                other.map_or("(none)".to_string(), |a| format!("`{a}`"))
            )));
        }
    };
    let mut config: Config =
        serde_json::from_value(json).map_err(|e| DistillError::bad(path, e.to_string()))?;
    config.act = Some(act);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_its_bound() {
        for i in -400..=400 {
            let x = i as f32 / 100.0;
            let d = (erf(x) as f64 - libm::erf(x as f64)).abs();
            assert!(d < 5e-7, "erf({x}): {d}");
        }
    }
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
        let worst = largest_difference(&states, &floats(&reference["last_hidden_state"]));
        assert!(worst < 1e-4, "largest difference {worst}");
        let pooled = bert
            .pool(&states, n, width)
            .expect("the tiny model has a pooler");
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

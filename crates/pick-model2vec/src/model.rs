//! A static model and `encode`, step for step as model2vec 0.10 (`StaticModel.encode`): the text
//! cut to `max_length × median token length` characters, tokenized without special tokens, cut
//! to `max_length` ids, unknown ids dropped (after the cut, so they use up the budget), the mean
//! of `embeddings[mapping[id]] · weights[id]`, L2-normalized (norm + 1e-32) when the config says
//! `normalize`. A text with no ids left is the zero vector. Rows are summed in f32 blocks of 16
//! tokens and the blocks in f64, within about 1e-7 of the exact mean (numpy's float32 pairwise
//! sums land as close).

use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use tokenizers::Tokenizer;

use crate::error::ModelError;
use crate::head::Head;
use crate::wordpiece::FastWordPiece;

/// model2vec's default when the config has no `max_length`.
const DEFAULT_MAX_LENGTH: usize = 512;

pub struct StaticModel {
    pub path: PathBuf,
    tokenizer: Tokenizer,
    /// The same ids without the crate's offsets, for BERT WordPiece tokenizers (`wordpiece.rs`).
    fast: Option<FastWordPiece>,
    /// The `tokenizer.json` the model was read from (a trained pipeline carries it on).
    pub(crate) tokenizer_path: PathBuf,
    /// Row-major `rows × dim`, as f32 (F16 widened; I8 as its raw values, as model2vec does).
    pub(crate) embeddings: Vec<f32>,
    dim: usize,
    pub(crate) weights: Option<Vec<f64>>,
    pub(crate) mapping: Option<Vec<usize>>,
    unk: Option<u32>,
    normalize: bool,
    /// `None`: no cut at all (`"max_length": null`).
    max_length: Option<usize>,
    median_token_length: usize,
    /// A pipeline's head (`head.safetensors`): a classifier or a regressor.
    pub head: Option<Head>,
}

/// The folder layouts model2vec 0.10 reads, in its order: config, tensors, tokenizer, and the
/// embedding tensor's name.
const LAYOUTS: &[(&str, &str, &str, &str)] = &[
    (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "embeddings",
    ),
    (
        "config_sentence_transformers.json",
        "model.safetensors",
        "tokenizer.json",
        "embedding.weight",
    ),
    (
        "config_sentence_transformers.json",
        "0_StaticEmbedding/model.safetensors",
        "0_StaticEmbedding/tokenizer.json",
        "embedding.weight",
    ),
];

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A tensor's values as f64, from the float and integer types model files use.
pub(crate) fn values(
    path: &Path,
    name: &str,
    dtype: Dtype,
    data: &[u8],
) -> Result<Vec<f64>, ModelError> {
    let chunks = |n: usize| data.chunks_exact(n);
    Ok(match dtype {
        Dtype::F32 => chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
            .collect(),
        Dtype::F64 => chunks(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect(),
        Dtype::F16 => chunks(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        Dtype::BF16 => chunks(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        Dtype::I8 => data.iter().map(|&b| b as i8 as f64).collect(),
        Dtype::I32 => chunks(4)
            .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
            .collect(),
        Dtype::I64 => chunks(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64)
            .collect(),
        other => {
            return Err(ModelError::bad(
                path,
                format!(
                    "tensor {name:?} has dtype {other:?}; pick reads F32, F16, BF16, F64, I8, I32 and I64"
                ),
            ));
        }
    })
}

impl StaticModel {
    pub fn load(dir: &Path) -> Result<StaticModel, ModelError> {
        let Some(&(config_name, tensors_name, tokenizer_name, embedding_name)) =
            LAYOUTS.iter().find(|(c, t, k, _)| {
                dir.join(c).is_file() && dir.join(t).is_file() && dir.join(k).is_file()
            })
        else {
            return Err(ModelError::NotAModel(dir.to_path_buf()));
        };
        let config_path = dir.join(config_name);
        let config: Value = serde_json::from_slice(&read(&config_path)?)
            .map_err(|e| ModelError::bad(&config_path, format!("line {}: {e}", e.line())))?;
        let normalize = config["normalize"].as_bool().unwrap_or(false);
        let max_length = match config.get("max_length") {
            None => Some(DEFAULT_MAX_LENGTH),
            Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|&n| n > 0).ok_or_else(|| {
                ModelError::bad(&config_path, format!("max_length is {v}, not a count"))
            })? as usize),
        };

        let tokenizer_path = dir.join(tokenizer_name);
        let tokenizer_text = read(&tokenizer_path)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_text)
            .map_err(|e| ModelError::bad(&tokenizer_path, format!("not a tokenizer: {e}")))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| ModelError::bad(&tokenizer_path, e.to_string()))?;
        tokenizer.with_padding(None);
        let tokenizer_json: Value = serde_json::from_slice(&tokenizer_text).unwrap_or(Value::Null);
        let unk = unk_id(&tokenizer, &tokenizer_json);
        let fast = FastWordPiece::from_json(&tokenizer_json);
        let mut lengths: Vec<usize> = tokenizer
            .get_vocab(true)
            .keys()
            .map(|t| t.chars().count())
            .collect();
        if lengths.is_empty() {
            return Err(ModelError::bad(&tokenizer_path, "the vocabulary is empty"));
        }
        lengths.sort_unstable();
        let n = lengths.len();
        // numpy's median (the mean of the middle two for an even count), then int().
        let median_token_length = if n % 2 == 1 {
            lengths[n / 2]
        } else {
            (lengths[n / 2 - 1] + lengths[n / 2]) / 2
        };
        let vocab = tokenizer.get_vocab_size(true);

        let tensors_path = dir.join(tensors_name);
        let bytes = read(&tensors_path)?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::bad(&tensors_path, format!("not a safetensors file: {e}")))?;
        let view = file.tensor(embedding_name).map_err(|_| {
            ModelError::bad(
                &tensors_path,
                format!(
                    "no tensor {embedding_name:?} (tensors: {})",
                    file.names().join(", ")
                ),
            )
        })?;
        let [rows, dim] = view.shape() else {
            return Err(ModelError::bad(
                &tensors_path,
                format!(
                    "{embedding_name:?} has shape {:?}, not [rows, dim]",
                    view.shape()
                ),
            ));
        };
        let (rows, dim) = (*rows, *dim);
        if rows == 0 || dim == 0 {
            return Err(ModelError::bad(
                &tensors_path,
                format!("{embedding_name:?} is empty"),
            ));
        }
        let embeddings: Vec<f32> =
            values(&tensors_path, embedding_name, view.dtype(), view.data())?
                .into_iter()
                .map(|v| v as f32)
                .collect();

        let vector = |name: &str| -> Result<Option<Vec<f64>>, ModelError> {
            let Ok(view) = file.tensor(name) else {
                return Ok(None);
            };
            if view.shape() != [vocab] {
                return Err(ModelError::bad(
                    &tensors_path,
                    format!(
                        "{name:?} has shape {:?}; the tokenizer has {vocab} tokens",
                        view.shape()
                    ),
                ));
            }
            values(&tensors_path, name, view.dtype(), view.data()).map(Some)
        };
        let weights = vector("weights")?;
        let mapping = match vector("mapping")? {
            None => {
                if rows < vocab {
                    return Err(ModelError::bad(
                        &tensors_path,
                        format!(
                            "{embedding_name:?} has {rows} rows for {vocab} tokens (and no mapping)"
                        ),
                    ));
                }
                None
            }
            Some(m) => Some(
                m.into_iter()
                    .map(|r| {
                        (r >= 0.0 && (r as usize) < rows)
                            .then_some(r as usize)
                            .ok_or_else(|| {
                                ModelError::bad(
                                    &tensors_path,
                                    format!("mapping points at row {r}; there are {rows}"),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let head = Head::load(dir, &config, dim)?;
        Ok(StaticModel {
            head,
            path: dir.to_path_buf(),
            tokenizer,
            fast,
            tokenizer_path,
            embeddings,
            dim,
            weights,
            mapping,
            unk,
            normalize,
            max_length,
            median_token_length,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn median_token_length(&self) -> usize {
        self.median_token_length
    }

    pub fn normalize(&self) -> bool {
        self.normalize
    }

    pub fn max_length(&self) -> Option<usize> {
        self.max_length
    }

    /// Tokens in the tokenizer's vocabulary (added tokens included).
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The ids `encode` averages: the cut text's tokens, cut to `max_length`, unknowns dropped.
    pub fn ids(&self, text: &str) -> Result<Vec<u32>, String> {
        let text = match self.max_length {
            Some(max) => match text.char_indices().nth(max * self.median_token_length) {
                Some((at, _)) => &text[..at],
                None => text,
            },
            None => text,
        };
        let all = match &self.fast {
            Some(fast) => {
                let mut ids = Vec::new();
                fast.encode(text, &mut ids);
                ids
            }
            None => self.crate_ids(text)?,
        };
        let ids = &all[..self.max_length.map_or(all.len(), |m| m.min(all.len()))];
        Ok(ids
            .iter()
            .copied()
            .filter(|&id| Some(id) != self.unk)
            .collect())
    }

    /// The `tokenizers` crate's ids for a text (no cut): the reference the fast path is held to,
    /// and what tokenizers other than BERT WordPiece use.
    #[doc(hidden)]
    pub fn crate_ids(&self, text: &str) -> Result<Vec<u32>, String> {
        self.tokenizer
            .encode_fast(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| e.to_string())
    }

    /// The fast path's ids for a text (no cut), when the tokenizer has one.
    #[doc(hidden)]
    pub fn fast_ids(&self, text: &str) -> Option<Vec<u32>> {
        self.fast.as_ref().map(|f| {
            let mut ids = Vec::new();
            f.encode(text, &mut ids);
            ids
        })
    }

    /// The head's outputs for the text: class probabilities (in `head.classes` order), or a
    /// regressor's values. `None` for a model without a head.
    pub fn predict(&self, text: &str) -> Result<Option<Vec<f64>>, String> {
        let Some(head) = &self.head else {
            return Ok(None);
        };
        Ok(Some(head.forward(&self.encode(text)?)))
    }

    /// The text's embedding (`dim` values).
    pub fn encode(&self, text: &str) -> Result<Vec<f32>, String> {
        let ids = self.ids(text)?;
        let dim = self.dim;
        let mut sum = vec![0f64; dim];
        // Rows are added in f32 in blocks of 16 tokens (vectorized, 8 lanes), and the blocks in
        // f64: the result stays within 1e-7 of the exact mean, where model2vec's own float32
        // sums land.
        let mut block = vec![0f32; dim];
        for chunk in ids.chunks(16) {
            block.iter_mut().for_each(|b| *b = 0.0);
            for &id in chunk {
                let id = id as usize;
                let row = match &self.mapping {
                    Some(m) => m.get(id).copied().unwrap_or(id),
                    None => id,
                };
                let Some(values) = self.embeddings.get(row * dim..(row + 1) * dim) else {
                    return Err(format!("token {id} has no row in the embeddings"));
                };
                match &self.weights {
                    Some(w) => {
                        let w = w.get(id).copied().unwrap_or(1.0) as f32;
                        block.iter_mut().zip(values).for_each(|(b, &v)| *b += v * w);
                    }
                    None => block.iter_mut().zip(values).for_each(|(b, &v)| *b += v),
                }
            }
            sum.iter_mut()
                .zip(&block)
                .for_each(|(s, &b)| *s += b as f64);
        }
        if !ids.is_empty() {
            let n = ids.len() as f64;
            for s in &mut sum {
                *s /= n;
            }
        }
        if self.normalize {
            // model2vec normalizes the float32 mean.
            let norm = sum
                .iter()
                .map(|&s| (s as f32 as f64).powi(2))
                .sum::<f64>()
                .sqrt()
                + 1e-32;
            return Ok(sum
                .iter()
                .map(|&s| ((s as f32 as f64) / norm) as f32)
                .collect());
        }
        Ok(sum.iter().map(|&s| s as f32).collect())
    }
}

/// The unknown token's id, as model2vec finds it: the model's `unk_token` (WordPiece, BPE,
/// WordLevel) or `unk_id` (Unigram) in tokenizer.json.
fn unk_id(tokenizer: &Tokenizer, json: &Value) -> Option<u32> {
    let model = &json["model"];
    if let Some(token) = model["unk_token"].as_str() {
        return tokenizer.token_to_id(token);
    }
    model["unk_id"].as_u64().map(|id| id as u32)
}

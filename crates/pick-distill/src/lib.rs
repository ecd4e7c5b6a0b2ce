//! Distilling a Model2Vec static model from a BERT-family sentence transformer in a local
//! folder, as model2vec 0.10's `distill` does: every vocabulary token (and the words of a
//! vocabulary file, `words`) embedded by the transformer (`bert`, `embed`), then PCA, SIF
//! weights, optional k-means clusters (`kmeans`) and the cast to the saved type (`reduce`),
//! written in model2vec's folder format (`save`).

pub mod bert;
pub mod embed;
mod error;
pub mod kmeans;
mod linalg;
pub mod reduce;
mod save;
pub mod vocab;
mod words;

use std::path::Path;

use serde_json::json;

pub use embed::Pooling;
pub use error::DistillError;
pub use reduce::{PcaDims, Quantize};

pub struct Params<'a> {
    pub model: &'a Path,
    /// The model as the user named it (`config.json`'s `tokenizer_name`).
    pub model_name: &'a str,
    pub output: &'a Path,
    pub pca_dims: PcaDims,
    pub sif_coefficient: f64,
    pub token_remove_pattern: Option<&'a str>,
    /// Words to add (the lines of a `--vocabulary-path` file).
    pub vocabulary: &'a [String],
    pub quantize_to: Quantize,
    /// Cluster the token vectors into this many rows.
    pub vocabulary_quantization: Option<usize>,
    pub pooling: Pooling,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Distilled {
    pub tokens: usize,
    pub dim: usize,
    pub hidden: usize,
    pub seconds: f64,
}

/// Distils the model at `p.model` into `p.output` (which exists); `progress(done, total)`
/// counts tokens through the transformer.
pub fn distill(p: &Params, progress: &dyn Fn(usize, usize)) -> Result<Distilled, DistillError> {
    if !(p.sif_coefficient > 0.0 && p.sif_coefficient < 1.0) {
        return Err(DistillError::Usage(format!(
            "--sif-coefficient must be above 0 and below 1, not {}",
            p.sif_coefficient
        )));
    }
    let started = std::time::Instant::now();
    let bert = bert::Bert::load(p.model)?;
    let vocab = vocab::build(p.model, p.token_remove_pattern, p.vocabulary)?;
    let rows = vocab.tokens.len();
    if let Some(k) = p.vocabulary_quantization {
        kmeans::check(k, rows)?;
    }
    let vectors = embed::embed(&bert, &vocab.inputs, vocab.pad_id, p.pooling, &|done| {
        progress(done, rows)
    })?;
    let weights = reduce::sif_weights(rows, p.sif_coefficient);
    // As model2vec: without clusters the SIF weights scale the reduced rows; with them, the
    // clusters' centres are reduced and the weights are saved per token beside the mapping.
    let (reduced, embedding_rows, dim, clustered) = match p.vocabulary_quantization {
        None => {
            let (mut reduced, dim) = reduce::pca(&vectors, rows, bert.hidden, p.pca_dims);
            for (row, w) in reduced.chunks_mut(dim).zip(&weights) {
                row.iter_mut().for_each(|v| *v *= w);
            }
            (reduced, rows, dim, None)
        }
        Some(k) => {
            let clusters = kmeans::kmeans(&vectors, rows, bert.hidden, k)?;
            let (reduced, dim) = reduce::pca(&clusters.centres, k, bert.hidden, p.pca_dims);
            (reduced, k, dim, Some((weights, clusters.labels)))
        }
    };
    let mut config = json!({
        "model_type": "model2vec",
        "architectures": ["StaticModel"],
        "tokenizer_name": p.model_name,
        "apply_pca": p.pca_dims.json(),
        "sif_coefficient": p.sif_coefficient,
        "hidden_dim": dim,
        "seq_length": 1000000,
        "normalize": true,
        "pooling": p.pooling.name(),
        "max_length": 512,
        "embedding_dtype": p.quantize_to.name(),
    });
    if let Some(k) = p.vocabulary_quantization {
        config["vocabulary_quantization"] = k.into();
    }
    let base = p.model.file_name().map_or(p.model_name.to_string(), |n| {
        n.to_string_lossy().to_string()
    });
    save::save(
        p.output,
        &save::Saved {
            embeddings: p.quantize_to.bytes(&reduced),
            rows: embedding_rows,
            dim,
            clustered: clustered
                .as_ref()
                .map(|(w, m)| (w.as_slice(), m.as_slice())),
            config,
            tokenizer: &vocab.tokenizer,
            base_model: &base,
        },
    )?;
    Ok(Distilled {
        tokens: rows,
        dim,
        hidden: bert.hidden,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert")
    }

    fn tokens(tokenizer: &Path) -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tokenizer).unwrap()).unwrap();
        let mut t: Vec<(u64, String)> = v["model"]["vocab"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, id)| (id.as_u64().unwrap(), k.clone()))
            .collect();
        t.sort();
        t.into_iter().map(|(_, k)| k).collect()
    }

    fn cosine(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64) * (*y as f64))
            .sum();
        let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        dot / (na * nb)
    }

    fn params<'a>(out: &'a Path, model: &'a Path) -> Params<'a> {
        Params {
            model,
            model_name: "tiny-bert",
            output: out,
            pca_dims: PcaDims::Components(16),
            sif_coefficient: 1e-4,
            token_remove_pattern: Some(r"\[unused\d+\]"),
            vocabulary: &[],
            quantize_to: Quantize::Float16,
            vocabulary_quantization: None,
            pooling: Pooling::Mean,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let out = std::env::temp_dir().join(format!("pick-distill-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        out
    }

    /// Our model and Python's encode `texts` alike: the same tokens in the same order, and
    /// sentence vectors at cosine ≥ 0.999.
    fn assert_like_python(out: &Path, reference: &str, texts: &[&str]) {
        let reference = fixtures().join(reference);
        assert_eq!(
            tokens(&out.join("tokenizer.json")),
            tokens(&reference.join("tokenizer.json"))
        );
        let ours = pick_model2vec::StaticModel::load(out).unwrap();
        let theirs = pick_model2vec::StaticModel::load(&reference).unwrap();
        for text in texts {
            let c = cosine(&ours.encode(text).unwrap(), &theirs.encode(text).unwrap());
            assert!(c > 0.999, "`{text}`: sentence cosine {c}");
        }
    }

    /// Distil → save → load → encode, against Python model2vec 0.10's distillation of the same
    /// tiny BERT (`scripts/distill/python_distill.py ... --pca-dims 16`).
    #[test]
    fn distils_the_tiny_bert_as_model2vec_does() {
        let out = scratch("tiny");
        let report = distill(&params(&out, &fixtures()), &|_, _| {}).unwrap();
        assert_eq!((report.tokens, report.dim), (184, 16));
        assert_like_python(
            &out,
            "model2vec-16",
            &["hello world", "the static model", "distill data 42", "the"],
        );
        std::fs::remove_dir_all(&out).unwrap();
    }

    /// `--vocabulary-path`: new words, phrases as added tokens (the padded encoding of each
    /// embedded), words the vocabulary has, pattern matches and empty lines, against Python's
    /// `--vocabulary tests/fixtures/tiny-bert/words.txt` distillation.
    #[test]
    fn adds_a_vocabulary_as_model2vec_does() {
        let out = scratch("words");
        let words: Vec<String> = std::fs::read_to_string(fixtures().join("words.txt"))
            .unwrap()
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
        let report = distill(
            &Params {
                vocabulary: &words,
                ..params(&out, &fixtures())
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(report.tokens, 192);
        assert_like_python(
            &out,
            "model2vec-16-words",
            &[
                "hello world",
                "New-York static model",
                "distillation zebra cafe",
                "##abc",
            ],
        );
        let added = |dir: &Path| -> serde_json::Value {
            let t: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer.json")).unwrap())
                    .unwrap();
            t["added_tokens"].clone()
        };
        assert_eq!(added(&out), added(&fixtures().join("model2vec-16-words")));
        std::fs::remove_dir_all(&out).unwrap();
    }

    /// `--vocabulary-quantization 20`: 20 rows, each token mapped to its nearest centre and
    /// weighted by its SIF weight, in the tensors model2vec reads.
    #[test]
    fn clusters_the_vocabulary() {
        let out = scratch("kmeans");
        let report = distill(
            &Params {
                vocabulary_quantization: Some(20),
                ..params(&out, &fixtures())
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!((report.tokens, report.dim), (184, 16));
        let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let shape = |n: &str| {
            let t = st.tensor(n).unwrap();
            (t.dtype(), t.shape().to_vec())
        };
        assert_eq!(shape("embeddings"), (safetensors::Dtype::F16, vec![20, 16]));
        assert_eq!(shape("weights"), (safetensors::Dtype::F64, vec![184]));
        assert_eq!(shape("mapping"), (safetensors::Dtype::I32, vec![184]));
        let mapping: Vec<i32> = st
            .tensor("mapping")
            .unwrap()
            .data()
            .chunks(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let used: std::collections::HashSet<i32> = mapping.iter().copied().collect();
        assert_eq!(used.len(), 20, "every cluster has a token");
        let weights: Vec<f64> = st
            .tensor("weights")
            .unwrap()
            .data()
            .chunks(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(weights, reduce::sif_weights(184, 1e-4));
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["vocabulary_quantization"], 20);
        let model = pick_model2vec::StaticModel::load(&out).unwrap();
        let v = model.encode("hello world").unwrap();
        assert!(v.iter().any(|x| *x != 0.0));
        // Two words of one cluster encode to the same direction (more plain words than
        // clusters, so two share one).
        let names = tokens(&out.join("tokenizer.json"));
        let words: Vec<usize> = (0..184)
            .filter(|&i| names[i].chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        let (a, b) = words
            .iter()
            .flat_map(|&a| words.iter().map(move |&b| (a, b)))
            .find(|&(a, b)| a < b && mapping[a] == mapping[b])
            .expect("two words share a cluster");
        let c = cosine(
            &model.encode(&names[a]).unwrap(),
            &model.encode(&names[b]).unwrap(),
        );
        assert!(c > 0.999, "{} and {}: {c}", names[a], names[b]);
        assert!(
            distill(
                &Params {
                    vocabulary_quantization: Some(185),
                    ..params(&out, &fixtures())
                },
                &|_, _| {},
            )
            .is_err()
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}

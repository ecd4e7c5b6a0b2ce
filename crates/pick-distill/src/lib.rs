//! Distilling a Model2Vec static model from a BERT-family sentence transformer in a local
//! folder, as model2vec 0.10's `distill` does: every vocabulary token embedded by the
//! transformer (`bert`, candle's BERT; `embed`), then PCA, SIF weights and the cast to the
//! saved type (`reduce`), written in model2vec's folder format (`save`).

pub mod bert;
pub mod embed;
mod error;
pub mod reduce;
mod save;
pub mod vocab;

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
    pub quantize_to: Quantize,
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
    let vocab = vocab::build(p.model, p.token_remove_pattern)?;
    let rows = vocab.tokens.len();
    let vectors = embed::embed(&bert, &vocab.inputs, vocab.pad_id, p.pooling, &|done| {
        progress(done, rows)
    })?;
    let weights = reduce::sif_weights(rows, p.sif_coefficient);
    let (mut reduced, dim) = reduce::pca(&vectors, rows, bert.hidden, p.pca_dims);
    for (row, w) in reduced.chunks_mut(dim).zip(&weights) {
        row.iter_mut().for_each(|v| *v *= w);
    }
    let config = json!({
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
    let base = p.model.file_name().map_or(p.model_name.to_string(), |n| {
        n.to_string_lossy().to_string()
    });
    save::save(
        p.output,
        &save::Saved {
            embeddings: p.quantize_to.bytes(&reduced),
            rows,
            dim,
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

    /// Distil → save → load → encode, against Python model2vec 0.10's distillation of the same
    /// tiny BERT (`scripts/distill/python_distill.py ... --pca-dims 16`): the same tokens in
    /// the same order, rows and sentence vectors at cosine ≥ 0.999.
    #[test]
    fn distils_the_tiny_bert_as_model2vec_does() {
        let out = std::env::temp_dir().join(format!("pick-distill-tiny-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let report = distill(
            &Params {
                model: &fixtures(),
                model_name: "tiny-bert",
                output: &out,
                pca_dims: PcaDims::Components(16),
                sif_coefficient: 1e-4,
                token_remove_pattern: Some(r"\[unused\d+\]"),
                quantize_to: Quantize::Float16,
                pooling: Pooling::Mean,
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!((report.tokens, report.dim), (184, 16));
        let reference = fixtures().join("model2vec-16");
        assert_eq!(
            tokens(&out.join("tokenizer.json")),
            tokens(&reference.join("tokenizer.json"))
        );
        let ours = pick_model2vec::StaticModel::load(&out).unwrap();
        let theirs = pick_model2vec::StaticModel::load(&reference).unwrap();
        let mut worst = 1f64;
        for text in ["hello world", "the static model", "distill data 42", "the"] {
            let c = cosine(&ours.encode(text).unwrap(), &theirs.encode(text).unwrap());
            worst = worst.min(c);
        }
        assert!(worst > 0.999, "sentence cosine {worst}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

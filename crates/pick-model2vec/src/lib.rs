//! Model2Vec static models without DataFusion: a model folder read in every layout model2vec
//! 0.10 writes or reads (`model.safetensors` with `embeddings`, optional `weights` and
//! `mapping`; the sentence-transformers layouts with `embedding.weight`), its `tokenizer.json`
//! through the `tokenizers` crate, and `encode` as model2vec 0.10 computes it. Models are loaded
//! once per process and shared (`shared`).

mod error;
mod head;
mod model;
mod save;
pub mod train;
mod wordpiece;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

pub use error::ModelError;
pub use head::{Activation, Head};
pub use model::StaticModel;
pub use save::save_pipeline;

static LOADED: LazyLock<Mutex<HashMap<PathBuf, Arc<StaticModel>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The model in folder `path`, loaded once per process.
pub fn shared(path: &Path) -> Result<Arc<StaticModel>, ModelError> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = loaded.get(&key) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(StaticModel::load(path)?);
    loaded.insert(key, Arc::clone(&model));
    Ok(model)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::Value;

    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/model2vec")
    }

    fn potion() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/model2vec/potion-8m-pca64")
    }

    /// Python model2vec 0.10.0's ids and vectors (`scripts/make_model2vec_fixture.py`) on the
    /// committed potion-base-8M derivative: the same ids, vectors within 1e-6.
    #[test]
    fn encode_matches_python_model2vec() {
        let model = shared(&potion()).unwrap();
        assert_eq!(model.median_token_length(), 6);
        assert_eq!(model.dim(), 64);
        let text = std::fs::read_to_string(fixtures().join("reference.jsonl")).unwrap();
        let mut worst = 0f64;
        let mut n = 0;
        for line in text.lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let t = r["text"].as_str().unwrap();
            let ids: Vec<u32> = r["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(
                model.ids(t).unwrap(),
                ids,
                "ids of {:?}",
                &t[..t.len().min(40)]
            );
            let got = model.encode(t).unwrap();
            for (g, w) in got.iter().zip(r["vector"].as_array().unwrap()) {
                worst = worst.max((*g as f64 - w.as_f64().unwrap()).abs());
            }
            n += 1;
        }
        assert!(n >= 90, "{n} references");
        assert!(worst <= 1e-6, "largest difference {worst}");
    }

    /// A pipeline Python model2vec saved (a seeded random head on the derivative) gives the
    /// same probabilities and values as Python's `predict_proba`/`predict`, within 1e-5.
    #[test]
    fn pipelines_predict_as_python_does() {
        let tmp = std::env::temp_dir().join(format!("pick-m2v-heads-{}", std::process::id()));
        let text = std::fs::read_to_string(fixtures().join("predictions.jsonl")).unwrap();
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for name in ["classifier", "regressor"] {
            let dir = tmp.join(name);
            copy_fixture(&dir);
            for f in ["head.safetensors", "config.json"] {
                std::fs::copy(fixtures().join(name).join(f), dir.join(f)).unwrap();
            }
            let model = StaticModel::load(&dir).unwrap();
            let head = model.head.as_ref().unwrap();
            let mut worst = 0f64;
            for row in &rows {
                let got = model
                    .predict(row["text"].as_str().unwrap())
                    .unwrap()
                    .unwrap();
                let want: Vec<f64> = match &head.classes {
                    Some(classes) => classes
                        .iter()
                        .map(|c| row[name][c].as_f64().unwrap())
                        .collect(),
                    None => vec![row[name].as_f64().unwrap()],
                };
                for (g, w) in got.iter().zip(&want) {
                    worst = worst.max((g - w).abs());
                }
            }
            assert!(worst <= 1e-5, "{name}: largest difference {worst}");
        }
        assert!(StaticModel::load(&potion()).unwrap().head.is_none());
        let _ = std::fs::remove_dir_all(&tmp);
    }

    /// A briefly trained classifier, saved as a pipeline and read back, predicts what the
    /// trainer's own forward pass gives (the inference path is the one `encode` parity holds).
    #[test]
    fn trained_pipelines_round_trip() {
        use train::{FitOptions, Samples, Task, fit, init_head};
        let base = StaticModel::load(&potion()).unwrap();
        let texts = [
            "fn main() { println!(\"hi\"); }",
            "A README about a crate.",
            "impl Drop for X {}",
            "# Title\n\nSome prose.",
        ];
        let data = Samples {
            ids: texts.iter().map(|t| base.ids(t).unwrap()).collect(),
            targets: vec![0.0, 1.0, 0.0, 1.0],
        };
        let task = Task::Classify {
            classes: 2,
            class_weight: None,
        };
        let params = base.trainable(init_head(base.dim(), 16, 1, 2, 1));
        let opts = FitOptions {
            max_epochs: Some(3),
            ..FitOptions::default()
        };
        let fitted = fit(params, &task, &data, &data, &opts, &mut |_| {});
        let tmp = std::env::temp_dir().join(format!("pick-m2v-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let classes = vec!["code".to_string(), "prose".to_string()];
        save_pipeline(
            &tmp,
            &base,
            &fitted.params,
            Activation::Softmax,
            Some(&classes),
        )
        .unwrap();
        let loaded = StaticModel::load(&tmp).unwrap();
        assert_eq!(
            loaded.head.as_ref().unwrap().classes.as_deref(),
            Some(&classes[..])
        );
        for (t, ids) in texts.iter().zip(&data.ids) {
            let got = loaded.predict(t).unwrap().unwrap();
            let want = train::probabilities(&fitted.params, ids);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - *w as f64).abs() < 1e-5, "{g} vs {w}");
            }
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }

    fn copy_fixture(to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::copy(potion().join(f), to.join(f)).unwrap();
        }
    }

    fn error_of(dir: &Path) -> String {
        match StaticModel::load(dir) {
            Ok(_) => panic!("{} loaded", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn broken_models_are_errors_naming_the_file() {
        let tmp = std::env::temp_dir().join(format!("pick-m2v-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(error_of(&tmp.join("nothing")).contains("not a model2vec model"));

        let dir = tmp.join("corrupt");
        copy_fixture(&dir);
        std::fs::write(
            dir.join("model.safetensors"),
            b"\x10\0\0\0\0\0\0\0{not json",
        )
        .unwrap();
        let e = error_of(&dir);
        assert!(
            e.contains("model.safetensors: not a safetensors file"),
            "{e}"
        );

        let write = |dir: &Path, name: &str, dtype: &str, shape: &[usize], bytes: usize| {
            copy_fixture(dir);
            let header = serde_json::json!({name: {"dtype": dtype, "shape": shape, "data_offsets": [0, bytes]}}).to_string();
            let mut file = (header.len() as u64).to_le_bytes().to_vec();
            file.extend_from_slice(header.as_bytes());
            file.extend(std::iter::repeat_n(0u8, bytes));
            std::fs::write(dir.join("model.safetensors"), file).unwrap();
        };
        let shape = tmp.join("shape");
        write(&shape, "embeddings", "F32", &[10], 40);
        let e = error_of(&shape);
        assert!(
            e.contains("\"embeddings\" has shape [10], not [rows, dim]"),
            "{e}"
        );
        let few = tmp.join("few");
        write(&few, "embeddings", "F32", &[10, 2], 80);
        let e = error_of(&few);
        assert!(e.contains("has 10 rows for 29528 tokens"), "{e}");
        let dtype = tmp.join("dtype");
        write(&dtype, "embeddings", "U8", &[29528, 1], 29528);
        let e = error_of(&dtype);
        assert!(
            e.contains("model.safetensors: tensor \"embeddings\" has dtype U8"),
            "{e}"
        );
        let name = tmp.join("name");
        write(&name, "vectors", "F32", &[29528, 1], 29528 * 4);
        let e = error_of(&name);
        assert!(
            e.contains("no tensor \"embeddings\" (tensors: vectors)"),
            "{e}"
        );

        let tok = tmp.join("tokenizer");
        copy_fixture(&tok);
        std::fs::write(tok.join("tokenizer.json"), b"{}").unwrap();
        let e = error_of(&tok);
        assert!(e.contains("tokenizer.json: not a tokenizer"), "{e}");
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

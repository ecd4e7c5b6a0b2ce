//! `pick eval-model2vec`: a Model2Vec pipeline (a train-model2vec output, or any model2vec 0.10
//! pipeline folder) on the `test/` split of one or more datasets (bonepick §5.4, §6.1). A
//! classifier gets the §6.1 metrics, table and results YAML, as eval-fasttext; a regressor gets
//! MSE, MAE, R² and Spearman's ρ. The results go to `<model-dir>/results_<6 hex>.yaml`, the hex
//! from a SHA-256 over every `text\tlabel` read. Fixed from bonepick: only `test/` is read (it
//! needed and normalized train too), and classes are matched to the model's by name (it encoded
//! the test labels on their own, so a test set without some class shifted every column, B14).

use std::path::{Path, PathBuf};

use pick_compat::yaml::Yaml;
use pick_metrics::correlation::spearman;
use pick_metrics::regression::errors;
use pick_model2vec::StaticModel;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::labelled::{Labelled, LabelledSpec, labelled_rows, open_with_split, split_shards};
use crate::ops::par::{par_map, threads};
use crate::pipelines::eval_fasttext::{EvalResult, evaluate, round4};
use crate::pipelines::train_model2vec::{number, pipeline_dir};
use crate::pipelines::{load_model2vec, usage};
use crate::write::write_file;

#[derive(Debug, Clone)]
pub struct EvalModel2vecParams {
    pub dataset: Vec<String>,
    /// A train-model2vec output (holding `model/`) or a pipeline folder.
    pub model: PathBuf,
    pub rows: LabelledSpec,
    /// 0 = all cores.
    pub threads: usize,
    /// Where to draw a classifier's ROC, precision-recall and confusion charts.
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct RegressionResult {
    pub mse: f64,
    pub mae: f64,
    pub r2: f64,
    pub spearman: Option<f64>,
}

#[derive(Debug, Serialize)]
pub enum Outcome {
    Classification(EvalResult),
    Regression(RegressionResult),
}

#[derive(Debug, Serialize)]
pub struct EvalModel2vecReport {
    pub outcome: Outcome,
    pub yaml: String,
    pub results_file: PathBuf,
    pub examples: usize,
    /// Gold classes the model has no output for (scored 0).
    pub unknown: Vec<String>,
    pub model: PathBuf,
    /// The charts written (`--plot`).
    pub plots: Vec<PathBuf>,
}

/// The head's outputs for a batch of rows, on `threads` threads, in order.
fn predict(model: &StaticModel, rows: &[Labelled<'_>], threads: usize) -> Result<Vec<Vec<f64>>> {
    par_map(rows, threads, |r| {
        model
            .predict(r.text)
            .map(Option::unwrap_or_default)
            .map_err(|e| PickError::Failed(format!("{}: row {}: {e}", r.file, r.row)))
    })
}

pub async fn run(p: &EvalModel2vecParams, observer: &dyn Observer) -> Result<EvalModel2vecReport> {
    let threads = threads(p.threads);
    let dir = pipeline_dir(&p.model);
    if !dir.join("head.safetensors").is_file() && dir.join("pipeline.skops").is_file() {
        return Err(PickError::Failed(format!(
            "{}: a legacy pipeline.skops (bonepick 0.5 with model2vec 0.8); pick reads model2vec \
             0.10 pipelines (head.safetensors): load and save it once with model2vec 0.10 \
             (`StaticModelPipeline.from_pretrained(dir).save_pretrained(dir)`)",
            dir.display()
        )));
    }
    let model = load_model2vec(&dir)?;
    let Some(head) = &model.head else {
        return Err(usage(format!(
            "{}: a static model without a head (no head.safetensors); eval-model2vec needs a \
             classifier or regressor pipeline (make one with train-model2vec)",
            dir.display()
        )));
    };
    let datasets = open_with_split(&p.dataset, "test", &p.rows.read)?;
    let total: u64 = datasets
        .iter()
        .flat_map(|d| split_shards(d, "test"))
        .map(|s| s.size)
        .sum();
    let progress = observer.progress(total, "eval");
    let mut hash = Sha256::new();
    let mut gold: Vec<String> = Vec::new();
    let mut outputs: Vec<Vec<f64>> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let regression = head.classes.is_none();
    for ds in &datasets {
        labelled_rows(ds, "test", &p.rows, Some(progress.as_ref()), |rows| {
            for r in rows {
                hash.update(r.text.as_bytes());
                hash.update(b"\t");
                hash.update(r.label.as_bytes());
                if regression {
                    values.push(number(r)? as f64);
                } else {
                    gold.push(r.label.to_string());
                }
            }
            outputs.extend(predict(&model, rows, threads)?);
            Ok(())
        })
        .await?;
    }
    progress.finish();
    let examples = outputs.len();
    if examples == 0 {
        return Err(usage(format!(
            "{}: test/ has no labelled rows",
            p.dataset.join(", ")
        )));
    }
    let datasets_yaml = Yaml::List(p.dataset.iter().map(|d| Yaml::str(d.clone())).collect());
    let model_yaml = Yaml::str(p.model.display().to_string());
    let mut plots = Vec::new();
    let (outcome, yaml, unknown) = match &head.classes {
        Some(model_classes) => {
            let mut classes: Vec<String> = gold.clone();
            classes.sort_unstable();
            classes.dedup();
            let column: Vec<Option<usize>> = classes
                .iter()
                .map(|c| model_classes.iter().position(|m| m == c))
                .collect();
            let probs: Vec<Vec<f64>> = outputs
                .iter()
                .map(|o| column.iter().map(|k| k.map_or(0.0, |k| o[k])).collect())
                .collect();
            let gold_refs: Vec<Vec<&str>> = gold.iter().map(|g| vec![g.as_str()]).collect();
            let result = evaluate(&gold_refs, &probs, &classes);
            if let Some(dir) = &p.plot {
                plots = crate::pipelines::plots::classification(dir, &classes, &gold_refs, &probs)?;
            }
            let datasets: Vec<PathBuf> = p.dataset.iter().map(PathBuf::from).collect();
            let yaml = result.yaml(&datasets, &p.model);
            let unknown = classes
                .iter()
                .zip(&column)
                .filter(|(_, k)| k.is_none())
                .map(|(c, _)| c.clone())
                .collect();
            (Outcome::Classification(result), yaml, unknown)
        }
        None => {
            let pred: Vec<f64> = outputs.iter().map(|o| o[0]).collect();
            let e = errors(&pred, &values).expect("there are examples");
            let result = RegressionResult {
                mse: e.mse,
                mae: e.mae,
                r2: e.r2,
                spearman: spearman(&pred, &values),
            };
            let r = |v: f64| Yaml::Float(round4(v));
            let yaml = Yaml::map([
                ("dataset_dir", datasets_yaml),
                ("model_dir", model_yaml),
                (
                    "overall_results",
                    Yaml::map([
                        ("mse", r(result.mse)),
                        ("mae", r(result.mae)),
                        ("r2", r(result.r2)),
                        ("spearman", Yaml::opt(result.spearman.map(round4))),
                        ("support", Yaml::Int(examples as i64)),
                    ]),
                ),
            ]);
            (Outcome::Regression(result), yaml, Vec::new())
        }
    };
    let digest = hash.finalize();
    let name = format!(
        "results_{:02x}{:02x}{:02x}.yaml",
        digest[0], digest[1], digest[2]
    );
    let results_file = results_dir(&p.model).join(name);
    let text = yaml.to_text();
    write_file(&results_file, text.as_bytes())?;
    Ok(EvalModel2vecReport {
        outcome,
        yaml: text,
        results_file,
        examples,
        unknown,
        model: dir,
        plots,
    })
}

/// Results go where bonepick puts them: in the `--model-dir` given.
fn results_dir(model: &Path) -> PathBuf {
    model.to_path_buf()
}

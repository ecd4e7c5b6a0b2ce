//! `pick train-model2vec`: a Model2Vec static model fine-tuned with a classifier (or, with
//! `--regression`, a regressor) head on the `train/` split of one or more datasets (bonepick
//! §5.2, §5.3), as model2vec 0.10's `fit` trains it (`pick_model2vec::train`). Validation is
//! `valid/` when the datasets have it, else a stratified 10% of train (seed 42). Written:
//! `<out>/model/` (model2vec 0.10's pipeline folder, which Python's `StaticModelPipeline` loads)
//! and `<out>/report.yaml`. Fixed from bonepick: texts and labels stay paired (B1); no flag
//! combination crashes before saving (B2); the checkpoint saved is the best validation check,
//! not the last (B25); a regressor is saved as a pipeline that inference and eval read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pick_compat::yaml::Yaml;
use pick_model2vec::train::{Check, FitOptions, Samples, Task, fit, init_head, split_validation};
use pick_model2vec::{Activation, StaticModel, save_pipeline};
use serde::Serialize;

use crate::dataset::Dataset;
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::labelled::{Labelled, LabelledSpec, labelled_rows, open_with_split, split_shards};
use crate::ops::par::{par_map, threads};
use crate::pipelines::{load_model2vec, usage};
use crate::write::{OutputDir, write_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    Uniform,
    Balanced,
    Sqrt,
}

impl ClassWeight {
    pub fn name(self) -> &'static str {
        match self {
            ClassWeight::Uniform => "uniform",
            ClassWeight::Balanced => "balanced",
            ClassWeight::Sqrt => "sqrt",
        }
    }

    /// One weight per class from the training counts: none, `n / (C·n_c)` (scikit-learn's
    /// balanced), or its square root; scaled to sum to 1 as bonepick scales them.
    pub fn weights(self, counts: &[usize]) -> Option<Vec<f32>> {
        let n: usize = counts.iter().sum();
        let c = counts.len() as f64;
        let w: Vec<f64> = match self {
            ClassWeight::Uniform => return None,
            ClassWeight::Balanced => counts.iter().map(|&k| n as f64 / (c * k as f64)).collect(),
            ClassWeight::Sqrt => counts
                .iter()
                .map(|&k| (n as f64 / (c * k as f64)).sqrt())
                .collect(),
        };
        let sum: f64 = w.iter().sum();
        Some(w.iter().map(|v| (v / sum) as f32).collect())
    }
}

#[derive(Debug, Clone)]
pub struct TrainModel2vecParams {
    pub dataset: Vec<String>,
    /// `None`: train and report, save nothing (bonepick's behaviour without `-o`).
    pub output: Option<PathBuf>,
    /// The base model as the user named it (recorded in the report).
    pub model_name: String,
    /// Its folder.
    pub model: PathBuf,
    pub rows: LabelledSpec,
    pub learning_rate: f64,
    pub batch_size: Option<usize>,
    pub min_epochs: Option<usize>,
    pub max_epochs: Option<usize>,
    pub patience: Option<usize>,
    pub class_weight: ClassWeight,
    pub regression: bool,
    /// Seeds the head's initialization, the shuffles and the validation split.
    pub seed: u64,
    /// 0 = all cores.
    pub threads: usize,
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Validation accuracy, or R² for a regressor.
    pub val_score: f64,
    pub learning_rate: f64,
    pub best: bool,
    pub seconds: f64,
    pub samples_per_second: f64,
}

#[derive(Debug, Serialize)]
pub struct TrainModel2vecReport {
    /// The pipeline folder and report written (none without an output directory).
    pub model: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub classes: Option<Vec<String>>,
    pub train_rows: usize,
    pub validation_rows: usize,
    /// `valid/`, or a split of train.
    pub validation: String,
    pub batch_size: usize,
    pub epochs: usize,
    pub checks: Vec<EpochReport>,
    /// Index of the saved check.
    pub best: usize,
    pub tokenize_seconds: f64,
    pub train_seconds: f64,
    pub threads: usize,
}

/// Token ids of a batch's texts, on `threads` threads, in order.
pub fn tokenize(
    model: &StaticModel,
    rows: &[Labelled<'_>],
    threads: usize,
) -> Result<Vec<Vec<u32>>> {
    par_map(rows, threads, |r| {
        model
            .ids(r.text)
            .map_err(|e| PickError::Failed(format!("{}: row {}: {e}", r.file, r.row)))
    })
}

/// A regression target: the label as a number, or an error naming the row.
pub fn number(r: &Labelled<'_>) -> Result<f32> {
    r.label.trim().parse::<f32>().map_err(|_| {
        PickError::Failed(format!(
            "{}: row {}: the label `{}` is not a number (--regression)",
            r.file, r.row, r.label
        ))
    })
}

struct Split {
    ids: Vec<Vec<u32>>,
    labels: Vec<String>,
    values: Vec<f32>,
}

async fn read_split(
    datasets: &[Dataset],
    split: &str,
    p: &TrainModel2vecParams,
    model: &StaticModel,
    threads: usize,
    observer: &dyn Observer,
) -> Result<Split> {
    let mut out = Split {
        ids: Vec::new(),
        labels: Vec::new(),
        values: Vec::new(),
    };
    let total: u64 = datasets
        .iter()
        .flat_map(|d| split_shards(d, split))
        .map(|s| s.size)
        .sum();
    if total == 0 {
        return Ok(out);
    }
    let progress = observer.progress(total, &format!("tokenize {split}"));
    for ds in datasets {
        labelled_rows(ds, split, &p.rows, Some(progress.as_ref()), |rows| {
            out.ids.extend(tokenize(model, rows, threads)?);
            for r in rows {
                if p.regression {
                    out.values.push(number(r)?);
                }
                out.labels.push(r.label.to_string());
            }
            Ok(())
        })
        .await?;
    }
    progress.finish();
    Ok(out)
}

pub async fn run(
    p: &TrainModel2vecParams,
    observer: &dyn Observer,
) -> Result<TrainModel2vecReport> {
    let threads = threads(p.threads);
    let model = load_model2vec(&p.model)?;
    let datasets = open_with_split(&p.dataset, "train", &p.rows.read)?;
    let out = match &p.output {
        Some(o) => Some(OutputDir::prepare(
            o,
            &datasets.iter().map(|d| d.root.clone()).collect::<Vec<_>>(),
            p.overwrite,
        )?),
        None => None,
    };

    let started = Instant::now();
    let train = read_split(&datasets, "train", p, &model, threads, observer).await?;
    let valid = read_split(&datasets, "valid", p, &model, threads, observer).await?;
    let tokenize_seconds = started.elapsed().as_secs_f64();
    if train.ids.len() < 2 {
        return Err(usage(format!(
            "{}: train/ has {} labelled rows; training needs at least 2",
            p.dataset.join(", "),
            train.ids.len()
        )));
    }

    let (task, classes, train_targets, valid_targets) = if p.regression {
        (
            Task::Regress,
            None,
            train.values.clone(),
            valid.values.clone(),
        )
    } else {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for l in &train.labels {
            *counts.entry(l).or_default() += 1;
        }
        let classes: Vec<String> = counts.keys().map(|k| k.to_string()).collect();
        if classes.len() < 2 {
            return Err(usage(format!(
                "train/ has one class ({}); a classifier needs two or more (use --regression \
                 for a numeric label)",
                classes.join(", ")
            )));
        }
        let index = |l: &str| classes.binary_search_by(|c| c.as_str().cmp(l)).ok();
        let mut valid_targets = Vec::with_capacity(valid.labels.len());
        for l in &valid.labels {
            let k = index(l).ok_or_else(|| {
                usage(format!(
                    "valid/ has the label `{l}`, which train/ does not have (classes: {})",
                    classes.join(", ")
                ))
            })?;
            valid_targets.push(k as f32);
        }
        let train_targets: Vec<f32> = train
            .labels
            .iter()
            .map(|l| index(l).expect("train labels are classes") as f32)
            .collect();
        let counts: Vec<usize> = counts.values().copied().collect();
        (
            Task::Classify {
                classes: classes.len(),
                class_weight: p.class_weight.weights(&counts),
            },
            Some(classes),
            train_targets,
            valid_targets,
        )
    };

    // Validation: valid/, or a seeded split of train.
    let (train_set, val_set, validation) = if valid.ids.is_empty() {
        let (tr, va) = split_validation(&train_targets, !p.regression, p.seed);
        let pick = |idx: &[usize]| Samples {
            ids: idx.iter().map(|&i| train.ids[i].clone()).collect(),
            targets: idx.iter().map(|&i| train_targets[i]).collect(),
        };
        (
            pick(&tr),
            pick(&va),
            format!("10% of train/ (seed {})", p.seed),
        )
    } else {
        (
            Samples {
                ids: train.ids,
                targets: train_targets,
            },
            Samples {
                ids: valid.ids,
                targets: valid_targets,
            },
            "valid/".to_string(),
        )
    };

    let outputs = classes.as_ref().map_or(1, Vec::len);
    let opts = FitOptions {
        learning_rate: p.learning_rate,
        batch_size: p.batch_size,
        min_epochs: p.min_epochs,
        max_epochs: p.max_epochs,
        patience: p.patience,
        threads,
        seed: p.seed,
        ..FitOptions::default()
    };
    let params = model.trainable(init_head(
        model.dim(),
        opts.hidden_dim,
        opts.hidden_layers,
        outputs,
        opts.seed,
    ));
    let score = if p.regression { "R²" } else { "accuracy" };
    let trained_at = Instant::now();
    let fitted = fit(
        params,
        &task,
        &train_set,
        &val_set,
        &opts,
        &mut |c: &Check| {
            observer.note(&format!(
                "epoch {:>3}: train loss {:.4}, val loss {:.4}, val {score} {:.4}{}, lr {:.1e}, {:.0} samples/s, {:.2}s",
                c.epoch,
                c.train_loss,
                c.val_loss,
                c.val_score,
                if c.improved { " (best)" } else { "" },
                c.learning_rate,
                c.samples_per_second,
                c.seconds
            ))
        },
    );
    let train_seconds = trained_at.elapsed().as_secs_f64();

    if let Some(out) = out {
        let model_dir = out.path().join("model");
        std::fs::create_dir_all(&model_dir).map_err(|e| PickError::io(&model_dir, e))?;
        let activation = if p.regression {
            Activation::Identity
        } else {
            Activation::Softmax
        };
        save_pipeline(
            &model_dir,
            &model,
            &fitted.params,
            activation,
            classes.as_deref(),
        )
        .map_err(|e| PickError::Failed(e.to_string()))?;
        let yaml = report_yaml(
            p,
            fitted.batch_size,
            &fitted.checks[fitted.best],
            fitted.epochs,
        );
        write_file(&out.path().join("report.yaml"), yaml.to_text().as_bytes())?;
        out.commit()?;
    }

    Ok(TrainModel2vecReport {
        model: p.output.as_ref().map(|o| o.join("model")),
        report: p.output.as_ref().map(|o| o.join("report.yaml")),
        classes,
        train_rows: train_set.len(),
        validation_rows: val_set.len(),
        validation,
        batch_size: fitted.batch_size,
        epochs: fitted.epochs,
        best: fitted.best,
        checks: fitted
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| EpochReport {
                epoch: c.epoch,
                train_loss: c.train_loss,
                val_loss: c.val_loss,
                val_score: c.val_score,
                learning_rate: c.learning_rate,
                best: i == fitted.best,
                seconds: c.seconds,
                samples_per_second: c.samples_per_second,
            })
            .collect(),
        tokenize_seconds,
        train_seconds,
        threads,
    })
}

/// bonepick's `report.yaml` (its keys, sorted), plus what was kept: the best check.
fn report_yaml(p: &TrainModel2vecParams, batch_size: usize, best: &Check, epochs: usize) -> Yaml {
    let opt_int = |v: Option<usize>| v.map_or(Yaml::Null, |v| Yaml::Int(v as i64));
    Yaml::map([
        ("batch_size", Yaml::Int(batch_size as i64)),
        (
            "best_checkpoint",
            Yaml::map([
                ("epoch", Yaml::Int(best.epoch as i64)),
                ("step", Yaml::Int(best.step as i64)),
                ("val_loss", Yaml::Float(best.val_loss)),
                (
                    if p.regression {
                        "val_r2"
                    } else {
                        "val_accuracy"
                    },
                    Yaml::Float(best.val_score),
                ),
            ]),
        ),
        (
            "dataset_dir",
            Yaml::List(p.dataset.iter().map(|d| Yaml::str(d.clone())).collect()),
        ),
        ("early_stopping_patience", opt_int(p.patience)),
        ("epochs", Yaml::Int(epochs as i64)),
        ("label_expression", Yaml::str(p.rows.label.clone())),
        ("learning_rate", Yaml::Float(p.learning_rate)),
        ("loss_class_weight", Yaml::str(p.class_weight.name())),
        (
            "max_epochs",
            Yaml::Int(p.max_epochs.map_or(-1, |v| v as i64)),
        ),
        (
            "max_length",
            p.rows
                .max_length
                .map_or(Yaml::Null, |v| Yaml::Int(v as i64)),
        ),
        ("min_epochs", opt_int(p.min_epochs)),
        ("model_name", Yaml::str(p.model_name.clone())),
        (
            "normalizer",
            p.rows
                .normalizer
                .map_or(Yaml::Null, |n| Yaml::str(n.name())),
        ),
        (
            "output_dir",
            p.output
                .as_ref()
                .map_or(Yaml::Null, |o| Yaml::str(o.display().to_string())),
        ),
        ("regression", Yaml::Bool(p.regression)),
        ("text_expression", Yaml::str(p.rows.text.clone())),
    ])
}

/// Where a model name points: a folder, or a Hugging Face id already in the local hub cache
/// (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`). pick does not download.
pub fn resolve_model(name: &str) -> Result<PathBuf> {
    if crate::store::is_url(name) {
        return crate::store::local::materialize(Path::new(name));
    }
    let path = Path::new(name);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let cache = std::env::var_os("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
        });
    let Some((org, repo)) = name.split_once('/').filter(|(o, r)| {
        !o.is_empty() && !r.is_empty() && !r.contains('/') && !name.starts_with('.')
    }) else {
        return Err(usage(format!("--model-name {name}: no such folder")));
    };
    if let Some(cache) = &cache {
        let want = format!("models--{org}--{repo}");
        // Hub ids are case-insensitive; the cache keeps the case the download used.
        let entry = std::fs::read_dir(cache).ok().and_then(|entries| {
            entries.flatten().map(|e| e.path()).find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(&want))
            })
        });
        if let Some(repo_dir) = entry {
            let main = std::fs::read_to_string(repo_dir.join("refs/main")).ok();
            let snapshots = repo_dir.join("snapshots");
            if let Some(rev) = main.map(|m| snapshots.join(m.trim()))
                && rev.is_dir()
            {
                return Ok(rev);
            }
            let only: Vec<PathBuf> = std::fs::read_dir(&snapshots)
                .map(|e| {
                    e.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            if let [one] = only.as_slice() {
                return Ok(one.clone());
            }
        }
    }
    Err(usage(format!(
        "--model-name {name}: not a folder, and not in the Hugging Face cache{}; pick does not \
         download models: fetch it once (`hf download {name} --local-dir DIR`) and pass \
         --model-name DIR",
        cache
            .map(|c| format!(" ({})", c.display()))
            .unwrap_or_default()
    )))
}

/// The model folder of a train-model2vec output (`<dir>/model`), or `dir` itself.
pub fn pipeline_dir(dir: &Path) -> PathBuf {
    let inner = dir.join("model");
    if inner.join("config.json").is_file() || inner.join("pipeline.skops").is_file() {
        inner
    } else {
        dir.to_path_buf()
    }
}

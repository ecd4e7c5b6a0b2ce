//! `pick eval-fasttext`: a fastText model on the `test.txt` of one or more convert-to-fasttext
//! outputs (bonepick §4.5, §6.1): per-class precision, recall, F1, support and one-vs-rest AUC,
//! their macro averages, a table, and bonepick's results YAML next to the model. Fixed from
//! bonepick: several `-d` are read as they are (B5), every class gets its one-vs-rest AUC also
//! with three or more classes (B7; fastText's probabilities never sum to exactly 1), a row with
//! no text is scored like any other and a row with several gold labels counts for each (B15).

use std::path::{Path, PathBuf};

use pick_compat::yaml::Yaml;
use pick_fasttext::{LABEL_PREFIX, Model, Scratch, is_separator};
use pick_metrics::classification::Counts;
use pick_metrics::ranking::roc_auc;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{PickError, Result};
use crate::ops::par::threads;
use crate::pipelines::{load_fasttext, usage};
use crate::write::write_file;

#[derive(Debug, Clone)]
pub struct EvalFasttextParams {
    /// convert-to-fasttext outputs holding test.txt.
    pub dataset: Vec<PathBuf>,
    /// A directory holding model.bin, or a .bin/.ftz file.
    pub model: PathBuf,
    /// 0 = all cores.
    pub num_proc: usize,
    /// Where to draw the ROC, precision-recall and confusion charts.
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct EvalReport {
    pub result: EvalResult,
    /// The results file's text (bonepick's YAML), as written.
    pub yaml: String,
    pub results_file: PathBuf,
    pub examples: usize,
    /// Examples with no word the model knows, left out as `fasttext test` leaves them out.
    pub unscored: usize,
    pub files: usize,
    /// Gold classes the model has no label for (scored 0).
    pub unknown: Vec<String>,
    /// The charts written (`--plot`).
    pub plots: Vec<PathBuf>,
}

/// One test line: its gold labels (every `__label__` token, as fastText reads them) and the line.
pub struct Example<'a> {
    pub gold: Vec<&'a str>,
    pub line: &'a str,
}

/// The examples of one fastText file; a line without a label is an error naming file and line.
pub fn examples<'a>(path: &Path, text: &'a str) -> Result<Vec<Example<'a>>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.bytes().all(is_separator) {
            continue;
        }
        let gold: Vec<&str> = line
            .split(|c: char| c.is_ascii() && is_separator(c as u8))
            .filter(|t| t.as_bytes().starts_with(LABEL_PREFIX))
            .collect();
        if gold.is_empty() {
            return Err(PickError::BadRow {
                file: path.display().to_string(),
                line: n as u64 + 1,
                message: "no __label__ in this line".to_string(),
            });
        }
        out.push(Example { gold, line });
    }
    Ok(out)
}

/// Every example's probability for every model label, on `threads` threads (one scratch per
/// thread, so not `par_map`).
pub fn predict_all(model: &Model, lines: &[&str], threads: usize) -> Vec<Option<Vec<f32>>> {
    let chunk = lines.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    part.iter()
                        .map(|l| {
                            model
                                .predict(l.as_bytes(), &mut scratch)
                                .map(<[f32]>::to_vec)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("prediction threads do not panic"))
            .collect()
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassResult {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
    pub auc: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalResult {
    pub classes: Vec<ClassResult>,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub macro_auc: Option<f64>,
}

/// §6.1 over the gold classes (sorted): the prediction is the gold class of highest probability
/// (ties to the first); each class is scored one-vs-rest.
pub fn evaluate(gold: &[Vec<&str>], probs: &[Vec<f64>], classes: &[String]) -> EvalResult {
    let c = classes.len();
    let mut counts = vec![Counts::default(); c];
    let member: Vec<Vec<bool>> = gold
        .iter()
        .map(|g| classes.iter().map(|k| g.contains(&k.as_str())).collect())
        .collect();
    for (row, p) in member.iter().zip(probs) {
        let mut best = 0;
        for k in 1..c {
            if p[k] > p[best] {
                best = k;
            }
        }
        counts[best].predicted += 1;
        if row[best] {
            counts[best].true_positives += 1;
        }
        for (count, gold) in counts.iter_mut().zip(row) {
            count.support += *gold as u64;
        }
    }
    let classes: Vec<ClassResult> = (0..c)
        .map(|k| {
            let (precision, recall, f1) = counts[k].precision_recall_f1();
            let scores: Vec<f64> = probs.iter().map(|p| p[k]).collect();
            let positive: Vec<bool> = member.iter().map(|m| m[k]).collect();
            ClassResult {
                class: classes[k].clone(),
                precision,
                recall,
                f1,
                support: counts[k].support,
                auc: roc_auc(&scores, &positive),
            }
        })
        .collect();
    let mean = |f: &dyn Fn(&ClassResult) -> f64| {
        if c == 0 {
            0.0
        } else {
            classes.iter().map(f).sum::<f64>() / c as f64
        }
    };
    // Two classes: the AUC of the second, as scikit-learn's binary `roc_auc_score` gives.
    let macro_auc = match c {
        0 | 1 => None,
        2 => classes[1].auc,
        _ => classes
            .iter()
            .map(|r| r.auc)
            .sum::<Option<f64>>()
            .map(|s| s / c as f64),
    };
    EvalResult {
        macro_precision: mean(&|r| r.precision),
        macro_recall: mean(&|r| r.recall),
        macro_f1: mean(&|r| r.f1),
        macro_auc,
        classes,
    }
}

/// Python's `round(v, 4)`: the decimal nearest the exact binary value.
pub fn round4(v: f64) -> f64 {
    format!("{v:.4}").parse().expect("a formatted float parses")
}

impl EvalResult {
    pub fn yaml(&self, datasets: &[PathBuf], model_dir: &Path) -> Yaml {
        let r = |v: f64| Yaml::Float(round4(v));
        Yaml::map([
            (
                "dataset_dir",
                Yaml::List(
                    datasets
                        .iter()
                        .map(|d| Yaml::str(d.display().to_string()))
                        .collect(),
                ),
            ),
            ("model_dir", Yaml::str(model_dir.display().to_string())),
            (
                "overall_results",
                Yaml::map([
                    ("macro_precision", r(self.macro_precision)),
                    ("macro_recall", r(self.macro_recall)),
                    ("macro_f1", r(self.macro_f1)),
                    ("macro_auc", Yaml::opt(self.macro_auc.map(round4))),
                ]),
            ),
            (
                "per_class_metrics",
                Yaml::List(
                    self.classes
                        .iter()
                        .map(|c| {
                            Yaml::map([
                                ("class_name", Yaml::str(c.class.clone())),
                                ("precision", r(c.precision)),
                                ("recall", r(c.recall)),
                                ("f1", r(c.f1)),
                                ("support", Yaml::Int(c.support as i64)),
                                ("auc", Yaml::opt(c.auc.map(round4))),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    }
}

pub fn run(args: &EvalFasttextParams) -> Result<EvalReport> {
    let mut files = Vec::new();
    for dir in &args.dataset {
        if let Some(local) = crate::store::local::file_in(dir, "test.txt")? {
            let text = std::fs::read_to_string(&local).map_err(|e| PickError::io(&local, e))?;
            // Named as the user named it: results and errors say `s3://.../test.txt`.
            files.push((dir.join("test.txt"), text));
        }
    }
    if files.is_empty() {
        return Err(usage(format!(
            "no test.txt in {} (make one with convert-to-fasttext)",
            args.dataset
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let model = load_fasttext(&args.model)?;
    let mut examples_all = Vec::new();
    let mut hash = Sha256::new();
    for (path, text) in &files {
        hash.update(text.as_bytes());
        examples_all.extend(examples(path, text)?);
    }
    let mut classes: Vec<String> = examples_all
        .iter()
        .flat_map(|e| e.gold.iter().map(|g| g.to_string()))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let lines: Vec<&str> = examples_all.iter().map(|e| e.line).collect();
    let threads = threads(args.num_proc);
    let column: Vec<Option<usize>> = classes.iter().map(|c| model.label_index(c)).collect();
    // A line with no word the model knows has no prediction; `fasttext test` leaves such lines
    // out, and so does this (they are counted and reported).
    let mut probs: Vec<Vec<f64>> = Vec::with_capacity(lines.len());
    let mut gold: Vec<Vec<&str>> = Vec::with_capacity(lines.len());
    let mut unscored = 0;
    for (p, example) in predict_all(&model, &lines, threads)
        .into_iter()
        .zip(&examples_all)
    {
        let Some(p) = p else {
            unscored += 1;
            continue;
        };
        probs.push(
            column
                .iter()
                .map(|k| k.map_or(0.0, |k| p[k] as f64))
                .collect(),
        );
        gold.push(example.gold.clone());
    }
    let result = evaluate(&gold, &probs, &classes);
    let plots = match &args.plot {
        Some(dir) => crate::pipelines::plots::classification(dir, &classes, &gold, &probs)?,
        None => Vec::new(),
    };

    let model_dir = if args.model.is_dir() {
        args.model.clone()
    } else {
        args.model
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let digest = hash.finalize();
    let name = format!(
        "results_{:02x}{:02x}{:02x}.yaml",
        digest[0], digest[1], digest[2]
    );
    let out = model_dir.join(name);
    let text = result.yaml(&args.dataset, &args.model).to_text();
    write_file(&out, text.as_bytes())?;
    let unknown = classes
        .iter()
        .zip(&column)
        .filter(|(_, k)| k.is_none())
        .map(|(c, _)| c.clone())
        .collect();
    Ok(EvalReport {
        unscored,
        examples: examples_all.len(),
        files: files.len(),
        results_file: out,
        yaml: text,
        unknown,
        result,
        plots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round4_is_pythons_round() {
        assert_eq!(round4(0.87654999), 0.8765);
        assert_eq!(round4(0.12345), 0.1235); // 0.12345 is stored above ...45
        assert_eq!(round4(2.675e-1), 0.2675);
        assert_eq!(round4(1.0), 1.0);
    }

    #[test]
    fn multi_label_rows_count_for_each_gold_label() {
        let classes = vec!["__label__a".to_string(), "__label__b".to_string()];
        let gold = vec![
            vec!["__label__a", "__label__b"],
            vec!["__label__a"],
            vec!["__label__b"],
        ];
        let probs = vec![vec![0.9, 0.1], vec![0.8, 0.2], vec![0.6, 0.4]];
        let r = evaluate(&gold, &probs, &classes);
        // a: predicted 3 times, right twice; gold twice, found twice.
        assert_eq!(
            (r.classes[0].precision, r.classes[0].recall),
            (2.0 / 3.0, 1.0)
        );
        assert_eq!((r.classes[1].precision, r.classes[1].recall), (0.0, 0.0));
        assert_eq!(r.classes[1].support, 2);
    }
}

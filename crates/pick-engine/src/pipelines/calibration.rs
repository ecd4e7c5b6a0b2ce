//! `pick eval-calibration` (bonepick §6.2) and `pick train-calibration` (§6.3): how well a
//! scalar prediction orders and calibrates against ordinal gold labels, and a linear or
//! log-linear map from prediction components to gold. Rows are read with SQL (`label()` and
//! `jq()` over `_json`); the metrics are pick-udfs' kernels.

use std::collections::BTreeSet;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use pick_compat::yaml::Yaml;
use pick_jq::Program;
use pick_metrics::calibration::ece;
use pick_metrics::correlation::{kendall_tau_b, pearson};
use pick_metrics::fit::{Fit, fit_linear, fit_log_linear};
use pick_metrics::interned::Interned;
use pick_metrics::ordinal::{RankedByPrediction, ranks};
use pick_metrics::regression::{Errors, errors};
use pick_metrics::significance::{kendall_pvalue, pearson_pvalue, spearman_pvalue};
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{ShardQuery, stream_in_order};
use crate::pipelines::{check_jq, usage};
use crate::plan::Params;
use crate::plan::rows::{required_jq, required_label};
use crate::write::write_file;

#[derive(Debug, Clone)]
pub struct EvalCalibrationParams {
    pub datasets: Vec<String>,
    /// jq expression for the prediction (a number, expected in [0, 1]).
    pub prediction: String,
    /// jq expression for the ordinal gold label.
    pub label: String,
    /// Where to write the results as YAML.
    pub output: Option<PathBuf>,
    pub bins: usize,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Where to draw the calibration curve over the predictions' histogram.
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ModelType {
    Linear,
    LogLinear,
}

impl ModelType {
    pub fn name(self) -> &'static str {
        match self {
            ModelType::Linear => "linear",
            ModelType::LogLinear => "log-linear",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TrainCalibrationParams {
    pub datasets: Vec<String>,
    /// jq expression for the prediction components (an object of numbers).
    pub prediction: String,
    pub label: String,
    pub model: ModelType,
    pub output: Option<PathBuf>,
    pub partitions: usize,
    pub read: ReadOptions,
}

/// A fitted calibration and how well it fits.
#[derive(Debug, Serialize)]
pub struct FitReport {
    /// Rows lacking one or more components (fitted with 0 in their place).
    pub incomplete_rows: usize,
    pub model: ModelType,
    pub samples: usize,
    /// Component names, sorted; `fit.weights` follows them.
    pub names: Vec<String>,
    pub unique: Vec<String>,
    pub fit: Fit,
    pub errors: Errors,
    /// The fit as a jq expression over the rows.
    pub expression: String,
}

/// Calls `on_row(prediction, label)` for every row of every dataset, in dataset, file and row
/// order, streaming shard by shard: the label as Python's `str()`, the prediction too
/// (`as_label`) or as JSON text. Returns the number of rows.
#[allow(clippy::too_many_arguments)]
async fn load(
    dirs: &[String],
    read: &ReadOptions,
    partitions: usize,
    prediction: &str,
    as_label: bool,
    label: &str,
    observer: &dyn Observer,
    mut on_row: impl FnMut(&str, &str) -> Result<()>,
) -> Result<usize> {
    let mut rows = 0;
    for dir in dirs {
        let dataset = Dataset::open(dir, read.clone())?;
        let mut params = Params::default();
        let p = if as_label {
            required_label(&mut params, &dataset, prediction, "prediction")
        } else {
            required_jq(&mut params, &dataset, prediction, "prediction")
        };
        let l = required_label(&mut params, &dataset, label, "label");
        let query = ShardQuery::new(format!("{p} AS p, {l} AS l"), params).query();
        let bytes = dataset.shards.iter().map(|s| s.size).sum();
        let progress = observer.progress(bytes, "read");
        stream_in_order(
            &dataset,
            &dataset.shards,
            partitions,
            &query,
            Some(progress.as_ref()),
            |b| {
                let p = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                let l = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
                let (p, l) = (p.as_string::<i32>(), l.as_string::<i32>());
                for i in 0..b.num_rows() {
                    if !p.is_null(i) && !l.is_null(i) {
                        on_row(p.value(i), l.value(i))?;
                        rows += 1;
                    }
                }
                Ok(())
            },
        )
        .await?;
        progress.finish();
    }
    if rows == 0 {
        return Err(PickError::Failed(format!("no rows in {}", dirs.join(", "))));
    }
    Ok(rows)
}

/// Python's `float()` of a label as `str()` wrote it.
fn python_float(s: &str) -> Option<f64> {
    match s {
        "True" => Some(1.0),
        "False" => Some(0.0),
        _ => s.trim().parse().ok(),
    }
}

/// Everything eval-calibration reports, as numbers.
#[derive(Debug, Serialize)]
pub struct CalibrationReport {
    pub total: usize,
    pub unique: Vec<String>,
    pub pred_range: (f64, f64),
    pub macro_auc: Option<f64>,
    pub weighted_auc: Option<f64>,
    pub ordinal_auc: Option<f64>,
    pub spearman: Option<(f64, Option<f64>)>,
    pub kendall: Option<(f64, Option<f64>)>,
    pub pearson: Option<(f64, Option<f64>)>,
    pub mse: f64,
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
    pub ece: f64,
    pub bins: Vec<pick_metrics::calibration::Bin>,
    /// label, count, mean, std (population), min, max, median
    pub per_class: Vec<(String, usize, f64, f64, f64, f64, f64)>,
    /// The charts written (`--plot`).
    pub plots: Vec<PathBuf>,
}

pub fn evaluate(pred: &[f64], y: &[usize], unique: Vec<String>, bins: usize) -> CalibrationReport {
    let k = unique.len();
    let yf: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let ranked = RankedByPrediction::new(pred, y, k);
    let mut aucs = Vec::new();
    let (mut weighted, mut weight) = (0.0, 0.0);
    for (t, auc) in ranked.threshold_aucs.iter().enumerate() {
        if let Some(a) = auc {
            let n_pos = ranked.class_sizes[t + 1..].iter().sum::<u64>() as f64;
            aucs.push(*a);
            weighted += a * n_pos;
            weight += n_pos;
        }
    }
    let ordinal: Vec<f64> = ranked.adjacent_aucs.iter().flatten().copied().collect();
    let target: Vec<f64> = if k > 1 {
        yf.iter().map(|v| v / (k - 1) as f64).collect()
    } else {
        yf.clone()
    };
    let err = errors(pred, &target).expect("rows");
    let (ece_value, bin_list) = ece(pred, &target, bins).unwrap_or((0.0, Vec::new()));
    let with_p = |r: Option<f64>, p: &dyn Fn(f64) -> Option<f64>| r.map(|r| (r, p(r)));
    let n = pred.len();
    let per_class = unique
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut v: Vec<f64> = y
                .iter()
                .zip(pred)
                .filter(|(c, _)| **c == i)
                .map(|(_, p)| *p)
                .collect();
            v.sort_by(f64::total_cmp);
            let m = mean(&v).unwrap_or(f64::NAN);
            let std = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            let median = if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
            };
            (label.clone(), v.len(), m, std, v[0], v[v.len() - 1], median)
        })
        .collect();
    CalibrationReport {
        total: n,
        pred_range: (
            pred.iter().copied().fold(f64::INFINITY, f64::min),
            pred.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ),
        macro_auc: mean(&aucs),
        weighted_auc: (weight > 0.0).then(|| weighted / weight),
        ordinal_auc: mean(&ordinal),
        spearman: with_p(pearson(&ranked.pred_ranks, &ranked.class_ranks(y)), &|r| {
            spearman_pvalue(r, n)
        }),
        kendall: with_p(kendall_tau_b(pred, &yf), &|t| kendall_pvalue(t, pred, &yf)),
        pearson: with_p(pearson(pred, &yf), &|r| pearson_pvalue(r, n)),
        mse: err.mse,
        rmse: err.rmse,
        mae: err.mae,
        r2: err.r2,
        ece: ece_value,
        bins: bin_list,
        per_class,
        unique,
        plots: Vec::new(),
    }
}

pub fn round6(v: f64) -> f64 {
    let r = (v * 1e6).round_ties_even() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

impl CalibrationReport {
    pub fn yaml(&self, args: &EvalCalibrationParams) -> Yaml {
        let corr = |c: Option<(f64, Option<f64>)>| {
            (Yaml::opt(c.map(|c| c.0)), Yaml::opt(c.and_then(|c| c.1)))
        };
        let (s, sp) = corr(self.spearman);
        let (k, kp) = corr(self.kendall);
        let (p, pp) = corr(self.pearson);
        Yaml::map([
            (
                "dataset_dirs",
                Yaml::List(args.datasets.iter().map(Yaml::str).collect()),
            ),
            ("prediction_expression", Yaml::str(&args.prediction)),
            ("label_expression", Yaml::str(&args.label)),
            ("total_samples", Yaml::Int(self.total as i64)),
            ("num_classes", Yaml::Int(self.unique.len() as i64)),
            (
                "unique_labels",
                Yaml::List(self.unique.iter().map(Yaml::str).collect()),
            ),
            (
                "prediction_range",
                Yaml::map([
                    ("min", Yaml::Float(self.pred_range.0)),
                    ("max", Yaml::Float(self.pred_range.1)),
                ]),
            ),
            (
                "auc_metrics",
                Yaml::map([
                    ("macro_auc", Yaml::opt(self.macro_auc)),
                    ("weighted_auc", Yaml::opt(self.weighted_auc)),
                    ("ordinal_auc", Yaml::opt(self.ordinal_auc)),
                ]),
            ),
            (
                "correlation_metrics",
                Yaml::map([
                    ("spearman_correlation", s),
                    ("spearman_pvalue", sp),
                    ("kendall_tau_b", k),
                    ("kendall_pvalue", kp),
                    ("pearson_correlation", p),
                    ("pearson_pvalue", pp),
                ]),
            ),
            (
                "regression_metrics",
                Yaml::map([
                    ("mse", Yaml::Float(self.mse)),
                    ("rmse", Yaml::Float(self.rmse)),
                    ("mae", Yaml::Float(self.mae)),
                    ("r_squared", Yaml::Float(self.r2)),
                ]),
            ),
            (
                "calibration",
                Yaml::map([
                    ("expected_calibration_error", Yaml::Float(self.ece)),
                    (
                        "bins",
                        Yaml::List(
                            self.bins
                                .iter()
                                .map(|b| {
                                    Yaml::map([
                                        ("bin_start", Yaml::Float(b.start)),
                                        ("bin_end", Yaml::Float(b.end)),
                                        ("mean_prediction", Yaml::Float(b.mean_prediction)),
                                        ("mean_label", Yaml::Float(b.mean_label)),
                                        ("count", Yaml::Int(b.count as i64)),
                                        (
                                            "calibration_error",
                                            Yaml::Float((b.mean_prediction - b.mean_label).abs()),
                                        ),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ]),
            ),
            (
                "per_class_metrics",
                Yaml::List(
                    self.per_class
                        .iter()
                        .map(|(l, n, m, s, lo, hi, med)| {
                            Yaml::map([
                                ("label", Yaml::str(l)),
                                ("count", Yaml::Int(*n as i64)),
                                ("mean_prediction", Yaml::Float(round6(*m))),
                                ("std_prediction", Yaml::Float(round6(*s))),
                                ("min_prediction", Yaml::Float(round6(*lo))),
                                ("max_prediction", Yaml::Float(round6(*hi))),
                                ("median_prediction", Yaml::Float(round6(*med))),
                            ])
                        })
                        .collect(),
                ),
            ),
        ])
    }
}

pub async fn eval(
    args: &EvalCalibrationParams,
    observer: &dyn Observer,
) -> Result<CalibrationReport> {
    check_jq("-p", &args.prediction)?;
    check_jq("-l", &args.label)?;
    if args.bins == 0 {
        return Err(usage("--num-calibration-bins must be at least 1"));
    }
    let mut pred = Vec::new();
    let mut label_ids: Vec<u32> = Vec::new();
    let mut labels = Interned::default();
    load(
        &args.datasets,
        &args.read,
        args.partitions,
        &args.prediction,
        true,
        &args.label,
        observer,
        |p, l| {
            let v = python_float(p).ok_or_else(|| {
                PickError::Failed(format!("the prediction `{p}` (label {l}) is not a number"))
            })?;
            pred.push(v);
            label_ids.push(labels.id(l));
            Ok(())
        },
    )
    .await?;
    let (unique, rank) = ranks(&labels.names);
    let y: Vec<usize> = label_ids.iter().map(|&i| rank[i as usize]).collect();
    if pred.iter().any(|p| !(0.0..=1.0).contains(p)) {
        observer.note("warning: some predictions are outside [0, 1]");
    }
    let mut report = evaluate(&pred, &y, unique, args.bins);
    if let Some(dir) = &args.plot {
        report.plots = crate::pipelines::plots::calibration(dir, &report.bins, &pred, args.bins)?;
    }
    if let Some(out) = &args.output {
        write_file(out, report.yaml(args).to_text().as_bytes())?;
    }
    Ok(report)
}

/// bonepick's jq for a fit (§6.4), with the linear map clamped to [0, 1] as the fit was (B21).
pub fn fit_jq(source: &str, names: &[String], fit: &Fit, model: ModelType) -> String {
    let num = |v: f64| {
        if v < 0.0 {
            format!("({v:.6})")
        } else {
            format!("{v:.6}")
        }
    };
    let mut terms: Vec<String> = names
        .iter()
        .zip(&fit.weights)
        .map(|(n, w)| format!("(.{} * {})", serde_json::Value::String(n.clone()), num(*w)))
        .collect();
    terms.push(num(fit.bias));
    let sum = format!("({})", terms.join(" + "));
    match model {
        ModelType::Linear => {
            format!("{source} | {sum} | if . < 0 then 0 elif . > 1 then 1 else . end")
        }
        ModelType::LogLinear => format!("{source} | (1 / (1 + ((-1 * {sum}) | exp)))"),
    }
}

pub async fn train(args: &TrainCalibrationParams, observer: &dyn Observer) -> Result<FitReport> {
    check_jq("-p", &args.prediction)?;
    check_jq("-l", &args.label)?;
    let mut objects = Vec::new();
    let mut names = BTreeSet::new();
    let mut label_ids: Vec<u32> = Vec::new();
    let mut labels = Interned::default();
    load(
        &args.datasets,
        &args.read,
        args.partitions,
        &args.prediction,
        false,
        &args.label,
        observer,
        |p, l| {
            let v: serde_json::Value = serde_json::from_str(p)
                .map_err(|e| PickError::Failed(format!("prediction `{p}`: {e}")))?;
            let serde_json::Value::Object(map) = v else {
                return Err(PickError::Failed(format!(
                    "the prediction expression gave `{p}`, not an object of numbers"
                )));
            };
            let mut comps = Vec::with_capacity(map.len());
            for (k, v) in map {
                let x = v.as_f64().filter(|_| v.is_number()).ok_or_else(|| {
                    PickError::Failed(format!("component `{k}` is `{v}`, not a number"))
                })?;
                names.insert(k.clone());
                comps.push((k, x));
            }
            objects.push(comps);
            label_ids.push(labels.id(l));
            Ok(())
        },
    )
    .await?;
    let names: Vec<String> = names.into_iter().collect();
    // A row without one of the components fits as if it were 0.0; say how many rows that is.
    let incomplete = objects.iter().filter(|c| c.len() < names.len()).count();
    if incomplete > 0 {
        observer.note(&format!(
            "warning: {incomplete} of {} rows lack one or more of the components {}; \
             a missing component counts as 0",
            objects.len(),
            names.join(", ")
        ));
    }
    let x: Vec<Vec<f64>> = objects
        .iter()
        .map(|comps| {
            names
                .iter()
                .map(|n| comps.iter().find(|(k, _)| k == n).map_or(0.0, |c| c.1))
                .collect()
        })
        .collect();
    let (unique, rank) = ranks(&labels.names);
    let y: Vec<usize> = label_ids.iter().map(|&i| rank[i as usize]).collect();
    let k = unique.len();
    let target: Vec<f64> = y
        .iter()
        .map(|&v| {
            if k > 1 {
                v as f64 / (k - 1) as f64
            } else {
                v as f64
            }
        })
        .collect();
    let fit = match args.model {
        ModelType::Linear => fit_linear(&x, &target),
        ModelType::LogLinear => fit_log_linear(&x, &target),
    };
    let err = errors(&fit.fitted, &target).expect("rows");
    let expr = fit_jq(args.prediction.trim(), &names, &fit, args.model);
    Program::compile(&expr).map_err(|e| {
        PickError::Failed(format!("the generated expression does not compile: {e}"))
    })?;
    if let Some(out) = &args.output {
        let doc = Yaml::map([
            (
                "dataset_dirs",
                Yaml::List(args.datasets.iter().map(Yaml::str).collect()),
            ),
            ("prediction_expression", Yaml::str(&args.prediction)),
            ("label_expression", Yaml::str(&args.label)),
            (
                "model_type",
                Yaml::str(match args.model {
                    ModelType::Linear => "linear",
                    ModelType::LogLinear => "log-linear",
                }),
            ),
            ("total_samples", Yaml::Int(x.len() as i64)),
            (
                "component_names",
                Yaml::List(names.iter().map(Yaml::str).collect()),
            ),
            (
                "unique_labels",
                Yaml::List(unique.iter().map(Yaml::str).collect()),
            ),
            (
                "weights",
                Yaml::Map(
                    names
                        .iter()
                        .zip(&fit.weights)
                        .map(|(n, w)| (n.clone(), Yaml::Float(round6(*w))))
                        .collect(),
                ),
            ),
            ("bias", Yaml::Float(round6(fit.bias))),
            (
                "fit_metrics",
                Yaml::map([
                    ("r_squared", Yaml::Float(round6(err.r2))),
                    ("rmse", Yaml::Float(round6(err.rmse))),
                    ("mae", Yaml::Float(round6(err.mae))),
                    ("mse", Yaml::Float(round6(err.mse))),
                ]),
            ),
            ("jq_expression", Yaml::str(&expr)),
        ]);
        write_file(out, doc.to_text().as_bytes())?;
    }
    Ok(FitReport {
        incomplete_rows: incomplete,
        model: args.model,
        samples: x.len(),
        names,
        unique,
        fit,
        errors: err,
        expression: expr,
    })
}

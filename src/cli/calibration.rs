//! `pick eval-calibration` (bonepick §6.2) and `pick train-calibration` (§6.3): how well a
//! scalar prediction orders and calibrates against ordinal gold labels, and a linear or
//! log-linear map from prediction components to gold. Rows are read with SQL (`label()` and
//! `jq()` over `_json`); the metrics are pick-udfs' kernels.

use std::collections::BTreeSet;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use clap::{Args, ValueEnum};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use pick_udfs::jq::Program;
use pick_udfs::metrics::agreement::label_order;
use pick_udfs::metrics::calibration::ece;
use pick_udfs::metrics::correlation::{kendall_tau_b, pearson};
use pick_udfs::metrics::regression::errors;
use pick_udfs::metrics::significance::{kendall_pvalue, pearson_pvalue, spearman_pvalue};

use crate::cli::ReadArgs;
use crate::cli::flags::usage;
use crate::cli::interned::Interned;
use crate::cli::normalize::{required_jq, required_label};
use crate::dataset::Dataset;
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::thousands;
use crate::yaml::Yaml;

#[derive(Debug, Args)]
pub struct EvalCalibrationArgs {
    /// Dataset with predictions and gold labels; repeat for several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// jq expression for the prediction (a number, expected in [0, 1]).
    #[arg(short = 'p', long = "prediction-expression", value_name = "JQ")]
    pub prediction: String,

    /// jq expression for the gold label (ordinal: numbers or sortable strings).
    #[arg(short = 'l', long = "label-expression", value_name = "JQ")]
    pub label: String,

    /// Write the results as YAML here.
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[arg(long = "num-calibration-bins", default_value_t = 10, value_name = "N")]
    pub bins: usize,

    /// Threads (0 = all cores).
    #[arg(long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Show the calibration table (default).
    #[arg(long = "show-calibration", overrides_with = "no_calibration")]
    pub show_calibration: bool,
    #[arg(long = "no-calibration")]
    pub no_calibration: bool,

    /// Show the per-class prediction bars (default).
    #[arg(long = "show-histogram", overrides_with = "no_histogram")]
    pub show_histogram: bool,
    #[arg(long = "no-histogram")]
    pub no_histogram: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelType {
    Linear,
    #[value(name = "log-linear")]
    LogLinear,
}

#[derive(Debug, Args)]
pub struct TrainCalibrationArgs {
    /// Dataset with prediction components and gold labels; repeat for several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// jq expression for the prediction components (an object of numbers).
    #[arg(short = 'p', long = "prediction-expression", value_name = "JQ")]
    pub prediction: String,

    /// jq expression for the gold label.
    #[arg(short = 'l', long = "label-expression", value_name = "JQ")]
    pub label: String,

    #[arg(short = 'm', long = "model-type", value_enum, default_value_t = ModelType::Linear)]
    pub model: ModelType,

    /// Write the fit as YAML here.
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Threads (0 = all cores).
    #[arg(long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// Calls `on_row(prediction, label)` for every row of every dataset, in dataset, file and row
/// order, streaming shard by shard: the label as Python's `str()`, the prediction too
/// (`as_label`) or as JSON text. Returns the number of rows.
async fn load(
    dirs: &[String],
    read: &ReadArgs,
    partitions: usize,
    prediction: &str,
    as_label: bool,
    label: &str,
    mut on_row: impl FnMut(&str, &str) -> Result<()>,
) -> Result<usize> {
    let mut rows = 0;
    for dir in dirs {
        let dataset = Dataset::open(dir, read.options())?;
        let p = if as_label {
            required_label(&dataset, prediction, "prediction")
        } else {
            required_jq(&dataset, prediction, "prediction")
        };
        let l = required_label(&dataset, label, "label");
        let sql = format!("SELECT {p} AS p, {l} AS l FROM t ORDER BY _row");
        for shard in &dataset.shards {
            let engine = Engine::new(dataset.options.clone(), partitions);
            engine.register_dataset("t", dataset.subset(vec![std::sync::Arc::clone(shard)]))?;
            let mut stream = engine.sql(&sql).await?.execute_stream().await?;
            while let Some(b) = futures::TryStreamExt::try_next(&mut stream).await? {
                let p = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                let l = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
                let (p, l) = (p.as_string::<i32>(), l.as_string::<i32>());
                for i in 0..b.num_rows() {
                    if !p.is_null(i) && !l.is_null(i) {
                        on_row(p.value(i), l.value(i))?;
                        rows += 1;
                    }
                }
            }
        }
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

/// The distinct labels in order (numbers numerically; `3` and `3.0` are one) and the rank of
/// each interned label among them.
fn ranks(names: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut unique: Vec<String> = names.to_vec();
    unique.sort_by(|a, b| label_order(a, b).then_with(|| a.cmp(b)));
    unique.dedup_by(|b, a| label_order(a, b) == std::cmp::Ordering::Equal);
    let rank = names
        .iter()
        .map(|l| unique.partition_point(|u| label_order(u, l) == std::cmp::Ordering::Less))
        .collect();
    (unique, rank)
}

/// Everything eval-calibration reports, as numbers.
#[derive(Debug)]
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
    pub bins: Vec<pick_udfs::metrics::calibration::Bin>,
    /// label, count, mean, std (population), min, max, median
    pub per_class: Vec<(String, usize, f64, f64, f64, f64, f64)>,
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
    }
}

/// Every AUC eval-calibration reports, from one sort of the predictions: Mann-Whitney U with
/// ties counting ½, accumulated over groups of equal predictions with per-class counts
/// (O(n log n + n·K) instead of a sort per threshold).
struct RankedByPrediction {
    class_sizes: Vec<u64>,
    /// AUC of `gold ≥ t` against the rest, t = 1..K−1.
    threshold_aucs: Vec<Option<f64>>,
    /// AUC of grade t+1 against grade t among those two, t = 0..K−2.
    adjacent_aucs: Vec<Option<f64>>,
    /// Average ranks (1-based) of the predictions, as scipy's `rankdata`.
    pred_ranks: Vec<f64>,
}

impl RankedByPrediction {
    fn new(pred: &[f64], y: &[usize], k: usize) -> RankedByPrediction {
        let n = pred.len();
        let mut order: Vec<(f64, u32)> = pred
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u32))
            .collect();
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut sizes = vec![0u64; k];
        for &c in y {
            sizes[c] += 1;
        }
        let mut below = vec![0u64; k];
        let mut group = vec![0u64; k];
        let mut u_threshold = vec![0.0f64; k];
        let mut u_adjacent = vec![0.0f64; k];
        let mut pred_ranks = vec![0.0; n];
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && order[j + 1].0 == order[i].0 {
                j += 1;
            }
            group.iter_mut().for_each(|g| *g = 0);
            let rank = (i + j) as f64 / 2.0 + 1.0;
            for &(_, idx) in &order[i..=j] {
                group[y[idx as usize]] += 1;
                pred_ranks[idx as usize] = rank;
            }
            // Positives `≥ t` above negatives `< t`: below + half the ties.
            let (mut neg_below, mut neg_tied) = (0u64, 0u64);
            let mut pos_here: u64 = group.iter().sum();
            for t in 1..k {
                neg_below += below[t - 1];
                neg_tied += group[t - 1];
                pos_here -= group[t - 1];
                u_threshold[t] += pos_here as f64 * (neg_below as f64 + 0.5 * neg_tied as f64);
            }
            for t in 0..k.saturating_sub(1) {
                u_adjacent[t] += group[t + 1] as f64 * (below[t] as f64 + 0.5 * group[t] as f64);
            }
            for c in 0..k {
                below[c] += group[c];
            }
            i = j + 1;
        }
        let auc = |u: f64, pos: u64, neg: u64| {
            (pos > 0 && neg > 0).then(|| u / (pos as f64 * neg as f64))
        };
        RankedByPrediction {
            threshold_aucs: (1..k)
                .map(|t| {
                    let pos: u64 = sizes[t..].iter().sum();
                    auc(u_threshold[t], pos, n as u64 - pos)
                })
                .collect(),
            adjacent_aucs: (0..k.saturating_sub(1))
                .map(|t| auc(u_adjacent[t], sizes[t + 1], sizes[t]))
                .collect(),
            class_sizes: sizes,
            pred_ranks,
        }
    }

    /// Average ranks of the gold grades (a grade's rows share the middle of its run).
    fn class_ranks(&self, y: &[usize]) -> Vec<f64> {
        let mut start = 0u64;
        let mut rank = Vec::with_capacity(self.class_sizes.len());
        for &size in &self.class_sizes {
            rank.push(if size == 0 {
                0.0
            } else {
                (2 * start + size - 1) as f64 / 2.0 + 1.0
            });
            start += size;
        }
        y.iter().map(|&c| rank[c]).collect()
    }
}

fn round6(v: f64) -> f64 {
    let r = (v * 1e6).round_ties_even() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

impl CalibrationReport {
    fn yaml(&self, args: &EvalCalibrationArgs) -> Yaml {
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

    fn print(&self, show_histogram: bool, show_calibration: bool) {
        let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        let corr = |c: Option<(f64, Option<f64>)>| match c {
            Some((r, Some(p))) => format!("{r:.4} (p={p:.2e})"),
            Some((r, None)) => format!("{r:.4}"),
            None => "n/a".into(),
        };
        println!("Overall Metrics");
        println!(
            "  Samples: {}   Classes: {}",
            thousands(self.total as i64),
            self.unique.len()
        );
        for (name, v) in [
            ("Macro AUC", self.macro_auc),
            ("Weighted AUC", self.weighted_auc),
            ("Ordinal AUC", self.ordinal_auc),
        ] {
            if v.is_some() {
                println!("  {name}: {}", opt(v));
            }
        }
        println!("  Spearman: {}", corr(self.spearman));
        println!("  Kendall tau-b: {}", corr(self.kendall));
        println!("  Pearson: {}", corr(self.pearson));
        println!(
            "  MSE: {:.4}   RMSE: {:.4}   MAE: {:.4}   R²: {:.4}",
            self.mse, self.rmse, self.mae, self.r2
        );
        println!("  ECE: {:.4}\n", self.ece);
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "Label", "Count", "Mean", "Std", "Min", "Max", "Median",
        ]);
        for (l, n, m, s, lo, hi, med) in &self.per_class {
            t.add_row(vec![
                l.clone(),
                thousands(*n as i64),
                format!("{m:.4}"),
                format!("{s:.4}"),
                format!("{lo:.4}"),
                format!("{hi:.4}"),
                format!("{med:.4}"),
            ]);
        }
        for i in 1..7 {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        println!("Per-Class Prediction Statistics\n{t}\n");
        if show_histogram {
            println!("Prediction Distribution by Class");
            for (l, _, m, s, ..) in &self.per_class {
                let mut cells = [' '; 51];
                let lo = (((m - s) * 50.0) as i64).clamp(0, 50) as usize;
                let hi = (((m + s) * 50.0) as i64).clamp(0, 50) as usize;
                for c in cells.iter_mut().take(hi + 1).skip(lo) {
                    *c = '-';
                }
                cells[((m * 50.0) as i64).clamp(0, 50) as usize] = '|';
                println!("  {l:>12} 0[{}]1", cells.iter().collect::<String>());
            }
            println!();
        }
        if show_calibration {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
                "Bin",
                "Count",
                "Mean pred",
                "Mean label",
                "Error",
                "",
            ]);
            for b in &self.bins {
                let mut strip = [' '; 21];
                let at = |v: f64| ((v * 20.0) as i64).clamp(0, 20) as usize;
                let (p, l) = (at(b.mean_prediction), at(b.mean_label));
                for c in strip.iter_mut().take(p.max(l) + 1).skip(p.min(l)) {
                    *c = '=';
                }
                strip[l] = 'L';
                strip[p] = if p == l { '=' } else { 'P' };
                t.add_row(vec![
                    format!("[{:.2}, {:.2})", b.start, b.end),
                    thousands(b.count as i64),
                    format!("{:.4}", b.mean_prediction),
                    format!("{:.4}", b.mean_label),
                    format!("{:.4}", (b.mean_prediction - b.mean_label).abs()),
                    strip.iter().collect(),
                ]);
            }
            println!("Calibration (ECE {:.4})\n{t}", self.ece);
        }
    }
}

pub async fn eval(args: EvalCalibrationArgs, quiet: bool) -> Result<()> {
    for (flag, e) in [("-p", &args.prediction), ("-l", &args.label)] {
        Program::compile(e).map_err(|e| usage(format!("{flag}: {e}")))?;
    }
    if args.bins == 0 {
        return Err(usage("--num-calibration-bins must be at least 1"));
    }
    let mut pred = Vec::new();
    let mut label_ids: Vec<u32> = Vec::new();
    let mut labels = Interned::default();
    load(
        &args.datasets,
        &args.read,
        args.num_proc,
        &args.prediction,
        true,
        &args.label,
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
    if !quiet && pred.iter().any(|p| !(0.0..=1.0).contains(p)) {
        eprintln!("warning: some predictions are outside [0, 1]");
    }
    let report = evaluate(&pred, &y, unique, args.bins);
    report.print(!args.no_histogram, !args.no_calibration);
    if let Some(out) = &args.output {
        write_yaml(out, &report.yaml(&args))?;
        if !quiet {
            eprintln!("results written to {}", out.display());
        }
    }
    Ok(())
}

fn write_yaml(path: &std::path::Path, doc: &Yaml) -> Result<()> {
    let (pending, mut file) = crate::dataset::sink::PendingFile::create(path)?;
    std::io::Write::write_all(&mut file, doc.to_text().as_bytes())
        .map_err(|e| PickError::io(path, e))?;
    pending.commit()
}

/// A fitted calibration: weights per component (sorted names), bias, fitted values.
#[derive(Debug)]
pub struct Fit {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub fitted: Vec<f64>,
}

/// scikit-learn's `Ridge(alpha=0.01)` with an intercept: the normal equations on centred data;
/// fitted values clipped to [0, 1].
pub fn fit_linear(x: &[Vec<f64>], y: &[f64]) -> Fit {
    let (n, d) = (x.len(), x.first().map_or(0, Vec::len));
    let xm: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let ym = y.iter().sum::<f64>() / n as f64;
    let mut a = vec![vec![0.0; d]; d];
    let mut b = vec![0.0; d];
    for (row, &t) in x.iter().zip(y) {
        for i in 0..d {
            let xi = row[i] - xm[i];
            b[i] += xi * (t - ym);
            for j in 0..d {
                a[i][j] += xi * (row[j] - xm[j]);
            }
        }
    }
    for (i, r) in a.iter_mut().enumerate() {
        r[i] += 0.01;
    }
    let w = solve(a, b);
    let bias = ym - w.iter().zip(&xm).map(|(w, m)| w * m).sum::<f64>();
    let fitted = x
        .iter()
        .map(|r| (dot(&w, r) + bias).clamp(0.0, 1.0))
        .collect();
    Fit {
        weights: w,
        bias,
        fitted,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Gaussian elimination with partial pivoting (the system is small and positive definite).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let d = b.len();
    for col in 0..d {
        let piv = (col..d)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col].clone();
        for r in col + 1..d {
            let f = a[r][col] / pivot_row[col];
            for (x, p) in a[r][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; d];
    for r in (0..d).rev() {
        x[r] = (b[r] - (r + 1..d).map(|c| a[r][c] * x[c]).sum::<f64>()) / a[r][r];
    }
    x
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `mean((sigmoid(Xw + b) − y)²)` minimised from zeros by L-BFGS with the exact gradient.
pub fn fit_log_linear(x: &[Vec<f64>], y: &[f64]) -> Fit {
    let d = x.first().map_or(0, Vec::len);
    let n = x.len() as f64;
    // θ = (w, b)
    let loss_grad = |theta: &[f64]| -> (f64, Vec<f64>) {
        let mut g = vec![0.0; d + 1];
        let mut loss = 0.0;
        for (row, &t) in x.iter().zip(y) {
            let s = sigmoid(dot(&theta[..d], row) + theta[d]);
            let e = s - t;
            loss += e * e;
            let k = 2.0 * e * s * (1.0 - s) / n;
            for j in 0..d {
                g[j] += k * row[j];
            }
            g[d] += k;
        }
        (loss / n, g)
    };
    let theta = lbfgs(vec![0.0; d + 1], loss_grad, 500);
    let fitted = x
        .iter()
        .map(|r| sigmoid(dot(&theta[..d], r) + theta[d]))
        .collect();
    Fit {
        weights: theta[..d].to_vec(),
        bias: theta[d],
        fitted,
    }
}

/// Limited-memory BFGS (two-loop recursion, 10 pairs) with a backtracking Armijo line search.
fn lbfgs(mut x: Vec<f64>, f: impl Fn(&[f64]) -> (f64, Vec<f64>), iters: usize) -> Vec<f64> {
    const M: usize = 10;
    let (mut fx, mut g) = f(&x);
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for _ in 0..iters {
        if g.iter().map(|v| v.abs()).fold(0.0, f64::max) < 1e-10 {
            break;
        }
        // Two-loop recursion: direction = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, yv, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(yv).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        if let Some((s, yv, _)) = hist.back() {
            let gamma = dot(s, yv) / dot(yv, yv);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, yv, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(yv, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += s * (a - b));
        }
        let dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &dir);
        if slope >= 0.0 {
            hist.clear();
            continue;
        }
        let mut step = 1.0;
        let (mut nx, mut nf, mut ng);
        loop {
            nx = x
                .iter()
                .zip(&dir)
                .map(|(x, d)| x + step * d)
                .collect::<Vec<_>>();
            (nf, ng) = f(&nx);
            if nf <= fx + 1e-4 * step * slope || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        let s: Vec<f64> = nx.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = ng.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &yv);
        let done = (fx - nf).abs() <= 1e-15 * fx.abs().max(1e-300);
        (x, fx, g) = (nx, nf, ng);
        if sy > 1e-300 {
            hist.push_back((s, yv, 1.0 / sy));
            if hist.len() > M {
                hist.pop_front();
            }
        }
        if done {
            break;
        }
    }
    x
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

pub async fn train(args: TrainCalibrationArgs, quiet: bool) -> Result<()> {
    for (flag, e) in [("-p", &args.prediction), ("-l", &args.label)] {
        Program::compile(e).map_err(|e| usage(format!("{flag}: {e}")))?;
    }
    let mut objects = Vec::new();
    let mut names = BTreeSet::new();
    let mut label_ids: Vec<u32> = Vec::new();
    let mut labels = Interned::default();
    load(
        &args.datasets,
        &args.read,
        args.num_proc,
        &args.prediction,
        false,
        &args.label,
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
    println!(
        "Fit ({})",
        match args.model {
            ModelType::Linear => "linear",
            ModelType::LogLinear => "log-linear",
        }
    );
    println!(
        "  Samples: {}   R²: {:.4}   RMSE: {:.4}   MAE: {:.4}   MSE: {:.4}\n",
        thousands(x.len() as i64),
        err.r2,
        err.rmse,
        err.mae,
        err.mse
    );
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| fit.weights[b].abs().total_cmp(&fit.weights[a].abs()));
    let top = fit.weights.iter().map(|w| w.abs()).fold(0.0, f64::max);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["Component", "Weight", ""]);
    for i in order {
        let w = fit.weights[i];
        let len = if top > 0.0 {
            (w.abs() / top * 20.0) as usize
        } else {
            0
        };
        t.add_row(vec![
            names[i].clone(),
            format!("{w:.6}"),
            (if w < 0.0 { "-" } else { "+" }).repeat(len),
        ]);
    }
    t.add_row(vec![
        "(bias)".to_string(),
        format!("{:.6}", fit.bias),
        String::new(),
    ]);
    println!("{t}\n\njq expression:\n{expr}");
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
        write_yaml(out, &doc)?;
        if !quiet {
            eprintln!("fit written to {}", out.display());
        }
    }
    Ok(())
}

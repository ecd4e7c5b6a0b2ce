//! `--plot DIR`: the charts of the evaluation and data commands, built from their results
//! and written by pick-plot as PNG and SVG.

use std::path::{Path, PathBuf};

use pick_metrics::ranking::{precision_recall_curve, roc_curve};
use pick_plot::{Bars, Body, Chart, Curve};

use crate::error::{PickError, Result};

fn write(dir: &Path, charts: &[Chart]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for chart in charts {
        written.extend(pick_plot::write(dir, chart).map_err(|e| PickError::Failed(e.to_string()))?);
    }
    Ok(written)
}

/// A classifier's ROC and precision–recall curves per class (one-vs-rest) and its confusion
/// matrix (gold rows, predicted columns: the class of highest probability).
pub fn classification(
    dir: &Path,
    classes: &[String],
    gold: &[Vec<&str>],
    probs: &[Vec<f64>],
) -> Result<Vec<PathBuf>> {
    let mut roc = Vec::new();
    let mut pr = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        let scores: Vec<f64> = probs.iter().map(|p| p[k]).collect();
        let positive: Vec<bool> = gold.iter().map(|g| g.contains(&class.as_str())).collect();
        let name = class.strip_prefix("__label__").unwrap_or(class).to_string();
        roc.push(Curve {
            name: name.clone(),
            points: roc_curve(&scores, &positive),
        });
        pr.push(Curve {
            name,
            points: precision_recall_curve(&scores, &positive),
        });
    }
    let short: Vec<String> = classes
        .iter()
        .map(|c| c.strip_prefix("__label__").unwrap_or(c).to_string())
        .collect();
    let mut cells = vec![vec![0f64; classes.len()]; classes.len()];
    for (g, p) in gold.iter().zip(probs) {
        let predicted = (0..p.len()).fold(0, |best, k| if p[k] > p[best] { k } else { best });
        for label in g {
            if let Some(row) = classes.iter().position(|c| c == label) {
                cells[row][predicted] += 1.0;
            }
        }
    }
    let unit = |curves, diagonal| Body::Lines {
        curves,
        x: (0.0, 1.0),
        y: (0.0, 1.0),
        diagonal,
    };
    write(
        dir,
        &[
            Chart {
                name: "roc".into(),
                title: "ROC curve per class".into(),
                x_label: "false positive rate".into(),
                y_label: "true positive rate".into(),
                body: unit(roc, true),
            },
            Chart {
                name: "precision_recall".into(),
                title: "Precision-recall curve per class".into(),
                x_label: "recall".into(),
                y_label: "precision".into(),
                body: unit(pr, false),
            },
            Chart {
                name: "confusion".into(),
                title: "Confusion matrix".into(),
                x_label: "predicted".into(),
                y_label: "gold".into(),
                body: Body::Grid {
                    rows: short.clone(),
                    cols: short,
                    cells,
                },
            },
        ],
    )
}

/// The calibration curve (mean label against mean prediction per bin) over a histogram of
/// the predictions.
pub fn calibration(
    dir: &Path,
    bins: &[pick_metrics::calibration::Bin],
    pred: &[f64],
    bin_count: usize,
) -> Result<Vec<PathBuf>> {
    let points = bins
        .iter()
        .map(|b| (b.mean_prediction, b.mean_label))
        .collect();
    write(
        dir,
        &[Chart {
            name: "calibration".into(),
            title: "Calibration".into(),
            x_label: "prediction".into(),
            y_label: "mean gold (scaled to [0, 1])".into(),
            body: Body::LinesOverBars {
                lines: Box::new(Body::Lines {
                    curves: vec![Curve {
                        name: "model".into(),
                        points,
                    }],
                    x: (0.0, 1.0),
                    y: (0.0, 1.0),
                    diagonal: true,
                }),
                bars: pick_plot::histogram_over(pred, 0.0, 1.0, bin_count.max(10)),
            },
        }],
    )
}

/// Rows per label (bars by name in the given order, or a histogram of numeric labels), and
/// a histogram of key lengths.
pub fn distribution(
    dir: &Path,
    labels: LabelBars,
    key_lengths: Option<&[(i64, u64)]>,
) -> Result<Vec<PathBuf>> {
    let bars = match labels {
        LabelBars::Named(counts) => Bars {
            categories: counts.iter().map(|(n, _)| n.clone()).collect(),
            edges: Vec::new(),
            values: counts.iter().map(|(_, c)| *c as f64).collect(),
        },
        LabelBars::Numbers(counts) => {
            let (lo, hi) = pick_plot::extent(counts.iter().map(|c| c.0));
            pick_plot::weighted_histogram(counts.iter().map(|&(v, n)| (v, n as f64)), lo, hi, 20)
        }
    };
    let mut charts = vec![Chart {
        name: "labels".into(),
        title: "Rows per label".into(),
        x_label: "label".into(),
        y_label: "rows".into(),
        body: Body::Bars(bars),
    }];
    if let Some(lengths) = key_lengths {
        let (lo, hi) = pick_plot::extent(lengths.iter().map(|l| l.0 as f64));
        charts.push(Chart {
            name: "key_lengths".into(),
            title: "Key length".into(),
            x_label: "characters".into(),
            y_label: "rows".into(),
            body: Body::Bars(pick_plot::weighted_histogram(
                lengths.iter().map(|&(l, n)| (l as f64, n as f64)),
                lo,
                hi,
                30,
            )),
        });
    }
    write(dir, &charts)
}

/// Labels to draw: named bars, or numbers for a histogram.
pub enum LabelBars {
    Named(Vec<(String, u64)>),
    Numbers(Vec<(f64, u64)>),
}

/// Two annotation runs' agreement: the confusion heatmap of their labels and, for ordinal
/// labels, a histogram of their differences. `suffix` tells pairs apart.
pub fn agreement(
    dir: &Path,
    suffix: &str,
    labels: &[String],
    cells: Vec<Vec<f64>>,
    differences: Option<&[f64]>,
) -> Result<Vec<PathBuf>> {
    let mut charts = vec![Chart {
        name: format!("agreement{suffix}"),
        title: "Agreement between annotation runs".into(),
        x_label: "second run".into(),
        y_label: "first run".into(),
        body: Body::Grid {
            rows: labels.to_vec(),
            cols: labels.to_vec(),
            cells,
        },
    }];
    if let Some(d) = differences {
        let (lo, hi) = pick_plot::extent(d.iter().copied());
        // One bin per whole step of difference, centred on it.
        let bins = ((hi - lo).round() as usize + 1).clamp(1, 60);
        charts.push(Chart {
            name: format!("differences{suffix}"),
            title: "Label differences (second run - first)".into(),
            x_label: "difference".into(),
            y_label: "rows".into(),
            body: Body::Bars(pick_plot::histogram_over(d, lo - 0.5, hi + 0.5, bins)),
        });
    }
    write(dir, &charts)
}

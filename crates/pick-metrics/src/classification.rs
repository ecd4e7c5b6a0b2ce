//! Per-class precision, recall, F1 and support of predicted labels against gold labels.

use std::collections::HashMap;

use super::agreement::label_order;

/// One class's tallies: rows predicted as it and right, rows predicted as it, rows of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positives: u64,
    pub predicted: u64,
    pub support: u64,
}

impl Counts {
    /// Precision, recall and F1, each 0.0 where undefined (scikit-learn's `zero_division=0`).
    /// The one place pick computes them: the SQL aggregates and eval-fasttext both come here.
    pub fn precision_recall_f1(&self) -> (f64, f64, f64) {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.true_positives, self.predicted);
        let recall = ratio(self.true_positives, self.support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        (precision, recall, f1)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// scikit-learn's `precision_recall_fscore_support` over the sorted union of labels, with
/// undefined ratios reported as 0.0 (`zero_division=0`).
pub fn per_class(gold: &[&str], pred: &[&str]) -> Vec<ClassScores> {
    let mut labels: Vec<&str> = gold.iter().chain(pred).copied().collect();
    labels.sort_unstable();
    labels.dedup();
    labels.sort_by(|a, b| label_order(a, b));
    let index: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    let mut counts = vec![Counts::default(); labels.len()];
    for (g, p) in gold.iter().zip(pred) {
        let (gi, pi) = (index[g], index[p]);
        counts[gi].support += 1;
        counts[pi].predicted += 1;
        if gi == pi {
            counts[gi].true_positives += 1;
        }
    }
    labels
        .into_iter()
        .zip(counts)
        .map(|(label, c)| {
            let (precision, recall, f1) = c.precision_recall_f1();
            ClassScores {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support: c.support,
            }
        })
        .collect()
}

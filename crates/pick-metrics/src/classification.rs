//! Per-class precision, recall, F1 and support of predicted labels against gold labels.

use super::agreement::Confusion;

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
    per_class_of(&Confusion::from_pairs(
        gold.iter().copied().zip(pred.iter().copied()),
    ))
}

/// [`per_class`] from a confusion matrix (gold labels are its rows, predictions its columns).
pub fn per_class_of(confusion: &Confusion) -> Vec<ClassScores> {
    let m = &confusion.matrix;
    confusion
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let c = Counts {
                true_positives: m[i][i],
                predicted: m.iter().map(|row| row[i]).sum(),
                support: m[i].iter().sum(),
            };
            let (precision, recall, f1) = c.precision_recall_f1();
            ClassScores {
                label: label.clone(),
                precision,
                recall,
                f1,
                support: c.support,
            }
        })
        .collect()
}

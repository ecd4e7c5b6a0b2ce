//! Per-class precision, recall, F1 and support of predicted labels against gold labels.

use std::collections::HashMap;

use super::agreement::label_order;

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
    // Per class: true positives, predicted, gold.
    let mut counts = vec![(0u64, 0u64, 0u64); labels.len()];
    for (g, p) in gold.iter().zip(pred) {
        let (gi, pi) = (index[g], index[p]);
        counts[gi].2 += 1;
        counts[pi].1 += 1;
        if gi == pi {
            counts[gi].0 += 1;
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    labels
        .into_iter()
        .zip(counts)
        .map(|(label, (tp, predicted, support))| {
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassScores {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect()
}

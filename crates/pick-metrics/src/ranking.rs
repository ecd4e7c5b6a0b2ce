//! Ranking metrics for a score against a binary label.

use super::average_ranks;

/// ROC AUC as the Mann–Whitney U statistic over average ranks (ties count ½), equal to
/// scikit-learn's `roc_auc_score`. `None` unless both classes are present.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    let ranks = average_ranks(scores);
    let rank_sum: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p)
        .map(|(r, _)| r)
        .sum();
    Some((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// The cumulative (true positives, false positives) above each distinct score threshold,
/// highest first: the points of the ROC and precision–recall curves.
pub fn threshold_counts(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if positive[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        points.push((tp, fp));
    }
    points
}

/// The ROC curve: (false positive rate, true positive rate) from (0, 0) to (1, 1). Empty
/// unless both classes are present.
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64)> {
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return Vec::new();
    }
    std::iter::once((0.0, 0.0))
        .chain(
            threshold_counts(scores, positive)
                .into_iter()
                .map(|(tp, fp)| (fp / n_neg, tp / n_pos)),
        )
        .collect()
}

/// The precision–recall curve: (recall, precision) at each threshold, highest first. Empty
/// without positives.
pub fn precision_recall_curve(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64)> {
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    if n_pos == 0.0 {
        return Vec::new();
    }
    threshold_counts(scores, positive)
        .into_iter()
        .map(|(tp, fp)| (tp / n_pos, tp / (tp + fp)))
        .collect()
}

/// Average precision as scikit-learn computes it: Σ (Rₖ − Rₖ₋₁)·Pₖ over distinct score
/// thresholds, highest first. `None` without positives.
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let curve = precision_recall_curve(scores, positive);
    if curve.is_empty() {
        return None;
    }
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    for (recall, precision) in curve {
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Some(ap)
}

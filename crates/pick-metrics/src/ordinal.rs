//! Scalar predictions against ordinal gold grades: the grades in order, and every AUC
//! eval-calibration reports from one sort of the predictions.

use crate::agreement::label_order;

/// The distinct labels in order (numbers numerically; `3` and `3.0` are one) and the rank of
/// each interned label among them.
pub fn ranks(names: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut unique: Vec<String> = names.to_vec();
    unique.sort_by(|a, b| label_order(a, b).then_with(|| a.cmp(b)));
    unique.dedup_by(|b, a| label_order(a, b) == std::cmp::Ordering::Equal);
    let rank = names
        .iter()
        .map(|l| unique.partition_point(|u| label_order(u, l) == std::cmp::Ordering::Less))
        .collect();
    (unique, rank)
}

/// Every AUC eval-calibration reports, from one sort of the predictions: Mann-Whitney U with
/// ties counting ½, accumulated over groups of equal predictions with per-class counts
/// (O(n log n + n·K) instead of a sort per threshold).
pub struct RankedByPrediction {
    pub class_sizes: Vec<u64>,
    /// AUC of `gold ≥ t` against the rest, t = 1..K−1.
    pub threshold_aucs: Vec<Option<f64>>,
    /// AUC of grade t+1 against grade t among those two, t = 0..K−2.
    pub adjacent_aucs: Vec<Option<f64>>,
    /// Average ranks (1-based) of the predictions, as scipy's `rankdata`.
    pub pred_ranks: Vec<f64>,
}

impl RankedByPrediction {
    pub fn new(pred: &[f64], y: &[usize], k: usize) -> RankedByPrediction {
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
    pub fn class_ranks(&self, y: &[usize]) -> Vec<f64> {
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

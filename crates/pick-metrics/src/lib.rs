//! Metric kernels: plain functions over slices, O(n log n) at worst. Each returns `None`
//! where the metric is undefined (one class, zero variance, empty input) instead of NaN, so
//! callers decide what to print. Also the fits train-calibration makes, the statistics
//! label-distribution prints, and the seeded draws behind sampling and shuffles.
//!
//! No DataFusion and no Arrow: the SQL aggregates in `pick-udfs` and the pipelines in
//! `pick-engine` both call these.

pub mod agreement;
pub mod calibration;
pub mod classification;
pub mod correlation;
pub mod distribution;
pub mod fit;
pub mod interned;
pub mod ordinal;
pub mod ranking;
pub mod regression;
pub mod seeded;
pub mod significance;

#[cfg(test)]
mod fixtures;

/// Average ranks (1-based, ties share their mean rank), as scipy's `rankdata`.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Exact quantile with linear interpolation between order statistics (numpy's default).
/// `sorted` must be sorted ascending.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

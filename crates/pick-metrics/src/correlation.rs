//! Correlations: Pearson's r, Spearman's ρ, Kendall's τ-b.

use super::average_ranks;

/// Pearson's r (two-pass, centred). `None` for fewer than two points or zero variance.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Spearman's ρ: Pearson's r of average ranks (scipy's `spearmanr`).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall's τ-b in O(n log n) (Knight's algorithm, as scipy's `kendalltau`).
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mut pairs: Vec<(f64, f64)> = (0..n).map(|i| (x[i], y[i])).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let tied = |len: u64| len * len.saturating_sub(1) / 2;
    // Ties in x, and joint ties in (x, y).
    let (mut x_ties, mut xy_ties) = (0u64, 0u64);
    let (mut run_x, mut run_xy) = (1u64, 1u64);
    for i in 1..=n {
        let same_x = i < n && pairs[i].0 == pairs[i - 1].0;
        let same_xy = same_x && pairs[i].1 == pairs[i - 1].1;
        if same_xy {
            run_xy += 1;
        } else {
            xy_ties += tied(run_xy);
            run_xy = 1;
        }
        if same_x {
            run_x += 1;
        } else {
            x_ties += tied(run_x);
            run_x = 1;
        }
    }
    // Discordant pairs = swaps a stable merge sort by y makes.
    let mut ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let mut buf = ys.clone();
    let swaps = merge_count(&mut ys, &mut buf);
    let mut y_ties = 0u64;
    let mut run = 1u64;
    for i in 1..=n {
        if i < n && ys[i] == ys[i - 1] {
            run += 1;
        } else {
            y_ties += tied(run);
            run = 1;
        }
    }
    let total = tied(n as u64);
    let numerator =
        total as f64 - x_ties as f64 - y_ties as f64 + xy_ties as f64 - 2.0 * swaps as f64;
    let denominator = ((total - x_ties) as f64 * (total - y_ties) as f64).sqrt();
    (denominator > 0.0).then(|| numerator / denominator)
}

/// Sorts `v` ascending (stable) and returns the number of inversions.
fn merge_count(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut swaps =
        merge_count(&mut v[..mid], &mut buf[..mid]) + merge_count(&mut v[mid..], &mut buf[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[j] < v[i] {
            buf[k] = v[j];
            swaps += (mid - i) as u64;
            j += 1;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    buf[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    swaps
}

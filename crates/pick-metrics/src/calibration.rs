//! Expected calibration error over equal-width bins of [0, 1].

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bin {
    pub start: f64,
    pub end: f64,
    pub mean_prediction: f64,
    pub mean_label: f64,
    pub count: u64,
}

/// Bins `[eᵢ, eᵢ₊₁)` with `e = linspace(0, 1, bins + 1)`; predictions below 0 fall in the
/// first bin and at or above the last inner edge (including > 1) in the last, as
/// `np.digitize` on the inner edges places them. Returns the non-empty bins and the ECE.
pub fn ece(pred: &[f64], label: &[f64], bins: usize) -> Option<(f64, Vec<Bin>)> {
    let n = pred.len().min(label.len());
    if n == 0 || bins == 0 {
        return None;
    }
    // numpy's linspace: i·step, with the last edge exactly 1 (so 0.30000000000000004 too).
    let step = 1.0 / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step).collect();
    edges[bins] = 1.0;
    let mut sums = vec![(0.0f64, 0.0f64, 0u64); bins];
    for i in 0..n {
        let inner = &edges[1..bins];
        let b = inner.partition_point(|&e| e <= pred[i]);
        sums[b].0 += pred[i];
        sums[b].1 += label[i];
        sums[b].2 += 1;
    }
    let mut out = Vec::new();
    let mut ece = 0.0;
    for (b, &(p, l, c)) in sums.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let bin = Bin {
            start: edges[b],
            end: edges[b + 1],
            mean_prediction: p / c as f64,
            mean_label: l / c as f64,
            count: c,
        };
        ece += c as f64 / n as f64 * (bin.mean_prediction - bin.mean_label).abs();
        out.push(bin);
    }
    Some((ece, out))
}

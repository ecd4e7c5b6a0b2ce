//! Statistics of a distribution given as sorted (value, count) pairs: what label-distribution
//! prints. Percentiles follow bonepick (the value at index `floor(total·p/100)`), the standard
//! deviation is the sample one (n − 1).

/// The value at sorted position `i` of the rows described by sorted (value, count) pairs.
pub fn nth<T: Copy>(values: &[(T, u64)], i: u64) -> T {
    let mut seen = 0;
    for (v, n) in values {
        seen += n;
        if i < seen {
            return *v;
        }
    }
    values.last().expect("non-empty").0
}

/// bonepick's percentile: `sorted[min(int(n·p/100), n−1)]`.
pub fn percentile<T: Copy>(values: &[(T, u64)], total: u64, p: u64) -> T {
    let i = ((total as f64 * p as f64 / 100.0) as u64).min(total - 1);
    nth(values, i)
}

/// Python's `statistics.median`: the mean of the two middle values for an even count.
pub fn median(values: &[(f64, u64)], total: u64) -> f64 {
    if total % 2 == 1 {
        nth(values, total / 2)
    } else {
        (nth(values, total / 2 - 1) + nth(values, total / 2)) / 2.0
    }
}

pub fn mean_std(values: &[(f64, u64)], total: u64) -> (f64, Option<f64>) {
    let mean = values.iter().map(|(v, n)| v * *n as f64).sum::<f64>() / total as f64;
    let ss: f64 = values
        .iter()
        .map(|(v, n)| (v - mean).powi(2) * *n as f64)
        .sum();
    (mean, (total > 1).then(|| (ss / (total - 1) as f64).sqrt()))
}

/// Bucket edges with roughly equal counts: the smallest length, each distinct quantile
/// boundary, and one past the largest.
pub fn length_boundaries(lengths: &[(i64, u64)], buckets: usize) -> Vec<i64> {
    let total: u64 = lengths.iter().map(|l| l.1).sum();
    let mut edges = vec![lengths[0].0];
    for i in 1..buckets as u64 {
        let idx = ((total as f64 * i as f64 / buckets as f64) as u64).min(total - 1);
        let v = nth(lengths, idx);
        if v > *edges.last().expect("one edge") {
            edges.push(v);
        }
    }
    edges.push(lengths[lengths.len() - 1].0 + 1);
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_bonepick() {
        // sorted [1, 2, 2, 3, 10]
        let v = vec![(1.0, 1), (2.0, 2), (3.0, 1), (10.0, 1)];
        assert_eq!(percentile(&v, 5, 10), 1.0);
        assert_eq!(percentile(&v, 5, 50), 2.0);
        assert_eq!(percentile(&v, 5, 90), 10.0);
        assert_eq!(median(&v, 5), 2.0);
        assert_eq!(median(&[(1.0, 1), (4.0, 1)], 2), 2.5);
        let (m, s) = mean_std(&v, 5);
        assert!((m - 3.6).abs() < 1e-12);
        assert!((s.unwrap() - 3.646916505762094).abs() < 1e-12);
    }

    #[test]
    fn key_length_buckets_are_quantiles() {
        // lengths 1..=10 once each, 4 buckets: edges at sorted[2]=3, sorted[5]=6, sorted[7]=8.
        let l: Vec<(i64, u64)> = (1..=10).map(|i| (i, 1)).collect();
        assert_eq!(length_boundaries(&l, 4), vec![1, 3, 6, 8, 11]);
        assert_eq!(length_boundaries(&[(5, 7)], 10), vec![5, 6]);
    }
}

//! `--vocabulary-quantization K`: the token vectors clustered into K rows, as model2vec 0.10
//! asks scikit-learn for them (`KMeans(K, init="random", random_state=42)`): ten starts from
//! K distinct random rows, Lloyd's iterations (at most 300) until no row changes cluster or
//! the centres move less than 1e-4 of the mean feature variance, the start with the least
//! inertia kept, an emptied cluster moved to the row farthest from its centre. The random
//! starts are pick's own (seeded, so a run repeats), not numpy's: the clusters are as good
//! as scikit-learn's, not the same bit for bit.
//!
//! The distances are one matrix product per chunk of rows (`linalg::gemm_add`, every core);
//! the centre updates are sums in f64.

use rand::SeedableRng;
use rayon::prelude::*;

use crate::error::DistillError;
use crate::linalg::gemm_add;

const STARTS: usize = 10;
const MAX_ITERATIONS: usize = 300;
const SEED: u64 = 42;

pub struct Clusters {
    /// `k × width`, row-major.
    pub centres: Vec<f32>,
    /// Each row's cluster.
    pub labels: Vec<u32>,
    pub inertia: f64,
}

/// Clusters the `rows × width` vectors `x` into `k`.
pub fn kmeans(x: &[f32], rows: usize, width: usize, k: usize) -> Result<Clusters, DistillError> {
    check(k, rows)?;
    let norms: Vec<f32> = x
        .chunks(width)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let tolerance = 1e-4 * mean_variance(x, rows, width);
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut best: Option<Clusters> = None;
    for _ in 0..STARTS {
        let start = rand::seq::index::sample(&mut rng, rows, k);
        let mut centres: Vec<f32> = start
            .iter()
            .flat_map(|i| x[i * width..(i + 1) * width].iter().copied())
            .collect();
        let run = lloyd(x, &norms, width, &mut centres, k, tolerance);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    Ok(best.expect("at least one start"))
}

/// K clusters of `rows` vectors: at least one, and no more than the rows.
pub fn check(k: usize, rows: usize) -> Result<(), DistillError> {
    if k == 0 || k > rows {
        return Err(DistillError::Usage(format!(
            "--vocabulary-quantization {k}: the number of clusters must be between 1 and the \
             vocabulary's {rows} rows"
        )));
    }
    Ok(())
}

fn mean_variance(x: &[f32], rows: usize, width: usize) -> f64 {
    let mut sum = vec![0f64; width];
    let mut sq = vec![0f64; width];
    for row in x.chunks(width) {
        for (j, &v) in row.iter().enumerate() {
            sum[j] += v as f64;
            sq[j] += (v as f64) * (v as f64);
        }
    }
    let n = rows as f64;
    (0..width)
        .map(|j| sq[j] / n - (sum[j] / n).powi(2))
        .sum::<f64>()
        / width as f64
}

/// Each row's nearest centre and its squared distance.
fn assign(
    x: &[f32],
    norms: &[f32],
    width: usize,
    centres: &[f32],
    k: usize,
) -> (Vec<u32>, Vec<f32>) {
    let rows = norms.len();
    let c_norms: Vec<f32> = centres
        .chunks(width)
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    // Chunks keep the rows × k products to about 64 MB.
    let chunk = ((16 << 20) / k).clamp(256, rows.max(256));
    let mut labels = Vec::with_capacity(rows);
    let mut distances = Vec::with_capacity(rows);
    let mut dots = vec![0f32; chunk.min(rows) * k];
    for start in (0..rows).step_by(chunk) {
        let len = chunk.min(rows - start);
        let dots = &mut dots[..len * k];
        dots.fill(0.0);
        // x · cᵀ, the centres read transposed through the strides.
        gemm_add(
            dots,
            (len, k, width),
            &x[start * width..(start + len) * width],
            centres,
            (1, width),
        );
        // ‖c‖² − 2 x·c is the distance less ‖x‖², which does not change the nearest centre.
        let nearest: Vec<(u32, f32)> = dots
            .par_chunks(k)
            .map(|d| {
                let mut best = (0u32, f32::INFINITY);
                for (j, (dot, cn)) in d.iter().zip(&c_norms).enumerate() {
                    let v = cn - 2.0 * dot;
                    if v < best.1 {
                        best = (j as u32, v);
                    }
                }
                best
            })
            .collect();
        for ((label, d), n) in nearest.into_iter().zip(&norms[start..start + len]) {
            labels.push(label);
            distances.push((d + n).max(0.0));
        }
    }
    (labels, distances)
}

fn lloyd(
    x: &[f32],
    norms: &[f32],
    width: usize,
    centres: &mut [f32],
    k: usize,
    tolerance: f64,
) -> Clusters {
    let mut previous: Option<Vec<u32>> = None;
    for _ in 0..MAX_ITERATIONS {
        let (labels, distances) = assign(x, norms, width, centres, k);
        if previous.as_ref() == Some(&labels) {
            break;
        }
        let shift = update(x, width, &labels, &distances, centres, k);
        previous = Some(labels);
        if shift <= tolerance {
            break;
        }
    }
    let (labels, distances) = assign(x, norms, width, centres, k);
    Clusters {
        centres: centres.to_vec(),
        labels,
        inertia: distances.iter().map(|&d| d as f64).sum(),
    }
}

/// Moves each centre to the mean of its rows (an empty cluster to the farthest row not yet
/// used); returns the total squared shift of the centres.
fn update(
    x: &[f32],
    width: usize,
    labels: &[u32],
    distances: &[f32],
    centres: &mut [f32],
    k: usize,
) -> f64 {
    let mut sums = vec![0f64; k * width];
    let mut counts = vec![0usize; k];
    for (row, &label) in x.chunks(width).zip(labels) {
        let l = label as usize;
        counts[l] += 1;
        for (s, &v) in sums[l * width..(l + 1) * width].iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if !empty.is_empty() {
        let mut far: Vec<usize> = (0..labels.len()).collect();
        far.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]));
        for (&c, &row) in empty.iter().zip(&far) {
            let from = labels[row] as usize;
            let v = &x[row * width..(row + 1) * width];
            for j in 0..width {
                sums[from * width + j] -= v[j] as f64;
                sums[c * width + j] = v[j] as f64;
            }
            counts[from] -= 1;
            counts[c] = 1;
        }
    }
    let mut shift = 0f64;
    for c in 0..k {
        if counts[c] == 0 {
            continue;
        }
        for j in 0..width {
            let new = sums[c * width + j] / counts[c] as f64;
            let old = &mut centres[c * width + j];
            shift += (new - *old as f64).powi(2);
            *old = new as f32;
        }
    }
    shift
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight blobs are found whatever the start, each row in its blob's cluster.
    #[test]
    fn finds_separated_blobs() {
        let centres = [[0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let mut x = Vec::new();
        for i in 0..90 {
            let c = centres[i % 3];
            let jitter = ((i * 7919) % 13) as f32 / 13.0 - 0.5;
            x.extend([c[0] + jitter, c[1] - jitter * 0.5]);
        }
        let found = kmeans(&x, 90, 2, 3).unwrap();
        for i in 0..90 {
            assert_eq!(found.labels[i], found.labels[i % 3], "row {i}");
        }
        let distinct: std::collections::HashSet<u32> = found.labels.iter().copied().collect();
        assert_eq!(distinct.len(), 3);
        assert!(found.inertia < 90.0 * 0.5, "{}", found.inertia);
        // The same seed, the same clusters.
        assert_eq!(kmeans(&x, 90, 2, 3).unwrap().labels, found.labels);
        assert!(kmeans(&x, 90, 2, 91).is_err());
    }
}

//! What model2vec 0.10 does to the token vectors after the transformer: PCA (its own: the
//! covariance's eigenvectors, components signed so each one's largest score is positive),
//! SIF weights by rank, and the cast to the saved type.

use nalgebra::{DMatrix, SymmetricEigen};

/// `--pca-dims`: `auto` (the model's width), a number of components, or the share of the
/// variance to keep (a number below 1 with a fraction, as bonepick reads it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PcaDims {
    Auto,
    Components(usize),
    Variance(f64),
}

impl PcaDims {
    pub fn parse(s: &str) -> Option<PcaDims> {
        if s.eq_ignore_ascii_case("auto") {
            return Some(PcaDims::Auto);
        }
        let v: f64 = s.parse().ok()?;
        if !(v > 0.0 && v.is_finite()) {
            return None;
        }
        Some(if v.fract() == 0.0 {
            PcaDims::Components(v as usize)
        } else if v < 1.0 {
            PcaDims::Variance(v)
        } else {
            return None;
        })
    }

    /// The value as `config.json`'s `apply_pca` holds it.
    pub fn json(self) -> serde_json::Value {
        match self {
            PcaDims::Auto => "auto".into(),
            PcaDims::Components(k) => k.into(),
            PcaDims::Variance(v) => v.into(),
        }
    }
}

/// SIF weights `c / (c + p_i)`, `p_i` Zipf's probability of the row's rank.
pub fn sif_weights(rows: usize, coefficient: f64) -> Vec<f64> {
    let inv: Vec<f64> = (0..rows).map(|i| 1.0 / (i as f64 + 2.0)).collect();
    let total: f64 = inv.iter().sum();
    inv.iter()
        .map(|r| coefficient / (coefficient + r / total))
        .collect()
}

/// `x` (`rows × width`, row-major) reduced as `apply_pca` does; returns the new width. As in
/// model2vec, asking for as many components as there are rows or more leaves `x` as it is.
pub fn pca(x: &[f32], rows: usize, width: usize, dims: PcaDims) -> (Vec<f64>, usize) {
    let wanted = match dims {
        PcaDims::Auto => Some(width),
        PcaDims::Components(k) => Some(k.min(width)),
        PcaDims::Variance(_) => None,
    };
    if wanted.is_some_and(|k| k >= rows) {
        return (x.iter().map(|&v| v as f64).collect(), width);
    }
    let mut m = DMatrix::<f64>::from_row_iterator(rows, width, x.iter().map(|&v| v as f64));
    for j in 0..width {
        let mean = m.column(j).mean();
        m.column_mut(j).add_scalar_mut(-mean);
    }
    let cov = (m.transpose() * &m) / (rows.max(2) - 1) as f64;
    let eigen = SymmetricEigen::new(cov);
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let values: Vec<f64> = order
        .iter()
        .map(|&i| eigen.eigenvalues[i].max(0.0))
        .collect();
    let k = match (wanted, dims) {
        (Some(k), _) => k,
        (None, PcaDims::Variance(share)) => {
            let total: f64 = values.iter().sum();
            let mut sum = 0.0;
            let first = values
                .iter()
                .position(|v| {
                    sum += v;
                    sum / total >= share
                })
                .unwrap_or(width - 1);
            (first + 1).min(width)
        }
        _ => unreachable!(),
    };
    let components = DMatrix::<f64>::from_fn(width, k, |r, c| eigen.eigenvectors[(r, order[c])]);
    let mut scores = m * components;
    for j in 0..k {
        let col = scores.column(j);
        let top = col
            .iter()
            .enumerate()
            .fold((0, 0f64), |best, (i, v)| {
                if v.abs() > best.1 { (i, v.abs()) } else { best }
            })
            .0;
        if col[top] < 0.0 {
            scores.column_mut(j).neg_mut();
        }
    }
    let out = (0..rows)
        .flat_map(|r| (0..k).map(move |c| (r, c)))
        .map(|(r, c)| scores[(r, c)])
        .collect();
    (out, k)
}

/// `--quantize-to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantize {
    Float16,
    Float32,
    Float64,
    Int8,
}

impl Quantize {
    pub fn parse(s: &str) -> Option<Quantize> {
        Some(match s {
            "float16" => Quantize::Float16,
            "float32" => Quantize::Float32,
            "float64" => Quantize::Float64,
            "int8" => Quantize::Int8,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Quantize::Float16 => "float16",
            Quantize::Float32 => "float32",
            Quantize::Float64 => "float64",
            Quantize::Int8 => "int8",
        }
    }

    /// The safetensors type and little-endian bytes of `values` in this type. int8 as
    /// model2vec makes it: the values in float16 divided by `max|x| / 127` (in float16),
    /// rounded half to even, clipped to ±127.
    pub fn bytes(self, values: &[f64]) -> (safetensors::Dtype, Vec<u8>) {
        use half::f16;
        match self {
            Quantize::Float16 => (
                safetensors::Dtype::F16,
                values
                    .iter()
                    .flat_map(|&v| f16::from_f64(v).to_le_bytes())
                    .collect(),
            ),
            Quantize::Float32 => (
                safetensors::Dtype::F32,
                values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
            ),
            Quantize::Float64 => (
                safetensors::Dtype::F64,
                values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            ),
            Quantize::Int8 => {
                let top = values.iter().fold(0f64, |m, v| m.max(v.abs()));
                let scale = f16::from_f64(top / 127.0).to_f32();
                let bytes = values
                    .iter()
                    .map(|&v| {
                        let q = f16::from_f32(f16::from_f64(v).to_f32() / scale).to_f32();
                        (q.round_ties_even().clamp(-127.0, 127.0) as i8) as u8
                    })
                    .collect();
                (safetensors::Dtype::I8, bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sif_weights_are_model2vecs() {
        // model2vec 0.10 on all-MiniLM-L6-v2's 29,525 rows.
        let w = sif_weights(29525, 1e-4);
        assert!((w[0] - 0.00197016).abs() < 1e-8, "{}", w[0]);
        assert!((w[2] - 0.00393258).abs() < 1e-8, "{}", w[2]);
        assert!((w[29524] - 0.96682472).abs() < 1e-8, "{}", w[29524]);
    }

    #[test]
    fn pca_dims_read_as_bonepick_reads_them() {
        assert_eq!(PcaDims::parse("AUTO"), Some(PcaDims::Auto));
        assert_eq!(PcaDims::parse("256.0"), Some(PcaDims::Components(256)));
        assert_eq!(PcaDims::parse("0.9"), Some(PcaDims::Variance(0.9)));
        assert_eq!(PcaDims::parse("-3"), None);
        assert_eq!(PcaDims::parse("2.5"), None);
    }

    #[test]
    fn pca_keeps_the_variance_in_order_and_signs_components() {
        // Points along a line with a little noise: one component holds nearly everything.
        let rows = 50;
        let x: Vec<f32> = (0..rows)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                [t, 2.0 * t + ((i * 7) % 3) as f32 * 0.01, -t]
            })
            .collect();
        let (out, k) = pca(&x, rows, 3, PcaDims::Variance(0.99));
        assert_eq!(k, 1);
        let col: Vec<f64> = out.clone();
        let top = col
            .iter()
            .fold(0f64, |m, v| if v.abs() > m.abs() { *v } else { m });
        assert!(top > 0.0, "the largest score is positive");
        let (_, k) = pca(&x, rows, 3, PcaDims::Auto);
        assert_eq!(k, 3);
        // As many components as rows: left as it is.
        let (same, k) = pca(&x[..6], 2, 3, PcaDims::Components(2));
        assert_eq!((k, same[0]), (3, x[0] as f64));
    }
}

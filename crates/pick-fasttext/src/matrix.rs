//! fastText's two matrix kinds: dense rows of `f32`, and product-quantized rows (`.ftz` models
//! from `fasttext quantize`), each read as fastText 0.9.2 does.

/// A product quantizer: `nsubq` sub-vectors of `dsub` floats (the last one `lastdsub`), each coded
/// as one of 256 centroids.
#[derive(Debug)]
pub struct ProductQuantizer {
    pub dim: usize,
    pub nsubq: usize,
    pub dsub: usize,
    pub lastdsub: usize,
    pub centroids: Vec<f32>,
}

pub const KSUB: usize = 256;

impl ProductQuantizer {
    #[inline]
    fn centroid(&self, m: usize, code: u8) -> &[f32] {
        let i = code as usize;
        if m == self.nsubq - 1 {
            let at = m * KSUB * self.dsub + i * self.lastdsub;
            &self.centroids[at..at + self.lastdsub]
        } else {
            let at = (m * KSUB + i) * self.dsub;
            &self.centroids[at..at + self.dsub]
        }
    }

    fn add_code(&self, x: &mut [f32], codes: &[u8], alpha: f32) {
        for (m, &code) in codes.iter().enumerate() {
            let c = self.centroid(m, code);
            let base = m * self.dsub;
            for (n, &v) in c.iter().enumerate() {
                x[base + n] += alpha * v;
            }
        }
    }

    fn mul_code(&self, x: &[f32], codes: &[u8], alpha: f32) -> f32 {
        let mut res = 0.0f32;
        for (m, &code) in codes.iter().enumerate() {
            let c = self.centroid(m, code);
            let base = m * self.dsub;
            for (n, &v) in c.iter().enumerate() {
                res += x[base + n] * v;
            }
        }
        res * alpha
    }
}

#[derive(Debug)]
pub struct QuantMatrix {
    pub rows: usize,
    pub cols: usize,
    pub codes: Vec<u8>,
    pub pq: ProductQuantizer,
    /// With `-qnorm`: each row's norm, coded by a one-dimensional quantizer.
    pub norms: Option<(Vec<u8>, ProductQuantizer)>,
}

impl QuantMatrix {
    #[inline]
    fn norm(&self, i: usize) -> f32 {
        match &self.norms {
            Some((codes, npq)) => npq.centroid(0, codes[i])[0],
            None => 1.0,
        }
    }

    #[inline]
    fn row_codes(&self, i: usize) -> &[u8] {
        &self.codes[i * self.pq.nsubq..(i + 1) * self.pq.nsubq]
    }
}

#[derive(Debug)]
pub enum Matrix {
    Dense {
        rows: usize,
        cols: usize,
        data: Vec<f32>,
    },
    Quantized(QuantMatrix),
}

impl Matrix {
    pub fn rows(&self) -> usize {
        match self {
            Matrix::Dense { rows, .. } => *rows,
            Matrix::Quantized(q) => q.rows,
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            Matrix::Dense { cols, .. } => *cols,
            Matrix::Quantized(q) => q.cols,
        }
    }

    /// Starts reading row `i` into cache (dense rows only; a no-op elsewhere).
    #[inline]
    pub fn prefetch_row(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Matrix::Dense { cols, data, .. } = self
            && let Some(row) = data.get(i * cols..(i + 1) * cols)
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            for line in row.chunks(16) {
                // SAFETY: a prefetch of memory inside the slice; it never faults.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// `x += row i`.
    #[inline]
    pub fn add_row(&self, i: usize, x: &mut [f32]) {
        match self {
            Matrix::Dense { cols, data, .. } => {
                let row = &data[i * cols..(i + 1) * cols];
                for (a, b) in x.iter_mut().zip(row) {
                    *a += *b;
                }
            }
            Matrix::Quantized(q) => q.pq.add_code(x, q.row_codes(i), q.norm(i)),
        }
    }

    /// `row i · x`, summed in order as fastText does (so the floats are the same).
    #[inline]
    pub fn dot_row(&self, i: usize, x: &[f32]) -> f32 {
        match self {
            Matrix::Dense { cols, data, .. } => {
                let row = &data[i * cols..(i + 1) * cols];
                let mut d = 0.0f32;
                for (a, b) in row.iter().zip(x) {
                    d += a * b;
                }
                d
            }
            Matrix::Quantized(q) => q.pq.mul_code(x, q.row_codes(i), q.norm(i)),
        }
    }
}

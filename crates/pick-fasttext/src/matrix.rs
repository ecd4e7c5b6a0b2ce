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
    /// A dense matrix read in place from its model file: rows come into memory when scoring
    /// first touches them. Opening a 2 GB model then costs nothing, and a job pays only for the
    /// rows its text uses, where reading it whole costs seconds (the copy, and the kernel
    /// zeroing the pages it is copied into).
    Mapped {
        rows: usize,
        cols: usize,
        map: memmap2::Mmap,
        /// Where row 0 starts in the file; any byte (the dictionary before it has no alignment).
        offset: usize,
    },
    Quantized(QuantMatrix),
}

impl Matrix {
    pub fn rows(&self) -> usize {
        match self {
            Matrix::Dense { rows, .. } | Matrix::Mapped { rows, .. } => *rows,
            Matrix::Quantized(q) => q.rows,
        }
    }

    pub fn cols(&self) -> usize {
        match self {
            Matrix::Dense { cols, .. } | Matrix::Mapped { cols, .. } => *cols,
            Matrix::Quantized(q) => q.cols,
        }
    }

    /// Row `i` of a mapped matrix, as the file's little-endian bytes.
    #[inline]
    fn mapped_row(map: &[u8], offset: usize, cols: usize, i: usize) -> &[u8] {
        let at = offset + i * cols * 4;
        &map[at..at + cols * 4]
    }

    /// Starts reading row `i` into cache (dense rows only; a no-op elsewhere).
    #[inline]
    pub fn prefetch_row(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            let row: Option<(*const u8, usize)> = match self {
                Matrix::Dense { cols, data, .. } => data
                    .get(i * cols..(i + 1) * cols)
                    .map(|r| (r.as_ptr().cast::<u8>(), r.len() * 4)),
                Matrix::Mapped {
                    cols, map, offset, ..
                } => map
                    .get(offset + i * cols * 4..offset + (i + 1) * cols * 4)
                    .map(|r| (r.as_ptr(), r.len())),
                Matrix::Quantized(_) => None,
            };
            if let Some((start, len)) = row {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                for at in (0..len).step_by(64) {
                    // SAFETY: a prefetch of an address inside the row; it never faults.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(at).cast::<i8>()) };
                }
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
            Matrix::Mapped {
                cols, map, offset, ..
            } => {
                let row = Self::mapped_row(map, *offset, *cols, i);
                for (a, b) in x.iter_mut().zip(row.chunks_exact(4)) {
                    *a += f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
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
            Matrix::Mapped {
                cols, map, offset, ..
            } => {
                let row = Self::mapped_row(map, *offset, *cols, i);
                let mut d = 0.0f32;
                for (b, a) in row.chunks_exact(4).zip(x) {
                    d += f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * a;
                }
                d
            }
            Matrix::Quantized(q) => q.pq.mul_code(x, q.row_codes(i), q.norm(i)),
        }
    }
}

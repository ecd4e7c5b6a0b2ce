//! Input rows projected onto the output layer, filled in as scoring first meets each row.
//!
//! fastText scores a document from `B · (Σ rows / n)`: the mean of its words' and n-grams'
//! input rows, times the output matrix `B` (one row per label, or per tree node with
//! hierarchical softmax). That equals `Σ (B · row) / n`, so each input row can stand in as its
//! `m` dot products with `B`'s rows: a lookup then reads `m` floats instead of `dim`. At
//! bonepick's defaults (dim 256, 2M buckets, 2 labels) that is 8 bytes in place of a 1 KB row
//! scattered over a 2 GB matrix, and the whole table is 16 MB, which stays in cache. Scoring
//! was bound by those reads: a core fetches a random 1 KB row in about 285 ns here, and a 3 KB
//! document of code has about 3,000 of them.
//!
//! The sums are taken in another order than fastText's (per row first, in double), so a
//! probability can differ from what `fasttext predict-prob` prints in the last digits of a
//! float: at most 1.3e-6 on the committed models (`model::tests`), where `predict-prob` prints
//! five decimals.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::matrix::Matrix;

pub struct Projection {
    /// `m`: output rows.
    width: usize,
    /// `B`, dense, `m × dim`.
    weights: Vec<f32>,
    /// Row `i`'s projections at `i * width..`, as f32 bits; valid once `filled` has bit `i`.
    values: Box<[AtomicU32]>,
    filled: Box<[AtomicU64]>,
}

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projection")
            .field("width", &self.width)
            .field("rows", &(self.values.len() / self.width.max(1)))
            .finish()
    }
}

impl Projection {
    /// `None` where projecting would not pay: an output layer as wide as a row.
    pub fn new(input: &Matrix, output: &Matrix) -> Option<Projection> {
        let (dim, width) = (input.cols(), output.rows());
        if width == 0 || width >= dim {
            return None;
        }
        let mut weights = vec![0.0f32; width * dim];
        for (k, row) in weights.chunks_exact_mut(dim).enumerate() {
            output.add_row(k, row);
        }
        let rows = input.rows();
        Some(Projection {
            width,
            weights,
            values: (0..rows * width).map(|_| AtomicU32::new(0)).collect(),
            filled: (0..rows.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    #[inline]
    fn is_filled(&self, i: usize) -> bool {
        self.filled[i / 64].load(Ordering::Acquire) & (1 << (i % 64)) != 0
    }

    /// Starts reading what `add` will need for row `i`.
    #[inline]
    pub fn prefetch(&self, input: &Matrix, i: usize) {
        if !self.is_filled(i) {
            input.prefetch_row(i);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: a prefetch never faults; the address is inside `values`.
            unsafe { _mm_prefetch(self.values[i * self.width].as_ptr().cast(), _MM_HINT_T0) };
        }
    }

    /// Adds row `i`'s projections to `sums`, computing them the first time (`row` is scratch).
    #[inline]
    pub fn add(&self, input: &Matrix, i: usize, row: &mut Vec<f32>, sums: &mut [f64]) {
        let at = i * self.width;
        if self.is_filled(i) {
            for (s, v) in sums.iter_mut().zip(&self.values[at..at + self.width]) {
                *s += f32::from_bits(v.load(Ordering::Relaxed)) as f64;
            }
            return;
        }
        row.clear();
        row.resize(input.cols(), 0.0);
        input.add_row(i, row);
        for (k, (s, v)) in sums
            .iter_mut()
            .zip(&self.values[at..at + self.width])
            .enumerate()
        {
            let b = &self.weights[k * row.len()..(k + 1) * row.len()];
            let p = row
                .iter()
                .zip(b)
                .map(|(&x, &y)| x as f64 * y as f64)
                .sum::<f64>() as f32;
            v.store(p.to_bits(), Ordering::Relaxed);
            *s += p as f64;
        }
        // Threads that meet the row at once compute the same floats; the release publishes
        // them to every later reader.
        self.filled[i / 64].fetch_or(1 << (i % 64), Ordering::Release);
    }
}

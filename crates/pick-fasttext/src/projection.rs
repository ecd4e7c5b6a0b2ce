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

use std::sync::atomic::{AtomicU32, Ordering};

use super::matrix::Matrix;

pub struct Projection {
    /// `m`: output rows.
    width: usize,
    /// `B`, dense, `m × dim`.
    weights: Vec<f32>,
    /// Row `i`'s projections at `i * width..`, as f32 bits XOR `UNFILLED`, so that the zeroed
    /// table starts out unfilled and the check costs no read besides the values' own.
    values: Box<[AtomicU32]>,
}

/// A NaN's bits: a row whose first projection really is this NaN is computed at every lookup,
/// which costs time, not correctness.
const UNFILLED: u32 = 0x7FC0_1CE5;

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
        })
    }

    #[inline]
    fn is_filled(&self, i: usize) -> bool {
        self.values[i * self.width].load(Ordering::Acquire) != 0
    }

    /// Starts reading row `i`'s projections (a filled row's: once a job is under way, nearly
    /// every row it meets is).
    #[inline]
    pub fn prefetch(&self, i: usize) {
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
        let values = &self.values[i * self.width..(i + 1) * self.width];
        if self.is_filled(i) {
            for (s, v) in sums.iter_mut().zip(values) {
                *s += f32::from_bits(v.load(Ordering::Relaxed) ^ UNFILLED) as f64;
            }
            return;
        }
        row.clear();
        row.resize(input.cols(), 0.0);
        input.add_row(i, row);
        let dim = row.len();
        let mut first = 0;
        for (k, (s, v)) in sums.iter_mut().zip(values).enumerate() {
            let b = &self.weights[k * dim..(k + 1) * dim];
            let p = row
                .iter()
                .zip(b)
                .map(|(&x, &y)| x as f64 * y as f64)
                .sum::<f64>() as f32;
            *s += p as f64;
            if k == 0 {
                first = p.to_bits() ^ UNFILLED;
            } else {
                v.store(p.to_bits() ^ UNFILLED, Ordering::Relaxed);
            }
        }
        // The first value last, with release: a thread that sees the row filled sees all of it.
        // Threads that meet the row at once compute and store the same floats.
        values[0].store(first, Ordering::Release);
    }
}

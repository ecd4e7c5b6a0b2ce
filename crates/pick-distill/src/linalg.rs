//! The one matrix product distillation needs, `gemm`'s (the crate candle runs on), on every
//! core through rayon.

/// `dst (m × n) += lhs (m × k, row-major) · rhs`, where `rhs[kk][j]` is at
/// `rhs[kk * rhs_rs + j * rhs_cs]` (a row-major `k × n` matrix is `rhs_rs = n, rhs_cs = 1`;
/// the transpose of a row-major `n × k` one is `rhs_rs = 1, rhs_cs = k`).
pub fn gemm_add(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    lhs: &[f32],
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    assert!(dst.len() >= m * n && lhs.len() >= m * k);
    assert!(m == 0 || n == 0 || k == 0 || rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above keep every index the strides reach inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_and_accumulates() {
        // [1 2; 3 4] · [5 6; 7 8] + 1 = [20 23; 44 51]
        let mut dst = vec![1.0; 4];
        gemm_add(
            &mut dst,
            (2, 2, 2),
            &[1., 2., 3., 4.],
            &[5., 6., 7., 8.],
            (2, 1),
        );
        assert_eq!(dst, vec![20.0, 23.0, 44.0, 51.0]);
        // The transpose of [5 6; 7 8] given by strides: [5 7; 6 8].
        let mut dst = vec![0.0; 4];
        gemm_add(
            &mut dst,
            (2, 2, 2),
            &[1., 2., 3., 4.],
            &[5., 6., 7., 8.],
            (1, 2),
        );
        assert_eq!(dst, vec![17.0, 23.0, 39.0, 53.0]);
    }
}

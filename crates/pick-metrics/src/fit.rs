//! Least-squares fits of a target in [0, 1] from a few numeric components: scikit-learn's
//! `Ridge(alpha=0.01)` (linear) and a sigmoid of a linear map fitted by L-BFGS (log-linear).
//! The systems are small (a handful of components), so both are written here rather than
//! pulling in a linear-algebra crate.

/// A fitted calibration: weights per component (sorted names), bias, fitted values.
#[derive(Debug, serde::Serialize)]
pub struct Fit {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub fitted: Vec<f64>,
}

/// scikit-learn's `Ridge(alpha=0.01)` with an intercept: the normal equations on centred data;
/// fitted values clipped to [0, 1].
pub fn fit_linear(x: &[Vec<f64>], y: &[f64]) -> Fit {
    let (n, d) = (x.len(), x.first().map_or(0, Vec::len));
    let xm: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    let ym = y.iter().sum::<f64>() / n as f64;
    let mut a = vec![vec![0.0; d]; d];
    let mut b = vec![0.0; d];
    for (row, &t) in x.iter().zip(y) {
        for i in 0..d {
            let xi = row[i] - xm[i];
            b[i] += xi * (t - ym);
            for j in 0..d {
                a[i][j] += xi * (row[j] - xm[j]);
            }
        }
    }
    for (i, r) in a.iter_mut().enumerate() {
        r[i] += 0.01;
    }
    let w = solve(a, b);
    let bias = ym - w.iter().zip(&xm).map(|(w, m)| w * m).sum::<f64>();
    let fitted = x
        .iter()
        .map(|r| (dot(&w, r) + bias).clamp(0.0, 1.0))
        .collect();
    Fit {
        weights: w,
        bias,
        fitted,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Gaussian elimination with partial pivoting (the system is small and positive definite).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let d = b.len();
    for col in 0..d {
        let piv = (col..d)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col].clone();
        for r in col + 1..d {
            let f = a[r][col] / pivot_row[col];
            for (x, p) in a[r][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; d];
    for r in (0..d).rev() {
        x[r] = (b[r] - (r + 1..d).map(|c| a[r][c] * x[c]).sum::<f64>()) / a[r][r];
    }
    x
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `mean((sigmoid(Xw + b) − y)²)` minimised from zeros by L-BFGS with the exact gradient.
pub fn fit_log_linear(x: &[Vec<f64>], y: &[f64]) -> Fit {
    let d = x.first().map_or(0, Vec::len);
    let n = x.len() as f64;
    // θ = (w, b)
    let loss_grad = |theta: &[f64]| -> (f64, Vec<f64>) {
        let mut g = vec![0.0; d + 1];
        let mut loss = 0.0;
        for (row, &t) in x.iter().zip(y) {
            let s = sigmoid(dot(&theta[..d], row) + theta[d]);
            let e = s - t;
            loss += e * e;
            let k = 2.0 * e * s * (1.0 - s) / n;
            for j in 0..d {
                g[j] += k * row[j];
            }
            g[d] += k;
        }
        (loss / n, g)
    };
    let theta = lbfgs(vec![0.0; d + 1], loss_grad, 500);
    let fitted = x
        .iter()
        .map(|r| sigmoid(dot(&theta[..d], r) + theta[d]))
        .collect();
    Fit {
        weights: theta[..d].to_vec(),
        bias: theta[d],
        fitted,
    }
}

/// Limited-memory BFGS (two-loop recursion, 10 pairs) with a backtracking Armijo line search.
fn lbfgs(mut x: Vec<f64>, f: impl Fn(&[f64]) -> (f64, Vec<f64>), iters: usize) -> Vec<f64> {
    const M: usize = 10;
    let (mut fx, mut g) = f(&x);
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for _ in 0..iters {
        if g.iter().map(|v| v.abs()).fold(0.0, f64::max) < 1e-10 {
            break;
        }
        // Two-loop recursion: direction = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, yv, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(yv).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        if let Some((s, yv, _)) = hist.back() {
            let gamma = dot(s, yv) / dot(yv, yv);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, yv, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(yv, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += s * (a - b));
        }
        let dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &dir);
        if slope >= 0.0 {
            hist.clear();
            continue;
        }
        let mut step = 1.0;
        let (mut nx, mut nf, mut ng);
        loop {
            nx = x
                .iter()
                .zip(&dir)
                .map(|(x, d)| x + step * d)
                .collect::<Vec<_>>();
            (nf, ng) = f(&nx);
            if nf <= fx + 1e-4 * step * slope || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        let s: Vec<f64> = nx.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = ng.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &yv);
        let done = (fx - nf).abs() <= 1e-15 * fx.abs().max(1e-300);
        (x, fx, g) = (nx, nf, ng);
        if sy > 1e-300 {
            hist.push_back((s, yv, 1.0 / sy));
            if hist.len() > M {
                hist.pop_front();
            }
        }
        if done {
            break;
        }
    }
    x
}

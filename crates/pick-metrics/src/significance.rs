//! Two-sided p-values of the correlations, as scipy computes them: Pearson's r from the exact
//! beta distribution of r, Spearman's ρ from Student's t with n − 2 degrees of freedom, and
//! Kendall's τ-b from its asymptotic normal distribution with scipy's tie-corrected variance.

/// `pearsonr`'s p-value: `2 · I_{(1−|r|)/2}(n/2 − 1, n/2 − 1)`.
pub fn pearson_pvalue(r: f64, n: usize) -> Option<f64> {
    if n < 3 || !r.is_finite() {
        return None;
    }
    let a = n as f64 / 2.0 - 1.0;
    Some((2.0 * reg_inc_beta(a, a, (1.0 - r.abs()) / 2.0)).clamp(0.0, 1.0))
}

/// `spearmanr`'s p-value: Student's t of ρ with n − 2 degrees of freedom.
pub fn spearman_pvalue(rho: f64, n: usize) -> Option<f64> {
    if n < 3 || !rho.is_finite() {
        return None;
    }
    let df = (n - 2) as f64;
    let denom = (rho + 1.0) * (1.0 - rho);
    if denom <= 0.0 {
        return Some(0.0);
    }
    let t2 = rho * rho * df / denom;
    Some(reg_inc_beta(df / 2.0, 0.5, df / (df + t2)).clamp(0.0, 1.0))
}

/// `kendalltau(method="asymptotic")`'s p-value for τ-b computed on `x`, `y`.
pub fn kendall_pvalue(tau: f64, x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 || !tau.is_finite() {
        return None;
    }
    let (xtie, x0, x1) = tie_sums(&x[..n]);
    let (ytie, y0, y1) = tie_sums(&y[..n]);
    let size = n as f64;
    let tot = size * (size - 1.0) / 2.0;
    let con_minus_dis = tau * ((tot - xtie) * (tot - ytie)).sqrt();
    let m = size * (size - 1.0);
    let var = (m * (2.0 * size + 5.0) - x1 - y1) / 18.0
        + (2.0 * xtie * ytie) / m
        + x0 * y0 / (9.0 * m * (size - 2.0));
    if var <= 0.0 {
        return None;
    }
    let z = con_minus_dis / var.sqrt();
    Some(libm::erfc(z.abs() / std::f64::consts::SQRT_2))
}

/// Over groups of tied values of size t: Σ t(t−1)/2, Σ t(t−1)(t−2), Σ t(t−1)(2t+5).
fn tie_sums(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < s.len() {
        let mut j = i + 1;
        while j < s.len() && s[j] == s[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        if t > 1.0 {
            a += t * (t - 1.0) / 2.0;
            b += t * (t - 1.0) * (t - 2.0);
            c += t * (t - 1.0) * (2.0 * t + 5.0);
        }
        i = j;
    }
    (a, b, c)
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz).
pub fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front =
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn incomplete_beta_known_values() {
        // scipy.special.betainc
        assert!(close(reg_inc_beta(2.0, 3.0, 0.4), 0.5248, 1e-12));
        assert!(close(reg_inc_beta(0.5, 0.5, 0.25), 1.0 / 3.0, 1e-12));
        assert!(close(
            reg_inc_beta(10.0, 0.5, 0.9),
            0.15164090963470994,
            1e-10
        ));
    }

    #[test]
    fn p_values_match_scipy() {
        // scipy.stats.pearsonr / spearmanr / kendalltau on these vectors.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let y = [2.0, 1.0, 4.0, 3.0, 7.0, 8.0, 6.0, 5.0];
        let r = crate::correlation::pearson(&x, &y).unwrap();
        assert!(close(r, 0.7380952380952379, 1e-12));
        assert!(close(
            pearson_pvalue(r, 8).unwrap(),
            0.036552761052860906,
            1e-9
        ));
        let rho = crate::correlation::spearman(&x, &y).unwrap();
        assert!(close(
            spearman_pvalue(rho, 8).unwrap(),
            0.03655276105286081,
            1e-9
        ));
        let tau = crate::correlation::kendall_tau_b(&x, &y).unwrap();
        assert!(close(tau, 0.5, 1e-12));
        assert!(close(
            kendall_pvalue(tau, &x, &y).unwrap(),
            0.0832645166635504,
            1e-9
        ));
        // Ties.
        let x = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0];
        let y = [1.0, 2.0, 1.0, 3.0, 3.0, 4.0, 4.0];
        let tau = crate::correlation::kendall_tau_b(&x, &y).unwrap();
        assert!(close(tau, 0.7222222222222224, 1e-12));
        assert!(close(
            kendall_pvalue(tau, &x, &y).unwrap(),
            0.036793366592844656,
            1e-9
        ));
    }
}

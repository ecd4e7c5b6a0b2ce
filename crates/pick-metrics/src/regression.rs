//! Regression errors of predictions against targets.

#[derive(Debug, Clone, serde::Serialize)]
pub struct Errors {
    pub mae: f64,
    pub mse: f64,
    pub rmse: f64,
    /// scikit-learn's `r2_score`: 1 − SS_res/SS_tot; with constant targets 1.0 for a perfect
    /// fit, else 0.0.
    pub r2: f64,
}

pub fn errors(pred: &[f64], target: &[f64]) -> Option<Errors> {
    let n = pred.len().min(target.len());
    if n == 0 {
        return None;
    }
    let mean = target[..n].iter().sum::<f64>() / n as f64;
    let (mut abs, mut sq, mut tot) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let d = pred[i] - target[i];
        abs += d.abs();
        sq += d * d;
        tot += (target[i] - mean).powi(2);
    }
    let mse = sq / n as f64;
    let r2 = if tot == 0.0 {
        if sq == 0.0 { 1.0 } else { 0.0 }
    } else {
        1.0 - sq / tot
    };
    Some(Errors {
        mae: abs / n as f64,
        mse,
        rmse: mse.sqrt(),
        r2,
    })
}

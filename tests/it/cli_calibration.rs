//! eval-calibration and train-calibration against bonepick 0.5.0's own results on the same
//! rows (tests/fixtures/calibration, made by scripts/calibration_fixtures.py).

use std::path::PathBuf;

use crate::common::*;

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/calibration")
}

/// Every value written under `key:` in a YAML report, in order (numbers; `null` as NaN).
fn values(yaml: &str, key: &str) -> Vec<f64> {
    yaml.lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            let v = l.strip_prefix(key)?.strip_prefix(':')?.trim();
            Some(if v == "null" {
                f64::NAN
            } else {
                v.trim_matches('\'').parse().unwrap()
            })
        })
        .collect()
}

fn assert_same(ours: &str, theirs: &str, key: &str, tol: f64) {
    let (a, b) = (values(ours, key), values(theirs, key));
    assert!(!b.is_empty(), "bonepick wrote no {key}");
    assert_eq!(a.len(), b.len(), "{key}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(&b) {
        let same = (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * y.abs().max(1.0);
        assert!(same, "{key}: pick {x} vs bonepick {y}");
    }
}

#[test]
fn eval_calibration_matches_bonepick() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval.yaml");
    let data = fixtures().join("data");
    let stdout = pick_ok(&[
        "eval-calibration",
        "-d",
        s(&data),
        "-p",
        ".pred",
        "-l",
        ".gold",
        "-o",
        s(&out),
    ]);
    assert!(stdout.contains("Macro AUC: 0.8958"), "{stdout}");
    let ours = std::fs::read_to_string(&out).unwrap();
    let theirs = std::fs::read_to_string(fixtures().join("eval.yaml")).unwrap();
    for key in [
        "total_samples",
        "num_classes",
        "min",
        "max",
        "macro_auc",
        "weighted_auc",
        "ordinal_auc",
        "spearman_correlation",
        "kendall_tau_b",
        "pearson_correlation",
        "mse",
        "rmse",
        "mae",
        "r_squared",
        "bin_start",
        "bin_end",
        "mean_prediction",
        "mean_label",
        "count",
        "calibration_error",
        "std_prediction",
        "min_prediction",
        "max_prediction",
        "median_prediction",
    ] {
        assert_same(&ours, &theirs, key, 1e-12);
    }
    // p-values this small agree to their leading digits; ECE is rounded by bonepick.
    for key in ["spearman_pvalue", "kendall_pvalue", "pearson_pvalue"] {
        assert_same(&ours, &theirs, key, 1e-6);
    }
    assert_same(&ours, &theirs, "expected_calibration_error", 1e-6);
    assert!(ours.contains("unique_labels:\n- '1'\n- '2'"), "{ours}");
}

#[test]
fn linear_calibration_matches_bonepick_and_is_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit.yaml");
    let data = fixtures().join("data");
    pick_ok(&[
        "train-calibration",
        "-d",
        s(&data),
        "-p",
        ".parts",
        "-l",
        ".gold",
        "-o",
        s(&out),
    ]);
    let ours = std::fs::read_to_string(&out).unwrap();
    let theirs = std::fs::read_to_string(fixtures().join("linear.yaml")).unwrap();
    for key in ["a", "b", "c", "bias", "r_squared", "rmse", "mae", "mse"] {
        assert_same(&ours, &theirs, key, 1e-9);
    }
    // The expression is bonepick's sum, clamped to [0, 1] like the fit (B21), and runs in
    // pick's own jq: on a row with a = 2 it gives 1, not 1.6.
    let expr = ours
        .lines()
        .find_map(|l| l.strip_prefix("jq_expression: "))
        .unwrap()
        .trim_matches('\'')
        .replace("''", "'");
    assert!(expr.starts_with(".parts | ((.\"a\" * 0.766766) + (.\"b\" * (-0.050645))"));
    let rows = tmp.path().join("rows");
    write_file(
        &rows.join("a.jsonl"),
        b"{\"parts\":{\"a\":2,\"b\":0,\"c\":0}}\n{\"parts\":{\"a\":-3,\"b\":0,\"c\":0}}\n",
    );
    let got = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!(
            "SELECT jq(_json, '{}') AS v FROM '{}' ORDER BY _row",
            expr.replace('\'', "''"),
            s(&rows)
        ),
    ]);
    assert_eq!(got, "v\n1\n0\n");
}

#[test]
fn log_linear_calibration_reaches_bonepicks_optimum() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit.yaml");
    let data = fixtures().join("data");
    pick_ok(&[
        "train-calibration",
        "-d",
        s(&data),
        "-p",
        ".parts",
        "-l",
        ".gold",
        "-m",
        "log-linear",
        "-o",
        s(&out),
    ]);
    let ours = std::fs::read_to_string(&out).unwrap();
    let theirs = std::fs::read_to_string(fixtures().join("log-linear.yaml")).unwrap();
    // bonepick's L-BFGS-B runs on finite-difference gradients; pick's uses the exact one.
    // The fits agree to the precision bonepick's optimizer reaches.
    for key in ["r_squared", "rmse", "mae", "mse"] {
        assert_same(&ours, &theirs, key, 1e-3);
    }
    for key in ["a", "b", "c", "bias"] {
        assert_same(&ours, &theirs, key, 2e-2);
    }
    let (o, t) = (values(&ours, "mse")[0], values(&theirs, "mse")[0]);
    assert!(
        o <= t + 1e-6,
        "pick's fit ({o}) is no worse than bonepick's ({t})"
    );
}

#[test]
fn calibration_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = tmp.path().join("rows");
    write_file(
        &rows.join("a.jsonl"),
        b"{\"p\":0.5,\"g\":1}\n{\"p\":\"high\",\"g\":2}\n{\"g\":3}\n",
    );
    let o = pick(&["eval-calibration", "-d", s(&rows), "-p", ".p", "-l", ".g"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a.jsonl: row 3: no prediction"),
        "{}",
        stderr(&o)
    );
    let o = pick(&["eval-calibration", "-d", s(&rows), "-p", ".p |", "-l", ".g"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pick(&["train-calibration", "-d", s(&rows), "-p", ".p", "-l", ".g"]);
    assert_eq!(o.status.code(), Some(1));
}

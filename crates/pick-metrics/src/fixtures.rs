//! Every kernel against scikit-learn / SciPy / NumPy (fixtures.json, made by
//! scripts/metric_fixtures.py).

use serde_json::Value;

use super::agreement::{Confusion, Weights};
use super::calibration::ece;
use super::classification::per_class;
use super::correlation::{kendall_tau_b, pearson, spearman};
use super::quantile;
use super::ranking::{average_precision, roc_auc};
use super::regression::errors;
use super::significance::{kendall_pvalue, pearson_pvalue, spearman_pvalue};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

#[track_caller]
fn check(case: &str, metric: &str, got: Option<f64>, want: &Value) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{case}: {metric} = {g}, reference {w}"
        ),
        (g, _) => panic!("{case}: {metric} = {g:?}, reference {want}"),
    }
}

#[test]
fn kernels_match_reference_implementations() {
    let fixtures: Value = serde_json::from_str(include_str!("fixtures.json")).unwrap();
    let mut checked = 0;
    for case in fixtures["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if case.get("x").is_some() {
            let (x, y) = (floats(&case["x"]), floats(&case["y"]));
            let positive: Vec<bool> = case["positive"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_bool().unwrap())
                .collect();
            check(name, "pearson", pearson(&x, &y), &case["pearson"]);
            check(name, "spearman", spearman(&x, &y), &case["spearman"]);
            check(
                name,
                "kendall_tau_b",
                kendall_tau_b(&x, &y),
                &case["kendall_tau_b"],
            );
            let e = errors(&x, &y);
            check(name, "mae", e.as_ref().map(|e| e.mae), &case["mae"]);
            check(name, "mse", e.as_ref().map(|e| e.mse), &case["mse"]);
            check(
                name,
                "r2",
                e.as_ref().filter(|_| x.len() >= 2).map(|e| e.r2),
                &case["r2"],
            );
            check(name, "roc_auc", roc_auc(&x, &positive), &case["roc_auc"]);
            check(
                name,
                "average_precision",
                average_precision(&x, &positive),
                &case["average_precision"],
            );
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            for (q, want) in case["quantiles"].as_object().unwrap() {
                check(
                    name,
                    &format!("quantile {q}"),
                    quantile(&sorted, q.parse().unwrap()),
                    want,
                );
            }
            check(name, "ece", ece(&x, &y, 10).map(|(e, _)| e), &case["ece10"]);
            // p-values: relative agreement, since they run down to 1e-60.
            let n = x.len();
            let rel = |metric: &str, got: Option<f64>, want: &Value| match (got, want.as_f64()) {
                (Some(g), Some(w)) => assert!(
                    (g - w).abs() <= 1e-6 * w.abs() + 1e-15,
                    "{name}: {metric} = {g}, reference {w}"
                ),
                (None, None) => {}
                (g, _) => panic!("{name}: {metric} = {g:?}, reference {want}"),
            };
            rel(
                "pearson p",
                pearson(&x, &y).and_then(|r| pearson_pvalue(r, n)),
                &case["pearson_pvalue"],
            );
            rel(
                "spearman p",
                spearman(&x, &y).and_then(|r| spearman_pvalue(r, n)),
                &case["spearman_pvalue"],
            );
            rel(
                "kendall p",
                kendall_tau_b(&x, &y).and_then(|t| kendall_pvalue(t, &x, &y)),
                &case["kendall_pvalue"],
            );
        } else {
            let (a, b) = (strings(&case["a"]), strings(&case["b"]));
            let c = Confusion::from_pairs(a.iter().copied().zip(b.iter().copied()));
            assert_eq!(c.labels, strings(&case["labels"]), "{name}: label order");
            check(name, "kappa", c.kappa(Weights::Nominal), &case["kappa"]);
            let matrix: Vec<Vec<u64>> =
                serde_json::from_value(case["confusion_matrix"].clone()).unwrap();
            assert_eq!(c.matrix, matrix, "{name}: confusion matrix");
            if !case["kappa_linear"].is_null() {
                check(
                    name,
                    "kappa linear",
                    c.kappa(Weights::Linear),
                    &case["kappa_linear"],
                );
                check(
                    name,
                    "kappa quadratic",
                    c.kappa(Weights::Quadratic),
                    &case["kappa_quadratic"],
                );
            }
            for (got, want) in per_class(&a, &b)
                .iter()
                .zip(case["per_class"].as_array().unwrap())
            {
                assert_eq!(got.label, want["label"].as_str().unwrap());
                assert_eq!(got.support, want["support"].as_u64().unwrap(), "{name}");
                check(name, "precision", Some(got.precision), &want["precision"]);
                check(name, "recall", Some(got.recall), &want["recall"]);
                check(name, "f1", Some(got.f1), &want["f1"]);
            }
        }
        checked += 1;
    }
    assert!(checked >= 12);
}

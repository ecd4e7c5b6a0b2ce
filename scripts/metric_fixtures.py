#!/usr/bin/env python3
"""Reference values for pick's metric kernels, computed by scikit-learn, SciPy and NumPy.

    python3 -m venv ~/.cache/pick-bench/venv && ~/.cache/pick-bench/venv/bin/pip install scikit-learn scipy numpy
    ~/.cache/pick-bench/venv/bin/python scripts/metric_fixtures.py > crates/pick-metrics/src/fixtures.json

The output is committed; `crates/pick-metrics/src/fixtures.rs` checks every kernel against it.
Undefined results (NaN, or an exception) are written as null.
"""
import json
import math
import random
import warnings

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn import metrics

warnings.filterwarnings("ignore")


def clean(v):
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def safe(f):
    try:
        return clean(f())
    except Exception:
        return None


rng = random.Random(20261125)
cases = []


def numeric_case(name, x, y):
    """x: predictions/scores, y: gold values."""
    binary = [bool(v >= np.median(y)) for v in y]
    cases.append(
        {
            "name": name,
            "x": x,
            "y": y,
            "pearson": safe(lambda: stats.pearsonr(x, y)[0]) if len(x) >= 2 else None,
            "spearman": safe(lambda: stats.spearmanr(x, y)[0]) if len(x) >= 2 else None,
            "kendall_tau_b": safe(lambda: stats.kendalltau(x, y)[0]) if len(x) >= 2 else None,
            "pearson_pvalue": safe(lambda: stats.pearsonr(x, y)[1]) if len(x) >= 3 else None,
            "spearman_pvalue": safe(lambda: stats.spearmanr(x, y)[1]) if len(x) >= 3 else None,
            "kendall_pvalue": safe(lambda: stats.kendalltau(x, y, method="asymptotic")[1]) if len(x) >= 3 else None,
            "mae": safe(lambda: metrics.mean_absolute_error(y, x)),
            "mse": safe(lambda: metrics.mean_squared_error(y, x)),
            "r2": safe(lambda: metrics.r2_score(y, x)) if len(x) >= 2 else None,
            "positive": binary,
            "roc_auc": safe(lambda: metrics.roc_auc_score(binary, x)),
            "average_precision": safe(lambda: metrics.average_precision_score(binary, x)) if any(binary) else None,
            "quantiles": {str(q): safe(lambda: np.quantile(x, q)) for q in (0.0, 0.1, 0.25, 0.5, 0.9, 1.0)},
            "ece10": ece(x, y, 10),
        }
    )


def ece(pred, label, bins):
    if not pred:
        return None
    pred, label = np.asarray(pred, float), np.asarray(label, float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.digitize(pred, edges[1:-1])
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(pred) * abs(pred[m].mean() - label[m].mean())
    return float(total)


def label_case(name, a, b):
    labels = sorted(set(a) | set(b), key=lambda s: (float(s), s) if s.replace(".", "", 1).isdigit() else (math.inf, s))
    numeric = all(s.isdigit() for s in labels)
    consecutive = numeric and [int(s) for s in labels] == list(range(int(labels[0]), int(labels[0]) + len(labels)))
    p, r, f, s = metrics.precision_recall_fscore_support(a, b, labels=labels, zero_division=0)
    cases.append(
        {
            "name": name,
            "a": a,
            "b": b,
            "labels": labels,
            "kappa": safe(lambda: metrics.cohen_kappa_score(a, b, labels=labels)),
            # sklearn weighs by label index; equal to value distance when labels are consecutive.
            "kappa_linear": safe(lambda: metrics.cohen_kappa_score(a, b, labels=labels, weights="linear")) if consecutive else None,
            "kappa_quadratic": safe(lambda: metrics.cohen_kappa_score(a, b, labels=labels, weights="quadratic")) if consecutive else None,
            "confusion_matrix": metrics.confusion_matrix(a, b, labels=labels).tolist(),
            "per_class": [
                {"label": l, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                for i, l in enumerate(labels)
            ],
        }
    )


# Numeric: continuous, heavy ties, constant predictions, constant targets, tiny, empty.
x = [rng.random() for _ in range(500)]
y = [min(4, max(0, round(v * 4 + rng.gauss(0, 0.8)))) / 4 for v in x]
numeric_case("continuous vs ordinal", x, y)
numeric_case("heavy ties", [round(v, 1) for v in x], y)
numeric_case("all-equal predictions", [0.5] * 50, y[:50])
numeric_case("constant target", x[:40], [1.0] * 40)
numeric_case("two points", [0.2, 0.8], [0.0, 1.0])
numeric_case("out of range predictions", [v * 1.6 - 0.3 for v in x[:200]], y[:200])
numeric_case("empty", [], [])

# Labels: binary, five ordinal grades, strings, a single class, perfect agreement.
a = [rng.choice("01") for _ in range(400)]
b = [v if rng.random() < 0.8 else rng.choice("01") for v in a]
label_case("binary", a, b)
a = [str(rng.randint(1, 5)) for _ in range(600)]
b = [str(min(5, max(1, int(v) + rng.choice([-1, 0, 0, 0, 1])))) for v in a]
label_case("five grades", a, b)
a = [rng.choice(["neg", "pos", "mixed"]) for _ in range(300)]
b = [v if rng.random() < 0.6 else rng.choice(["neg", "pos", "mixed"]) for v in a]
label_case("strings", a, b)
label_case("single class", ["pos"] * 20, ["pos"] * 20)
label_case("perfect", ["1", "2", "3", "2"], ["1", "2", "3", "2"])

print(json.dumps({"generated_by": f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}", "cases": cases}, indent=1))

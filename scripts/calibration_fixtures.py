#!/usr/bin/env python3
"""Writes tests/fixtures/calibration/: a small scored dataset and bonepick 0.5.0's own
eval-calibration and train-calibration results on it, which pick's tests compare against.

    python3 scripts/calibration_fixtures.py --bonepick ~/.cache/pick-bench/bonepick-venv/bin/bonepick
"""

import argparse
import json
import math
import os
import random
import subprocess

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "calibration")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bonepick", required=True)
    args = ap.parse_args()
    rng = random.Random(7)
    os.makedirs(os.path.join(OUT, "data"), exist_ok=True)
    rows = []
    for i in range(300):
        gold = rng.choice([1, 2, 2, 3, 3, 3, 4, 5])
        a = min(1.0, max(0.0, (gold - 1) / 4 + rng.gauss(0, 0.2)))
        b = rng.random()
        c = round(rng.gauss(gold, 1.5), 3)
        pred = round(0.7 * a + 0.3 * b, 4) if i % 50 else round(a, 1)  # a few ties
        rows.append({"id": i, "gold": gold, "pred": pred,
                     "parts": {"a": round(a, 5), "b": round(b, 5), **({"c": c} if i % 3 else {})}})
    with open(os.path.join(OUT, "data", "rows.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    data = os.path.join(OUT, "data")
    runs = [
        ("eval.yaml", ["eval-calibration", "-d", data, "-p", ".pred", "-l", ".gold"]),
        ("linear.yaml", ["train-calibration", "-d", data, "-p", ".parts", "-l", ".gold",
                         "-m", "linear"]),
        ("log-linear.yaml", ["train-calibration", "-d", data, "-p", ".parts", "-l", ".gold",
                             "-m", "log-linear"]),
    ]
    for name, argv in runs:
        out = os.path.join(OUT, name)
        subprocess.run([args.bonepick] + argv + ["-o", out], check=True,
                       capture_output=True)
        # Paths in the results are this machine's; keep them relative.
        text = open(out).read().replace(os.path.abspath(data), "data").replace(data, "data")
        open(out, "w").write(text)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""annotation-agreement and eval-calibration at scale, pick against bonepick 0.5.0.

Builds (once, under --work) two annotation runs of N keyed rows (labels 1-5, run B agreeing
with run A about 70% of the time) and N scored rows (a prediction in [0, 1] and a gold grade),
as 8 zstd JSON-lines shards each; then times `pick` at every size and bonepick at the sizes
given by --bonepick-sizes, reporting wall time and peak RSS (GNU time) and checking that the
key figures (Cohen's kappa, macro AUC) agree where both ran.

    python3 scripts/metrics_bench.py --pick target/release/pick \
        --bonepick venv/bin/bonepick --work ~/.cache/pick-bench/metrics --sizes 1000000,10000000 \
        --bonepick-sizes 1000000
"""

import argparse
import json
import os
import random
import re
import subprocess
import time


def write_shards(path, n, make, shards=8):
    if os.path.exists(os.path.join(path, "done")):
        return
    os.makedirs(path, exist_ok=True)
    per = (n + shards - 1) // shards
    for s in range(shards):
        rows = "".join(json.dumps(make(i)) + "\n" for i in range(s * per, min(n, (s + 1) * per)))
        subprocess.run(["zstd", "-q", "-3", "-f", "-o", os.path.join(path, f"shard_{s}.jsonl.zst")],
                       input=rows.encode(), check=True)
    open(os.path.join(path, "done"), "w").close()


def datasets(work, n):
    rng = random.Random(n)
    gold = [rng.choice([1, 2, 3, 3, 4, 4, 5]) for _ in range(n)]
    base = os.path.join(work, str(n))
    a, b, p = (os.path.join(base, x) for x in ("run-a", "run-b", "scored"))
    write_shards(a, n, lambda i: {"id": f"doc-{i}", "label": gold[i]})
    noisy = [g if rng.random() < 0.7 else rng.choice([1, 2, 3, 4, 5]) for g in gold]
    # Run B lists its rows in another order, as a second annotation run would.
    order = list(range(n))
    rng.shuffle(order)
    write_shards(b, n, lambda i: {"id": f"doc-{order[i]}", "label": noisy[order[i]]})
    preds = [min(1.0, max(0.0, (g - 1) / 4 + rng.gauss(0, 0.25))) for g in gold]
    write_shards(p, n, lambda i: {"id": i, "pred": round(preds[i], 6), "gold": gold[i]})
    return a, b, p


def timed(cmd):
    t = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    wall = time.time() - t
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    rss = int(r.stderr.strip().splitlines()[-1]) * 1024
    return wall, rss, r.stdout + r.stderr


def grab(pattern, text):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", required=True)
    ap.add_argument("--bonepick", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--bonepick-sizes", default="1000000")
    ap.add_argument("--json")
    args = ap.parse_args()
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        a, b, p = datasets(args.work, n)
        bp = n in [int(s) for s in args.bonepick_sizes.split(",") if s]
        jobs = [
            ("annotation-agreement", ["annotation-agreement", "-d", a, "-d", b, "-l", ".label",
                                      "-k", ".id"], r"Cohen's Kappa[^0-9-]*(-?[0-9.]+)"),
            ("eval-calibration", ["eval-calibration", "-d", p, "-p", ".pred", "-l", ".gold",
                                  "--no-histogram"], r"Macro AUC:? *([0-9.]+)"),
        ]
        for name, argv, pattern in jobs:
            row = {"command": name, "rows": n}
            for tool, exe in [("pick", args.pick)] + ([("bonepick", args.bonepick)] if bp else []):
                wall, rss, out = timed([exe] + argv)
                row[tool] = {"seconds": round(wall, 2), "peak_rss_mb": round(rss / 2**20),
                             "value": grab(pattern, out)}
                print(f"{name:<22} {n:>11,} {tool:<9} {wall:8.2f} s {rss / 2**20:8.0f} MB "
                      f"value {row[tool]['value']}", flush=True)
            results.append(row)
    print()
    print("| command | rows | pick s | pick RSS MB | bonepick s | bonepick RSS MB | ratio | value (pick / bonepick) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        k, b = r["pick"], r.get("bonepick")
        bs = f"{b['seconds']:.2f}" if b else "-"
        br = f"{b['peak_rss_mb']}" if b else "-"
        ratio = f"{b['seconds'] / k['seconds']:.1f}x" if b else "-"
        val = f"{k['value']} / {b['value']}" if b else f"{k['value']}"
        print(f"| {r['command']} | {r['rows']:,} | {k['seconds']:.2f} | {k['peak_rss_mb']} | {bs} | "
              f"{br} | {ratio} | {val} |")
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Data-preparation commands, pick against bonepick 0.5.0, same input, same run.

For each of transform-dataset, balance-dataset, sample-dataset (-r and -t), reshard-dataset,
runs `pick X ...` and `bonepick X ...` with the same flags on the same input and reports wall
time, rows/s, MB/s (decompressed input bytes per second), peak RSS (GNU time's maximum
resident set of the largest process) and the ratio, plus a check of each output (row counts,
the same rows for reshard, label balance, size against the target).

    python3 scripts/prep_bench.py --pick target/release/pick --bonepick venv/bin/bonepick \
        --input DIR_WITH_train_AND_test --work /tmp/prep-bench
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import time


LABEL = '(if .metadata.code_quality.score < 3 then "neg" else "pos" end)'


def files_under(d):
    out = []
    for root, _, names in os.walk(d):
        for n in names:
            if n.endswith((".jsonl", ".jsonl.zst", ".jsonl.gz")) and not n.startswith("."):
                out.append(os.path.join(root, n))
    return sorted(out)


def read_lines(path):
    if path.endswith(".zst"):
        raw = subprocess.run(["zstd", "-dcqf", path], capture_output=True, check=True).stdout
    else:
        raw = open(path, "rb").read()
    return raw.decode("utf-8").splitlines()


def rows_of(d):
    rows = []
    for f in files_under(d):
        rel = os.path.relpath(f, d)
        rows.extend((rel, line) for line in read_lines(f) if line.strip())
    return rows


def dir_bytes(d):
    return sum(os.path.getsize(f) for f in files_under(d))


def timed(cmd, env=None):
    t = time.time()
    p = subprocess.run(
        ["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, env=env
    )
    wall = time.time() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    return wall, rss_kb * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", required=True)
    ap.add_argument("--bonepick", required=True)
    ap.add_argument("--input", required=True, help="a dataset with train/ and test/")
    ap.add_argument("--work", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    inp = args.input
    in_rows = rows_of(inp)
    n_rows = len(in_rows)
    decoded = sum(len(r[1].encode()) + 1 for r in in_rows)
    stored = dir_bytes(inp)
    target = stored // 10
    print(f"input: {inp}: {len(files_under(inp))} files, {n_rows:,} rows, "
          f"{decoded / 1e6:.1f} MB decompressed, {stored / 1e6:.1f} MB stored; "
          f"{args.threads} threads", flush=True)
    p = str(args.threads)
    cases = [
        ("transform-dataset", ["transform-dataset", "-i", inp, "-o", "{out}", "-p", p,
                               "-l", "{score: " + LABEL + "}"]),
        ("balance-dataset", ["balance-dataset", "-i", inp, "-o", "{out}", "-p", p, "-ll", LABEL]),
        ("sample-dataset -r 0.1", ["sample-dataset", "-i", inp, "-o", "{out}", "-p", p,
                                   "-r", "0.1"]),
        (f"sample-dataset -t {target}", ["sample-dataset", "-i", inp, "-o", "{out}", "-p", p,
                                         "-t", str(target)]),
        ("reshard-dataset", ["reshard-dataset", "-i", inp, "-o", "{out}", "-p", p,
                             "-n", "8", "-t", "0.1", "-v", "0.05"]),
    ]
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(args.bonepick) + ":" + env["PATH"]
    results = []
    for name, argv in cases:
        row = {"command": name}
        outs = {}
        for tool, exe in [("bonepick", args.bonepick), ("pick", args.pick)]:
            out = os.path.join(args.work, f"{tool}-{name.split()[0]}-{len(results)}")
            cmd = [exe] + [a.replace("{out}", out) for a in argv]
            if tool == "pick":
                cmd.insert(1, "-q")
            wall, rss = timed(cmd, env)
            row[tool] = {"seconds": round(wall, 3), "peak_rss_mb": round(rss / 2**20, 1),
                         "rows_per_s": round(n_rows / wall), "mb_per_s": round(decoded / 1e6 / wall, 1)}
            outs[tool] = out
            print(f"  {name:<28} {tool:<9} {wall:8.2f} s  {rss / 2**20:8.1f} MB", flush=True)
        row["ratio"] = round(row["bonepick"]["seconds"] / row["pick"]["seconds"], 1)
        row["check"] = check(name, outs, in_rows, target)
        print(f"  {'':<28} {row['ratio']}x  {row['check']}", flush=True)
        results.append(row)

    print()
    print("| command | bonepick s | pick s | ratio | pick rows/s | pick MB/s | bonepick RSS MB | pick RSS MB | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        b, k = r["bonepick"], r["pick"]
        print(f"| {r['command']} | {b['seconds']:.2f} | {k['seconds']:.2f} | {r['ratio']}x | "
              f"{k['rows_per_s']:,} | {k['mb_per_s']} | {b['peak_rss_mb']:.0f} | "
              f"{k['peak_rss_mb']:.0f} | {r['check']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input": inp, "rows": n_rows, "decoded_bytes": decoded,
                       "stored_bytes": stored, "threads": args.threads, "results": results}, f,
                      indent=1)


def check(name, outs, in_rows, target):
    b, k = rows_of(outs["bonepick"]), rows_of(outs["pick"])
    if name.startswith("transform"):
        canon = lambda rows: sorted(json.dumps(json.loads(r), sort_keys=True) for _, r in rows)
        same = canon(b) == canon(k)
        return f"{len(k):,} rows; same rows as bonepick: {same}"
    if name.startswith("balance"):
        def counts(rows):
            c = collections.Counter()
            for rel, r in rows:
                c[(rel.split("/")[0], str(json.loads(r)["score"]))] += 1
            return dict(sorted(c.items()))
        return f"pick {counts(k)} vs bonepick {counts(b)}"
    if name.startswith("sample-dataset -t"):
        return (f"pick {dir_bytes(outs['pick']) / target:.3f} of the target, "
                f"bonepick {dir_bytes(outs['bonepick']) / target:.3f}")
    if name.startswith("sample"):
        return f"pick {len(k):,} rows, bonepick {len(b):,} of {len(in_rows):,}"
    if name.startswith("reshard"):
        want = sorted(r for _, r in in_rows)
        return (f"same rows as input: pick {sorted(r for _, r in k) == want}, "
                f"bonepick {sorted(r for _, r in b) == want}")
    return ""


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""pick's fastText against the official fastText 0.9.2 binary (`apt-get install fasttext`), on
data-samples:

1. a model trained by `pick train-fasttext` loads in official fastText, which predicts for it
   what pick predicts (every probability within 1e-5);
2. with one thread, pick's model.bin and model.vec are the official ones byte for byte;
3. with several threads (Hogwild, not repeatable), pick's and official fastText's models for the
   same arguments score the same on the test split (macro F1 within 0.005).

    python3 scripts/fasttext_parity.py --pick target/release/pick [--fasttext fasttext]
"""

import argparse
import filecmp
import json
import os
import re
import subprocess
import sys
import tempfile

LABEL = '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return p.stdout


def read_jsonl_zst(path):
    out = subprocess.run(["zstd", "-dcqf", path], capture_output=True, check=True).stdout
    return [json.loads(l) for l in out.decode().splitlines() if l.strip()]


def macro_f1(yaml_text):
    return float(re.search(r"macro_f1: ([0-9.]+)", yaml_text).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", required=True)
    ap.add_argument("--fasttext", default="fasttext")
    ap.add_argument("--samples", default="data-samples")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    pick, ft = args.pick, args.fasttext
    tmp = tempfile.mkdtemp(prefix="pick-ft-parity-")
    binary, data = f"{tmp}/binary", f"{tmp}/ft"
    run([pick, "-q", "transform-dataset", "-i", args.samples, "-o", binary, "-l", LABEL])
    run([pick, "-q", "convert-to-fasttext", "-i", binary, "-o", data, "-n", "ultrafine",
         "--max-length", "2000"])
    train_args = {"--dimension": "64", "--learning-rate": "0.5", "--word-ngrams": "2",
                  "--min-count": "3", "--epoch": "10", "--bucket": "200000"}
    official_flags = ["-dim", "64", "-lr", "0.5", "-wordNgrams", "2", "-minCount", "3",
                      "-epoch", "10", "-bucket", "200000", "-minn", "0", "-maxn", "0",
                      "-ws", "5", "-neg", "5", "-seed", "42", "-loss", "softmax", "-verbose", "0"]
    flat = [x for kv in train_args.items() for x in kv]
    report = {}

    for threads in sorted({1, args.threads}):
        pm, om = f"{tmp}/pick-{threads}", f"{tmp}/official-{threads}"
        os.makedirs(om)
        run([pick, "-q", "train-fasttext", "-d", data, "-o", pm, "--thread", str(threads)] + flat)
        run([ft, "supervised", "-input", f"{data}/train.txt", "-output", f"{om}/model",
             "-thread", str(threads)] + official_flags)
        same_bin = filecmp.cmp(f"{pm}/model.bin", f"{om}/model.bin", shallow=False)
        same_vec = filecmp.cmp(f"{pm}/model.vec", f"{om}/model.vec", shallow=False)

        # Official fastText loads pick's model and predicts what pick predicts.
        official = run([ft, "predict-prob", f"{pm}/model.bin", f"{data}/test.txt", "-1"])
        official = [dict(zip(l.split()[::2], map(float, l.split()[1::2])))
                    for l in official.splitlines()]
        scored = f"{tmp}/scored-{threads}"
        run([pick, "-q", "infer-fasttext", "-m", pm, "-i", f"{binary}/test", "-o", scored,
             "-c", "q", "--normalizer", "ultrafine", "--max-length", "2000"])
        ours = [r["metadata"]["q"] for r in read_jsonl_zst(f"{scored}/shard_00.jsonl.zst")]
        assert len(ours) == len(official), (len(ours), len(official))
        worst = max(abs(o[k] - p.get(k, 0.0)) for o, p in zip(official, ours) for k in o)
        loads = run([ft, "test", f"{pm}/model.bin", f"{data}/test.txt"])
        p_at_1 = float(re.search(r"P@1\s+([0-9.]+)", loads).group(1))

        f1_pick = macro_f1(run([pick, "-q", "eval-fasttext", "-d", data, "-m", pm]))
        f1_official = macro_f1(run([pick, "-q", "eval-fasttext", "-d", data, "-m", om]))
        report[threads] = {
            "model.bin identical": same_bin, "model.vec identical": same_vec,
            "official P@1 on pick's model": p_at_1,
            "largest |official - pick| probability": worst,
            "macro F1 pick-trained": f1_pick, "macro F1 official-trained": f1_official,
        }
        print(f"threads {threads}: " + json.dumps(report[threads]), flush=True)
        assert worst <= 1e-5, worst
        assert abs(f1_pick - f1_official) <= 0.005, (f1_pick, f1_official)
        if threads == 1:
            assert same_bin and same_vec
    print("parity holds")


if __name__ == "__main__":
    main()

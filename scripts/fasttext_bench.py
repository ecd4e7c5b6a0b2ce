#!/usr/bin/env python3
"""fastText inference and training, pick against bonepick 0.5.0 and the official fastText 0.9.2
binary, same data, same run.

Model: bonepick's default size (dim 256, 2M buckets, word 3-grams: a ~2 GB model.bin), trained
on data-samples (neg/pos, ultrafine) by official fastText and by pick with the same arguments
and threads (training parity: wall time and macro F1 on data-samples' test split).

Inference input: the first --shards shards of a corpus of JSONL.zst documents. Cases:
- bonepick infer-fasttext --normalizer ultrafine vs pick infer-fasttext --normalizer ultrafine
  (the whole job: read, normalize, score, write);
- official `fasttext predict-prob model.bin texts.txt -1` on the texts already normalized, one
  per line, vs pick infer-fasttext on the same normalized texts (scoring alone), with 1 thread
  and with all.
Reports wall seconds, docs/s and MB/s (per core too), peak RSS, ratios, and checks that pick's
probabilities equal bonepick's within 1e-5.

    python3 scripts/fasttext_bench.py --pick target/release/pick --bonepick venv/bin/bonepick \
        --corpus DIR --work /tmp/ft-bench
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

LABEL = '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'


def timed(cmd, env=None, stdout=subprocess.DEVNULL):
    t = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=stdout,
                       stderr=subprocess.PIPE, text=True, env=env)
    wall = time.time() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return wall, int(p.stderr.strip().splitlines()[-1]) * 1024


def jsonl_zst(path):
    out = subprocess.run(["zstd", "-dcqf", path], capture_output=True, check=True).stdout
    return [json.loads(l) for l in out.decode().splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", required=True)
    ap.add_argument("--bonepick", required=True)
    ap.add_argument("--fasttext", default="fasttext")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--samples", default="data-samples")
    ap.add_argument("--work", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    args = ap.parse_args()
    pick, ft, T = args.pick, args.fasttext, args.threads
    w = args.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(f"{w}/input")
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(args.bonepick) + ":" + env["PATH"]
    results = {"threads": T}

    # Training data and the two models.
    subprocess.run([pick, "-q", "transform-dataset", "-i", args.samples, "-o", f"{w}/binary",
                    "-l", LABEL], check=True)
    subprocess.run([pick, "-q", "convert-to-fasttext", "-i", f"{w}/binary", "-o", f"{w}/ft",
                    "-n", "ultrafine"], check=True)
    flags = ["-dim", "256", "-lr", "0.1", "-wordNgrams", "3", "-minCount", "5", "-epoch", "3",
             "-bucket", "2000000", "-minn", "0", "-maxn", "0", "-ws", "5", "-neg", "5",
             "-seed", "42", "-thread", str(T), "-loss", "softmax", "-verbose", "0"]
    os.makedirs(f"{w}/official-model")
    t_off, rss_off = timed([ft, "supervised", "-input", f"{w}/ft/train.txt", "-output",
                            f"{w}/official-model/model"] + flags)
    t_pick, rss_pick = timed([pick, "-q", "train-fasttext", "-d", f"{w}/ft", "-o",
                              f"{w}/pick-model", "--thread", str(T)])
    f1 = {}
    for name in ["official-model", "pick-model"]:
        y = subprocess.run([pick, "-q", "eval-fasttext", "-d", f"{w}/ft", "-m", f"{w}/{name}"],
                           capture_output=True, text=True, check=True).stdout
        f1[name] = float(re.search(r"macro_f1: ([0-9.]+)", y).group(1))
    train_mb = os.path.getsize(f"{w}/ft/train.txt") / 1e6
    results["train"] = {
        "train_txt_mb": round(train_mb, 1),
        "official": {"seconds": round(t_off, 2), "peak_rss_mb": round(rss_off / 2**20)},
        "pick": {"seconds": round(t_pick, 2), "peak_rss_mb": round(rss_pick / 2**20)},
        "macro_f1": f1,
        "model_bin_mb": round(os.path.getsize(f"{w}/pick-model/model.bin") / 1e6),
    }
    print("train:", json.dumps(results["train"]), flush=True)
    model = f"{w}/pick-model"

    # Inference input.
    shards = sorted(glob.glob(os.path.join(args.corpus, "*.jsonl.zst")))[: args.shards]
    for s in shards:
        os.symlink(os.path.abspath(s), f"{w}/input/{os.path.basename(s)}")
    texts_bytes, docs = 0, 0
    for s in shards:
        for r in jsonl_zst(s):
            texts_bytes += len(r["text"].encode())
            docs += 1
    print(f"input: {len(shards)} shards, {docs:,} docs, {texts_bytes / 1e6:.1f} MB of text; "
          f"{T} threads", flush=True)
    results["input"] = {"shards": len(shards), "docs": docs, "text_mb": round(texts_bytes / 1e6, 1)}

    def row(name, wall, rss, threads):
        r = {"seconds": round(wall, 2), "docs_per_s": round(docs / wall),
             "docs_per_s_per_core": round(docs / wall / threads),
             "mb_per_s": round(texts_bytes / 1e6 / wall, 2),
             "mb_per_s_per_core": round(texts_bytes / 1e6 / wall / threads, 2),
             "peak_rss_mb": round(rss / 2**20), "threads": threads}
        print(f"  {name:<44} {wall:8.2f} s {r['docs_per_s']:>8,} docs/s "
              f"{r['mb_per_s']:>7} MB/s {r['peak_rss_mb']:>6} MB", flush=True)
        return r

    cases = {}
    # The whole job: normalize + score + write.
    wall, rss = timed([args.bonepick, "infer-fasttext", "-m", model, "-i", f"{w}/input", "-o",
                       f"{w}/bonepick-out", "-c", "q", "--normalizer", "ultrafine",
                       "--num-proc", str(T)], env)
    cases["bonepick infer-fasttext --normalizer ultrafine"] = row(
        "bonepick infer --normalizer ultrafine", wall, rss, T)
    for t in sorted({1, T}):
        wall, rss = timed([pick, "-q", "infer-fasttext", "-m", model, "-i", f"{w}/input", "-o",
                           f"{w}/pick-out-{t}", "-c", "q", "--normalizer", "ultrafine", "-p", str(t)])
        cases[f"pick infer-fasttext --normalizer ultrafine -p {t}"] = row(
            f"pick infer --normalizer ultrafine -p {t}", wall, rss, t)

    # The same job with a small model (data-samples/fasttext/binary: dim 16, 20,000 buckets):
    # scoring a 2 GB model is memory-bound, a small one is not.
    small = os.path.join(args.samples, "fasttext", "binary")
    wall, rss = timed([pick, "-q", "infer-fasttext", "-m", small, "-i", f"{w}/input", "-o",
                       f"{w}/pick-small-{T}", "-c", "q", "--normalizer", "ultrafine", "-p", str(T)])
    cases[f"pick infer-fasttext --normalizer ultrafine, dim-16 model, -p {T}"] = row(
        f"pick infer --normalizer ultrafine small -p {T}", wall, rss, T)
    wall, rss = timed([pick, "-q", "infer-fasttext", "-m", small, "-i", f"{w}/input", "-o",
                       f"{w}/pick-small-raw-{T}", "-c", "q", "-p", str(T)])
    cases[f"pick infer-fasttext (raw text), dim-16 model, -p {T}"] = row(
        f"pick infer (raw text) small -p {T}", wall, rss, T)

    # Scoring alone: the normalized texts, one per line, for official fastText and for pick.
    os.makedirs(f"{w}/normalized")
    subprocess.run([pick, "-q", "sql", "-d", f"i={w}/input", "-o", f"{w}/normalized/n.jsonl",
                    "SELECT normalize(text, 'ultrafine') AS text FROM i ORDER BY _file, _row"],
                   check=True)
    with open(f"{w}/normalized/n.jsonl") as src, open(f"{w}/texts.txt", "w") as dst:
        for line in src:
            dst.write(json.loads(line)["text"].replace("\n", " ").replace("\r", " ") + "\n")
    wall, rss = timed([ft, "predict-prob", f"{model}/model.bin", f"{w}/texts.txt", "-1"])
    cases["official fasttext predict-prob (1 thread)"] = row(
        "official predict-prob (normalized text)", wall, rss, 1)
    for t in sorted({1, T}):
        wall, rss = timed([pick, "-q", "infer-fasttext", "-m", model, "-i", f"{w}/normalized",
                           "-o", f"{w}/pick-scored-{t}", "-c", "q", "-p", str(t)])
        cases[f"pick infer-fasttext (normalized text) -p {t}"] = row(
            f"pick infer (normalized text) -p {t}", wall, rss, t)
    results["infer"] = cases

    # pick's probabilities against bonepick's (predict-prob's 6 digits).
    worst, n = 0.0, 0
    for s in shards:
        name = os.path.basename(s)
        a = jsonl_zst(f"{w}/bonepick-out/{name}")
        b = jsonl_zst(f"{w}/pick-out-{T}/{name}")
        assert len(a) == len(b)
        for x, y in zip(a, b):
            px, py = x["metadata"]["q"], y["metadata"]["q"]
            worst = max(worst, max(abs(px[k] - py.get(k, 0.0)) for k in px))
            n += 1
    results["check"] = {"rows": n, "largest_difference": worst}
    print(f"check: {n:,} rows, largest |bonepick - pick| probability {worst:.2e}")

    b = cases["bonepick infer-fasttext --normalizer ultrafine"]["seconds"]
    p = cases[f"pick infer-fasttext --normalizer ultrafine -p {T}"]["seconds"]
    o = cases["official fasttext predict-prob (1 thread)"]["seconds"]
    p1 = cases["pick infer-fasttext (normalized text) -p 1"]["seconds"]
    pT = cases[f"pick infer-fasttext (normalized text) -p {T}"]["seconds"]
    results["ratios"] = {"bonepick/pick (whole job)": round(b / p, 1),
                         "official/pick scoring, 1 thread each": round(o / p1, 2),
                         f"official (1 thread, all it has)/pick {T} threads": round(o / pT, 2)}
    print(json.dumps(results["ratios"]))
    print()
    print("| run | threads | seconds | docs/s | docs/s/core | MB/s/core | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in cases.items():
        print(f"| {name} | {r['threads']} | {r['seconds']:.2f} | {r['docs_per_s']:,} | "
              f"{r['docs_per_s_per_core']:,} | {r['mb_per_s_per_core']} | {r['peak_rss_mb']:,} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

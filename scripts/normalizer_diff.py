#!/usr/bin/env python3
"""Run bonepick 0.5.0 and pick over the same documents with every normalizer; report mismatches
(row by row, byte for byte) and wall times. Also compares `count-tokens` and times the
`tokenizers` library's own batch encode (the Rust crate, multi-threaded) on the same texts.

  python3 scripts/normalizer_diff.py --pick target/release/pick \
      --bonepick ~/.cache/pick-bench/bonepick-venv/bin/bonepick --corpus ~/.cache/pick-bench/corpus-2e9

Input: real documents from a JSON-lines corpus (those richest in non-ASCII text first, then an
even sample), plus seeded synthetic stress documents (control characters, combining marks,
mojibake, CJK/Hangul/RTL, e-mails/URLs/hex ids, CRLF, tabs, indentation). Exit status 1 if any
normalizer mismatches.
"""
import argparse
import glob
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time

NORMALIZERS = ["whitespace", "plsfix", "tokenizer", "ultrafine", "ultrafine_commits",
               "hyperfine", "hyperfine_code", "potion", "potion_code"]


def read_corpus(corpus, limit_bytes):
    """Rows of the corpus shards (zstd via the zstd CLI), up to limit_bytes of text."""
    total = 0
    for path in sorted(glob.glob(os.path.join(corpus, "**", "*.jsonl*"), recursive=True)):
        cmd = ["zstd", "-dc", path] if path.endswith((".zst", ".zstd")) else ["cat", path]
        out = subprocess.run(cmd, check=True, capture_output=True).stdout
        for line in io.BytesIO(out):
            row = json.loads(line)
            text = row.get("text")
            if isinstance(text, str):
                yield text
                total += len(text)
                if total >= limit_bytes:
                    return


def stress_docs(n, seed):
    rng = random.Random(seed)
    pieces = [
        "Hello", "world", "  ", "\t", "\n", "\r\n", "\n\n\n\n", "\x1c", "\x1d", "\x1e", "\x1f", "\x0b", "\x0c",
        "\x00", "\x07", "\x1b[31m", "\x85", "\u2028", "\u2029", "\ufeff", "café", "e\u0301", "a\u0308\u0304",
        "naïve", "İstanbul", "ΣΟΦΟΣ", "straße", "ﬁ", "ﬀ", "½", "²", "ℌ", "ＦＵＬＬ", "，", "。", "中文测试",
        "日本語のテキスト", "한국어 텍스트", "שלום", "مرحبا", "😀", "👍🏽", "©®™", "← →", "“quoted”", "‘single’",
        "–", "—", "…", "doesnâ€™t", "&amp;", "&lt;b&gt;", "__label__pos", "john.doe@example.com",
        "https://www.example.org/path?q=1", "utils.py", "v1.2.3", "3f2a9b8c7d6e5f4a3b2c1d0e",
        "6f1c2a3b-4d5e-6f7a-8b9c-0d1e2f3a4b5c", "trunk@1234", "0xDEADBEEF", "1e-10", "2024", "$1,234.56",
        "    ", "  def f(x):", "        return x", "\u3000", "\xa0", "CamelCase", "snake_case", "kebab-case",
        "'s", "'LL", "don't", "<|endoftext|>", "<|im_start|>", "\u200b", "\u00ad", "ǅ", "Ⅻ", "٣", "१२", "₂",
    ]
    for _ in range(n):
        k = rng.randint(1, 60)
        yield "".join(rng.choice(pieces) + rng.choice(["", " ", "", "\n"]) for _ in range(k))


def build_input(args, work):
    texts = list(read_corpus(args.corpus, args.scan_mb * 1_000_000))
    # Documents richest in non-ASCII first (they exercise plsfix, NFKD and byte-level BPE), then an
    # even sample of the rest.
    ranked = sorted(range(len(texts)), key=lambda i: -sum(ord(c) > 127 for c in texts[i][:4096]))
    chosen = ranked[: args.docs // 2]
    rest = sorted(set(range(len(texts))) - set(chosen))
    step = max(1, len(rest) // max(1, args.docs - len(chosen)))
    chosen += rest[::step][: args.docs - len(chosen)]
    docs = [texts[i] for i in sorted(chosen)]
    if args.big:
        # One text over 2^20 code points, so the cut is exercised.
        docs.append(("line of text é\n" * 80000)[: (1 << 20) + 500] + "\ntail")
    docs += list(stress_docs(args.stress, seed=20261125))
    os.makedirs(os.path.join(work, "in"), exist_ok=True)
    with open(os.path.join(work, "in", "docs.jsonl"), "w", encoding="utf-8") as f:
        for i, t in enumerate(docs):
            f.write(json.dumps({"id": i, "text": t, "score": "__label__Pos X"}, ensure_ascii=False) + "\n")
    return docs


def run(cmd):
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return elapsed, p.stdout


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pick", required=True)
    ap.add_argument("--bonepick", required=True, help="bonepick 0.5.0's console script")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--docs", type=int, default=10000, help="real documents")
    ap.add_argument("--stress", type=int, default=1000, help="synthetic stress documents")
    ap.add_argument("--scan-mb", type=int, default=200, help="MB of corpus text to choose from")
    ap.add_argument("--big", action="store_true", help="add one text over 2^20 code points")
    ap.add_argument("--normalizers", default=",".join(NORMALIZERS))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/pick-bench/normalizer-diff"))
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    docs = build_input(args, args.work)
    mb = sum(len(t.encode("utf-8")) for t in docs) / 1e6
    print(f"{len(docs)} documents, {mb:.1f} MB of text, {args.threads} threads", flush=True)
    src = os.path.join(args.work, "in")
    results = []
    failed = False
    for name in args.normalizers.split(","):
        outs = {}
        times = {}
        for tool, exe in [("bonepick", args.bonepick), ("pick", args.pick)]:
            out = os.path.join(args.work, f"{tool}-{name}")
            cmd = [exe, "normalize-dataset", "-i", src, "-o", out, "-n", name, "-t", "text", "-l", "score",
                   "-p", str(args.threads)]
            times[tool], _ = run(cmd)
            outs[tool] = rows(os.path.join(out, "docs.jsonl"))
        mismatches = [(a["id"], a["text"], b["text"]) for a, b in zip(outs["bonepick"], outs["pick"]) if a != b]
        if len(outs["bonepick"]) != len(outs["pick"]):
            mismatches.append(("row count", len(outs["bonepick"]), len(outs["pick"])))
        failed |= bool(mismatches)
        r = {"normalizer": name, "docs": len(docs), "mb": round(mb, 2), "mismatches": len(mismatches),
             "bonepick_s": round(times["bonepick"], 3), "pick_s": round(times["pick"], 3),
             "pick_mb_s": round(mb / times["pick"], 1), "speedup": round(times["bonepick"] / times["pick"], 1)}
        results.append(r)
        print(json.dumps(r), flush=True)
        for doc_id, want, got in mismatches[:3]:
            print(f"  doc {doc_id}:\n    bonepick {want!r:.300}\n    pick     {got!r:.300}")

    # count-tokens, and the tokenizers library's own batch encode of the same texts.
    for tok_name, tok_file in [("dolma2", "dolma2_tokenizer.json"), ("ultrafine", "ultra_fineweb_tokenizer.json")]:
        t_pick, out = run([args.pick, "-q", "count-tokens", "-d", src, "-t", tok_name, "-p", str(args.threads)])
        pick_tokens = int(next(l for l in out.splitlines() if l.startswith("Total tokens")).split(":")[1].replace(",", ""))
        r = {"tokenizer": tok_name, "pick_s": round(t_pick, 3), "pick_tokens": pick_tokens}
        if tok_name == "dolma2":
            t_bp, out = run([args.bonepick, "count-tokens", "-d", src, "-p", str(args.threads)])
            line = next(l for l in out.splitlines() if "Total tokens" in l)
            r["bonepick_s"] = round(t_bp, 3)
            r["bonepick_tokens"] = int(line.split(":")[-1].strip().replace(",", ""))
            failed |= r["bonepick_tokens"] != pick_tokens
        py = os.path.join(os.path.dirname(args.bonepick), "python")
        tok_path = glob.glob(os.path.join(os.path.dirname(args.bonepick), "..", "lib", "python3*", "site-packages",
                                          "bonepick", "data", "tokenizers_config", tok_file))[0]
        code = ("import json,sys,time\nfrom tokenizers import Tokenizer\n"
                f"t=Tokenizer.from_file({tok_path!r})\n"
                f"texts=[json.loads(l)['text'] for l in open({os.path.join(src, 'docs.jsonl')!r})]\n"
                "s=time.perf_counter(); enc=t.encode_batch_fast(texts, add_special_tokens=False)\n"
                "print(time.perf_counter()-s, sum(len(e.ids) for e in enc))\n")
        _, out = run([py, "-c", code])
        secs, n = out.split()
        r["tokenizers_encode_batch_s"] = round(float(secs), 3)
        r["tokenizers_tokens"] = int(n)
        failed |= int(n) != pick_tokens
        results.append(r)
        print(json.dumps(r), flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

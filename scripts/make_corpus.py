#!/usr/bin/env python3
"""Build a JSON-lines corpus of real text: Rust source files and READMEs of MIT- or
Apache-2.0-licensed crates from a cargo registry source cache.

Each row looks like an LLM-annotated pretraining document:
  {"id": ..., "text": ..., "source": {"crate", "version", "path", "license", "kind"},
   "metadata": {"code_quality": {"score": 1..5, "annotator": "heuristic-v1"}}}

The score is a deterministic heuristic (documentation, comments, line lengths, tests), not
an LLM's judgement; it gives the classifiers something learnable.

  data-samples:  make_corpus.py --src ~/.cargo/registry/src --out data-samples --docs 2500 --splits
  bench corpus:  make_corpus.py --src ~/.cargo/registry/src --out /tmp/corpus --bytes 2e9 --shards 16

Shards are written as plain .jsonl; compress them with `zstd` (or `pick export`).
"""
import argparse
import hashlib
import json
import os
import re
import sys

ALLOWED = {"MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception"}
MAX_DOC_BYTES = 24 * 1024


def crate_license(crate_dir):
    try:
        with open(os.path.join(crate_dir, "Cargo.toml"), encoding="utf-8") as f:
            toml = f.read()
    except OSError:
        return None
    m = re.search(r'^license\s*=\s*"([^"]+)"', toml, re.M)
    if not m:
        return None
    parts = re.split(r"\s+OR\s+|/", m.group(1).strip().strip("()"))
    return m.group(1) if parts and all(p.strip("() ") in ALLOWED for p in parts) else None


def split_name_version(name):
    m = re.match(r"^(.*)-(\d+\.\d+\.\d+.*)$", name)
    return (m.group(1), m.group(2)) if m else (name, "")


def score_code(text):
    lines = text.splitlines() or [""]
    n = len(lines)
    comments = sum(1 for l in lines if l.lstrip().startswith("//"))
    docs = sum(1 for l in lines if l.lstrip().startswith(("///", "//!")))
    long = sum(1 for l in lines if len(l) > 100)
    avg = sum(len(l) for l in lines) / n
    score = 1
    score += docs > 0
    score += 0.08 <= comments / n <= 0.5
    score += long / n < 0.02 and avg < 60
    score += "#[test]" in text or "#[cfg(test)]" in text
    return int(score)


def score_prose(text):
    lines = text.splitlines() or [""]
    score = 1
    score += sum(1 for l in lines if l.startswith("#")) >= 2
    score += "```" in text
    score += len(text) > 1500
    score += bool(re.search(r"\[[^\]]+\]\([^)]+\)", text))
    return int(score)


def documents(src):
    for registry in sorted(os.listdir(src)):
        reg_dir = os.path.join(src, registry)
        if not os.path.isdir(reg_dir):
            continue
        for crate in sorted(os.listdir(reg_dir)):
            crate_dir = os.path.join(reg_dir, crate)
            license = crate_license(crate_dir)
            if not license:
                continue
            name, version = split_name_version(crate)
            for root, dirs, files in os.walk(crate_dir):
                dirs.sort()
                for fname in sorted(files):
                    is_code = fname.endswith(".rs")
                    is_prose = fname.lower().startswith("readme") and fname.lower().endswith(".md")
                    if not (is_code or is_prose):
                        continue
                    path = os.path.join(root, fname)
                    try:
                        if os.path.getsize(path) > MAX_DOC_BYTES:
                            continue
                        with open(path, encoding="utf-8") as f:
                            text = f.read()
                    except (OSError, UnicodeDecodeError):
                        continue
                    if len(text.strip()) < 200:
                        continue
                    rel = os.path.relpath(path, crate_dir)
                    yield {
                        "crate": name,
                        "version": version,
                        "path": rel,
                        "license": license,
                        "kind": "code" if is_code else "prose",
                        "text": text,
                    }


def row(doc, copy):
    score = score_code(doc["text"]) if doc["kind"] == "code" else score_prose(doc["text"])
    doc_id = f'{doc["crate"]}-{doc["version"]}/{doc["path"]}'
    if copy:
        doc_id += f"#{copy}"
    return {
        "id": doc_id,
        "text": doc["text"],
        "source": {k: doc[k] for k in ("crate", "version", "path", "license", "kind")},
        "metadata": {"code_quality": {"score": score, "annotator": "heuristic-v1"}},
    }


def bucket(key, n):
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", type=int, help="sample this many documents")
    ap.add_argument("--bytes", type=float, help="write until this many bytes of JSON text")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--splits", action="store_true", help="80/10/10 train/valid/test")
    ap.add_argument("--provenance", help="write the list of crates used here")
    args = ap.parse_args()

    docs = list(documents(args.src))
    if not docs:
        sys.exit(f"no MIT/Apache-2.0 documents under {args.src}")
    if args.docs:
        docs.sort(key=lambda d: hashlib.sha1((d["crate"] + d["path"]).encode()).hexdigest())
        docs = docs[: args.docs]
        docs.sort(key=lambda d: (d["crate"], d["version"], d["path"]))

    os.makedirs(args.out, exist_ok=True)
    handles = {}

    def out(split, shard):
        key = (split, shard)
        if key not in handles:
            d = os.path.join(args.out, split) if split else args.out
            os.makedirs(d, exist_ok=True)
            handles[key] = open(os.path.join(d, f"shard_{shard:02d}.jsonl"), "w", encoding="utf-8")
        return handles[key]

    written = 0
    copy = 0
    while True:
        for i, doc in enumerate(docs):
            r = row(doc, copy)
            line = json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
            split = ""
            if args.splits:
                b = bucket(r["id"], 10)
                split = "train" if b < 8 else ("valid" if b == 8 else "test")
            shards = args.shards if split in ("", "train") else 1
            shard = bucket(r["id"] + "s", shards)
            out(split, shard).write(line)
            written += len(line.encode())
            if args.bytes and written >= args.bytes:
                break
        copy += 1
        if not args.bytes or written >= args.bytes:
            break
    for h in handles.values():
        h.close()

    if args.provenance:
        crates = sorted({(d["crate"], d["version"], d["license"]) for d in docs})
        with open(args.provenance, "w", encoding="utf-8") as f:
            for c in crates:
                f.write(f"{c[0]} {c[1]} ({c[2]})\n")
    print(f"wrote {written} bytes of JSON text from {len(docs)} documents to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

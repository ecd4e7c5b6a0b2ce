#!/usr/bin/env python3
"""Python model2vec 0.10's `StaticModel.encode` on the texts benches/model2vec.rs times (the
data-samples documents, and 100-byte pieces of them), one thread (RAYON_NUM_THREADS=1, no
multiprocessing) and two; the same output lines as pick's bench. Run by benches/model2vec.sh in
the venv scripts/make_model2vec_fixture.py makes (~/.cache/pick-model2vec/venv).

    python benches/model2vec_peers.py MODEL_DIR DATA_SAMPLES_DIR THREADS
"""

import io
import json
import sys
import time
from pathlib import Path

import zstandard
from model2vec import StaticModel


def texts(root):
    out = []
    for split in ["train", "valid", "test"]:
        for shard in sorted((Path(root) / split).glob("*.jsonl.zst")):
            data = zstandard.ZstdDecompressor().stream_reader(shard.open("rb")).read()
            out.extend(json.loads(line)["text"] for line in io.StringIO(data.decode()))
    return out


def pieces(docs):
    out = []
    for d in docs:
        b = d.encode()
        for k in range(20):
            h = b[k * 100:k * 100 + 100].decode(errors="ignore")
            if len(h.encode()) >= 50:
                out.append(h)
    return out


def main():
    model = StaticModel.from_pretrained(sys.argv[1])
    docs = texts(sys.argv[2])
    threads = int(sys.argv[3])
    for name, batch in [("documents", docs), ("short", pieces(docs))]:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            model.encode(batch, use_multiprocessing=threads > 1, batch_size=1024)
            best = min(best, time.perf_counter() - t)
        print(f"model2vec-python {name} threads={threads}: {len(batch) / best:.0f} texts/s "
              f"({len(batch) / best / threads:.0f} per core)")


if __name__ == "__main__":
    main()

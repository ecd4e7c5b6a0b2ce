#!/usr/bin/env bash
# Scan throughput: pick against DuckDB's read_json and Polars' scan_ndjson on the same
# .jsonl.zst files (and pick on their Parquet copy), each query in a fresh process.
#
#   bash benches/scan.sh            # 2 GB of JSON text (the issue's target size)
#   SIZE=2e8 bash benches/scan.sh   # a quicker 200 MB run
#
# Everything it makes (venv, corpus) lives under $PICK_BENCH_CACHE, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SIZE=${SIZE:-2e9}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"

cargo build --release --quiet
PICK=$CARGO_TARGET_DIR/release/pick

if [ ! -x "$CACHE/venv/bin/python" ]; then
  python3 -m venv "$CACHE/venv"
fi
"$CACHE/venv/bin/pip" install --quiet duckdb polars

corpus=$CACHE/corpus-$SIZE
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes "$SIZE" --shards 16
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi
echo "corpus: $corpus ($(du -sh "$corpus" | cut -f1) as zstd)"
echo "duckdb $("$CACHE/venv/bin/python" -c 'import duckdb; print(duckdb.__version__)'), polars $("$CACHE/venv/bin/python" -c 'import polars; print(polars.__version__)'), $(nproc) cores"
"$PICK" bench scan "$corpus" --python "$CACHE/venv/bin/python" --peers-script benches/scan_peers.py \
  --runs "${RUNS:-3}" --json "$CACHE/scan-results.json"

#!/usr/bin/env bash
# Data preparation against bonepick 0.5.0 on the same data in the same run: transform, balance,
# sample (-r, -t) and reshard; wall time, rows/s, MB/s, peak RSS and an output check each.
#
#   bash benches/prep.sh                # 4 corpus shards: train/ 3, test/ 1 (~500 MB of JSON)
#   SHARDS=8 bash benches/prep.sh       # more data
#
# bonepick needs Python >= 3.12; its venv and the corpus live under $PICK_BENCH_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
PY312=${PY312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python3)}
SHARDS=${SHARDS:-4}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"

cargo build --release --quiet
PICK=$CARGO_TARGET_DIR/release/pick

if [ ! -x "$CACHE/bonepick-venv/bin/bonepick" ]; then
  "$PY312" -m venv "$CACHE/bonepick-venv"
  "$CACHE/bonepick-venv/bin/pip" install --quiet bonepick==0.5.0 rich
fi

corpus=$CACHE/corpus-2e9
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes 2e9 --shards 16
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi

# train/ gets all shards but the last, test/ the last.
input=$CACHE/prep-input-$SHARDS
if [ ! -d "$input" ]; then
  mkdir -p "$input/train" "$input/test"
  mapfile -t shards < <(ls "$corpus"/*.jsonl.zst | sort | head -n "$SHARDS")
  for s in "${shards[@]:0:$((SHARDS - 1))}"; do ln -s "$s" "$input/train/"; done
  ln -s "${shards[$((SHARDS - 1))]}" "$input/test/"
fi
"$CACHE/bonepick-venv/bin/python" scripts/prep_bench.py --pick "$PICK" \
  --bonepick "$CACHE/bonepick-venv/bin/bonepick" --input "$input" --work "$CACHE/prep-work" \
  --json "$CACHE/prep-results.json" "$@"

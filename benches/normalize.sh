#!/usr/bin/env bash
# Normalizers and count-tokens against bonepick 0.5.0 on the same documents in the same run:
# every normalizer's output compared row by row (mismatches must be zero), wall times and MB/s,
# and the `tokenizers` library's own multi-threaded batch encode of the same texts.
#
#   bash benches/normalize.sh                 # 10,000 real documents + 1,000 stress documents
#   DOCS=40000 bash benches/normalize.sh      # more text for steadier throughput numbers
#
# bonepick needs Python >= 3.12; its venv and the corpus live under $PICK_BENCH_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
PY312=${PY312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python3)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"

cargo build --release --quiet
PICK=$CARGO_TARGET_DIR/release/pick

if [ ! -x "$CACHE/bonepick-venv/bin/bonepick" ]; then
  "$PY312" -m venv "$CACHE/bonepick-venv"
  "$CACHE/bonepick-venv/bin/pip" install --quiet bonepick==0.5.0 rich
fi

corpus=$CACHE/corpus-2e8
[ -d "$CACHE/corpus-2e9" ] && corpus=$CACHE/corpus-2e9
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes 2e8 --shards 4
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi
python3 scripts/normalizer_diff.py --pick "$PICK" --bonepick "$CACHE/bonepick-venv/bin/bonepick" \
  --corpus "$corpus" --docs "${DOCS:-10000}" --stress "${STRESS:-1000}" --big \
  --json "$CACHE/normalize-results.json" "$@"

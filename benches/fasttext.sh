#!/usr/bin/env bash
# fastText inference and training: pick, bonepick 0.5.0 and official fastText 0.9.2 on the same
# data in the same run (scripts/fasttext_bench.py), then the parity checks
# (scripts/fasttext_parity.py). Needs the `fasttext` binary: apt-get install -y fasttext.
#
#   CORPUS=~/.cache/pick-bench/corpus-2e9 bash benches/fasttext.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
PY312=${PY312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python3)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
command -v fasttext >/dev/null || { echo "needs the fasttext binary: apt-get install -y fasttext" >&2; exit 2; }
mkdir -p "$CACHE"
cargo build --release --quiet
if [ ! -x "$CACHE/bonepick-venv/bin/bonepick" ]; then
  "$PY312" -m venv "$CACHE/bonepick-venv"
  "$CACHE/bonepick-venv/bin/pip" install --quiet bonepick==0.5.0 rich
fi
python3 scripts/fasttext_parity.py --pick "$CARGO_TARGET_DIR/release/pick"
python3 scripts/fasttext_bench.py --pick "$CARGO_TARGET_DIR/release/pick" \
  --bonepick "$CACHE/bonepick-venv/bin/bonepick" --corpus "${CORPUS:?set CORPUS to a directory of .jsonl.zst shards}" \
  --work "$CACHE/fasttext-work" --json "$CACHE/fasttext-results.json" "$@"

#!/usr/bin/env bash
# annotation-agreement over keyed pairs and eval-calibration over predictions, at 1M and 10M
# rows, with bonepick 0.5.0 on the sizes it can finish (BONEPICK_SIZES), same data, same run.
#
#   bash benches/metrics.sh
#   SIZES=1000000 BONEPICK_SIZES=1000000 bash benches/metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
PY312=${PY312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python3)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"
cargo build --release --quiet
if [ ! -x "$CACHE/bonepick-venv/bin/bonepick" ]; then
  "$PY312" -m venv "$CACHE/bonepick-venv"
  "$CACHE/bonepick-venv/bin/pip" install --quiet bonepick==0.5.0 rich
fi
python3 scripts/metrics_bench.py --pick "$CARGO_TARGET_DIR/release/pick" \
  --bonepick "$CACHE/bonepick-venv/bin/bonepick" --work "$CACHE/metrics" \
  --sizes "${SIZES:-1000000,10000000}" --bonepick-sizes "${BONEPICK_SIZES:-1000000}" \
  --json "$CACHE/metrics-results.json" "$@"

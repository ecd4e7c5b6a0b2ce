#!/usr/bin/env bash
# bonepick 0.5.0's convert-to-fasttext outputs on data-samples, which pick's tests compare
# against (tests/fixtures/fasttext). Texts are cut (--max-length) to keep the files small.
#
#   bash scripts/fasttext_fixtures.sh ~/.cache/pick-bench/bonepick-venv/bin/bonepick
set -euo pipefail
cd "$(dirname "$0")/.."
BONEPICK=$1
PICK=${PICK:-${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}/release/pick}
OUT=tests/fixtures/fasttext
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The worklog's binarized labels (pick's transform-dataset equals bonepick's: a test says so).
"$PICK" -q transform-dataset -i data-samples -o "$tmp/binary" \
  -l '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'
"$BONEPICK" convert-to-fasttext -i "$tmp/binary" -o "$tmp/ultrafine" -n ultrafine --max-length 300 >/dev/null 2>&1
"$BONEPICK" convert-to-fasttext -i data-samples -o "$tmp/auto" -ll .metadata.code_quality.score \
  --auto 3 --max-length 100 >/dev/null 2>&1
mkdir -p "$OUT/ultrafine-300" "$OUT/auto3-100"
cp "$tmp/ultrafine/test.txt" "$tmp/ultrafine/valid.txt" "$OUT/ultrafine-300/"
cp "$tmp/auto/test.txt" "$OUT/auto3-100/"
# Paths in the reports are this run's temporary ones.
sed "s|$tmp/||" "$tmp/ultrafine/report.yaml" > "$OUT/ultrafine-300/report.yaml"
sed "s|$tmp/||" "$tmp/auto/report.yaml" > "$OUT/auto3-100/report.yaml"
echo "wrote $OUT"

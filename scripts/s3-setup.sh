#!/usr/bin/env bash
# The S3-compatible server the object-store tests run against: moto's server mode, from PyPI,
# installed once into a venv under the cache directory. Prints an `export` line for the test
# binary: PICK_MOTO_SERVER (the `moto_server` executable; each test run starts its own on a
# free port of 127.0.0.1).
set -euo pipefail

cache="${PICK_S3_CACHE:-$HOME/.cache/pick-s3}"
venv="$cache/venv"
server="$venv/bin/moto_server"
if [[ ! -x "$server" ]]; then
    python="$(command -v python3)"
    "$python" -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' >&2
fi
echo "export PICK_MOTO_SERVER='$server'"

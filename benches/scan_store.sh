#!/usr/bin/env bash
# Scan throughput from an S3-compatible store on loopback against the same scan of local
# disk: the same .jsonl.zst shards and their Parquet copy, the same three queries as
# `pick bench scan`, each in a fresh process, best of $RUNS wall times (/usr/bin/time).
# The store is moto's server (scripts/s3-setup.sh), the objects the local files' bytes.
#
#   bash benches/scan_store.sh              # a 500 MB corpus (JSON text)
#   SIZE=2e9 bash benches/scan_store.sh     # the 2 GB corpus of benches/scan.sh
#   PROFILE=dev bash benches/scan_store.sh  # without the (long) release build
#   PICK=/path/to/pick bash benches/scan_store.sh   # a binary already built
#
# Everything it makes lives under $PICK_BENCH_CACHE, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SIZE=${SIZE:-5e8}
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-release}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"

if [ -z "${PICK:-}" ]; then
  cargo build --profile "$PROFILE" --quiet
  dir=$PROFILE; [[ $PROFILE == dev ]] && dir=debug
  PICK=$CARGO_TARGET_DIR/$dir/pick
fi

corpus=$CACHE/corpus-$SIZE
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes "$SIZE" --shards 16
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi
parquet=$corpus-parquet
[ -d "$parquet" ] || "$PICK" export -q -i "$corpus" -o "$parquet" --format parquet

eval "$(bash scripts/s3-setup.sh)"
python=$(dirname "$PICK_MOTO_SERVER")/python
log=$(mktemp)
"$PICK_MOTO_SERVER" -H 127.0.0.1 -p 0 2>"$log" &
moto=$!
trap 'kill $moto 2>/dev/null; rm -f "$log"' EXIT
until grep -q 'Running on' "$log"; do sleep 0.2; done
endpoint=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

"$python" - "$endpoint" "$corpus" "$parquet" <<'PY'
import os, sys, boto3
endpoint, *dirs = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                  aws_secret_access_key="bench", region_name="us-east-1")
s3.create_bucket(Bucket="bench")
for d in dirs:
    name = os.path.basename(d)
    for root, _, files in os.walk(d):
        for f in files:
            path = os.path.join(root, f)
            s3.upload_file(path, "bench", f"{name}/{os.path.relpath(path, d)}")
PY

best() { # best wall seconds of $RUNS runs of: pick sql "$1"
  local b=""
  for _ in $(seq "$RUNS"); do
    local t
    t=$( { /usr/bin/time -f %e "$PICK" sql --format csv "$1" >/dev/null; } 2>&1 | tail -1)
    if [[ -z $b ]] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
  done
  echo "$b"
}

bytes=$(zstd -dc "$corpus"/*.jsonl.zst | wc -c)
printf '%s, %s cores, %s, %s MB of JSON text in %s shards\n' "$("$PICK" version)" "$(nproc)" "$PROFILE" \
  "$((bytes / 1000000))" "$(ls "$corpus" | wc -l)"
printf '| format | query | local s | moto s | moto / local throughput |\n|---|---|---:|---:|---:|\n'
for fmt in jsonl.zst parquet; do
  if [[ $fmt == parquet ]]; then local_dir=$parquet; else local_dir=$corpus; fi
  remote="s3://bench/$(basename "$local_dir")"
  for q in "count(*)|SELECT count(*) FROM '%s'" \
           "filter nested|SELECT count(*) FROM '%s' t WHERE t.metadata.code_quality.score >= 4" \
           "group by|SELECT t.metadata.code_quality.score AS k, count(*) FROM '%s' t GROUP BY 1"; do
    name=${q%%|*}; sql=${q#*|}
    # shellcheck disable=SC2059
    l=$(best "$(printf "$sql" "$local_dir")")
    # shellcheck disable=SC2059
    r=$(best "$(printf "$sql" "$remote")")
    printf '| %s | %s | %s | %s | %.0f%% |\n' "$fmt" "$name" "$l" "$r" "$(awk "BEGIN{print 100*$l/$r}")"
  done
done

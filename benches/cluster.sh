#!/usr/bin/env bash
# pick on a Ballista cluster on this host against local pick, same data, same run:
# a scan (count(*)), a scoring query (fastText over ultrafine-normalized text), and the
# scored copy of the corpus (`infer-fasttext`, one job whose executors write the files;
# the cluster's files must equal the local run's) over the
# scan corpus (benches/scan.sh's generator, 500 MB of JSON text as 16 .jsonl.zst shards by
# default), with 1 and 2 executors of one task slot each, and local pick on 1 and 2 cores.
#
#   bash benches/cluster.sh
#   SIZE=2e8 RUNS=1 bash benches/cluster.sh
#   PICK=path/to/pick bash benches/cluster.sh    # no cargo build
#
# Prints a Markdown table: seconds (best of RUNS), rows/s, and the cluster's time over local
# pick's on as many cores. Everything it makes lives under $PICK_BENCH_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SIZE=${SIZE:-5e8}
RUNS=${RUNS:-3}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
mkdir -p "$CACHE"

if [ -z "${PICK:-}" ]; then
  cargo build --release --quiet
  PICK=$CARGO_TARGET_DIR/release/pick
fi

corpus=$CACHE/corpus-$SIZE
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes "$SIZE" --shards 16
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi
model=$PWD/data-samples/fasttext/binary
scan="SELECT count(*) AS n FROM '$corpus'"
score="SELECT count(*) FILTER (WHERE fasttext_score('$model', normalize(text, 'ultrafine'), 'pos') > 0.5) AS pos, count(*) AS n FROM '$corpus'"
rows=$("$PICK" sql -q -f csv "$scan" | tail -1)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }

# best wall seconds of RUNS runs of a command; its output must match the reference answer.
best() {
  local want=$1; shift
  local best=""
  for _ in $(seq "$RUNS"); do
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$("$@" | tail -1)
    t1=$(date +%s.%N)
    if [ "$out" != "$want" ]; then echo "wrong answer from $*: $out (want $want)" >&2; exit 1; fi
    best=$(python3 -c "a=$t1-$t0; b='$best'; print(a if b=='' else min(a, float(b)))")
  done
  echo "$best"
}

# best wall seconds of RUNS runs of a command whose output is files.
best_run() {
  local best=""
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    best=$(python3 -c "a=$t1-$t0; b='$best'; print(a if b=='' else min(a, float(b)))")
  done
  echo "$best"
}
infer=("$PICK" infer-fasttext -q -i "$corpus" -m "$model" -c ft --normalizer ultrafine --overwrite)

scan_want=$("$PICK" sql -q -f csv "$scan" | tail -1)
score_want=$("$PICK" sql -q -f csv "$score" | tail -1)

declare -A secs
secs[local1,scan]=$(best "$scan_want" taskset -c 0 "$PICK" sql -q -f csv "$scan")
secs[local1,score]=$(best "$score_want" taskset -c 0 "$PICK" sql -q -f csv "$score")
secs[local2,scan]=$(best "$scan_want" "$PICK" sql -q -f csv "$scan")
secs[local2,score]=$(best "$score_want" "$PICK" sql -q -f csv "$score")
secs[local1,infer]=$(best_run taskset -c 0 "${infer[@]}" -o "$work/infer-local1")
secs[local2,infer]=$(best_run "${infer[@]}" -o "$work/infer-local")

sport=$(free_port)
"$PICK" -q cluster scheduler --bind "127.0.0.1:$sport" & pids+=($!)
wait_port "$sport"
url="df://127.0.0.1:$sport"
for n in 1 2; do
  eport=$(free_port)
  mkdir -p "$work/e$n"
  # Executor n pinned to core n-1: two executors of one slot each share the two cores.
  taskset -c $((n - 1)) "$PICK" -q cluster executor --scheduler "$url" --bind "127.0.0.1:$eport" \
    --slots 1 --work-dir "$work/e$n" & pids+=($!)
  wait_port "$eport"
  sleep 1
  secs[cluster$n,scan]=$(best "$scan_want" "$PICK" sql -q -f csv "$scan" --cluster "$url")
  secs[cluster$n,score]=$(best "$score_want" "$PICK" sql -q -f csv "$score" --cluster "$url")
  secs[cluster$n,infer]=$(best_run "${infer[@]}" -o "$work/infer-cluster$n" --cluster "$url")
  diff -r "$work/infer-local" "$work/infer-cluster$n" >/dev/null \
    || { echo "the cluster's infer-fasttext files differ from the local run's" >&2; exit 1; }
done

echo "corpus: $corpus ($rows rows, $(du -sh "$corpus" | cut -f1) as zstd), $(nproc) cores, best of $RUNS"
echo
echo "| query | run on | seconds | rows/s | vs local on as many cores |"
echo "|---|---|---:|---:|---:|"
for q in scan score infer; do
  for where in local1 cluster1 local2 cluster2; do
    s=${secs[$where,$q]}
    case $where in
      local1) label="local pick, 1 core"; ref=$s ;;
      local2) label="local pick, 2 cores"; ref=$s ;;
      cluster1) label="cluster, 1 executor × 1 slot"; ref=${secs[local1,$q]} ;;
      cluster2) label="cluster, 2 executors × 1 slot"; ref=${secs[local2,$q]} ;;
    esac
    python3 -c "s=$s; r=$rows; ref=$ref; print(f'| $q | $label | {s:.2f} | {r/s:,.0f} | {s/ref:.2f}x |')"
  done
done

# Per-task overhead: TINY one-row shards (1,000 by default), count(*) locally and on the
# two executors; the cluster's extra time over the local run, per shard.
TINY=${TINY:-1000}
tiny=$CACHE/tiny-$TINY
if [ ! -d "$tiny" ]; then
  mkdir -p "$tiny.tmp"
  for i in $(seq -w 1 "$TINY"); do echo "{\"id\":\"$i\",\"text\":\"row $i\"}" > "$tiny.tmp/part-$i.jsonl"; done
  mv "$tiny.tmp" "$tiny"
fi
tiny_q="SELECT count(*) AS n FROM '$tiny'"
tl=$(best "$TINY" "$PICK" sql -q -f csv "$tiny_q")
tc=$(best "$TINY" "$PICK" sql -q -f csv "$tiny_q" --cluster "$url")
echo
python3 -c "tl=$tl; tc=$tc; n=$TINY; print(f'{n:,} one-row shards, count(*): local pick {tl:.2f} s, cluster (2 executors × 1 slot) {tc:.2f} s; {1000*(tc-tl)/n:.2f} ms per shard over local, {1000*tc/n:.2f} ms per shard in all')"

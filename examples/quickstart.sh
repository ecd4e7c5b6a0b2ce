#!/usr/bin/env bash
# pick's main job on the shipped data, as the worklog runs it: annotated rows in; a fastText
# and a Model2Vec classifier trained and evaluated; the corpus scored by both and ranked.
#
#   bash examples/quickstart.sh [OUT]       # OUT: /tmp/pick-quickstart unless given
#
# It builds pick (release) unless $PICK names a binary. Everything it writes is under OUT,
# replaced on each run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/pick-quickstart}
if [ -z "${PICK:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
  echo "== building pick (release; the first build takes a while)"
  cargo build --release --quiet
  PICK=$CARGO_TARGET_DIR/release/pick
fi
pick() { "$PICK" "$@"; }
rm -rf "$OUT"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
start=$(date +%s%N)

step "binarize: a code-quality score of 3 or more is pos, below is neg"
pick transform-dataset -i data-samples -o "$OUT/binary" \
  -l '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'

step "reshard: every row once, shuffled into 4 shards with 10% test and 10% valid"
pick reshard-dataset -i "$OUT/binary" -o "$OUT/split" -n 4 -t 0.1 -v 0.1 --seed 42

step "fastText: convert (ultrafine), train, evaluate"
pick convert-to-fasttext -i "$OUT/split" -o "$OUT/ft-data" -n ultrafine --max-length 2000
pick train-fasttext -d "$OUT/ft-data" -o "$OUT/ft-model" --dimension 16 --learning-rate 0.5 \
  --word-ngrams 2 --min-count 5 --epoch 25 --bucket 20000 --seed 42
pick eval-fasttext -d "$OUT/ft-data" -m "$OUT/ft-model" --plot "$OUT/plots/fasttext" > "$OUT/ft-eval.yaml"

step "Model2Vec: normalize (potion), train on the shipped potion base, evaluate"
pick normalize-dataset -i "$OUT/split" -o "$OUT/potion" -n potion
pick train-model2vec -d "$OUT/potion" -o "$OUT/m2v-model" -m models/model2vec/potion-8m-pca64
pick eval-model2vec -d "$OUT/potion" -m "$OUT/m2v-model" --plot "$OUT/plots/model2vec" > "$OUT/m2v-eval.yaml"

step "score the corpus with both"
pick infer-fasttext -m "$OUT/ft-model" -i "$OUT/split" -o "$OUT/scored-ft" -c ft \
  --normalizer ultrafine --max-length 2000
pick infer-model2vec -m "$OUT/m2v-model" -i "$OUT/scored-ft" -o "$OUT/scored" -c m2v \
  --normalizer potion

step "calibration: fastText's pos probability against the gold label (neg < pos)"
pick eval-calibration -d "$OUT/scored" -p '.metadata.ft["__label__pos"]' -l .score \
  --plot "$OUT/plots/calibration" --no-histogram --no-calibration

step "rank and compare in SQL"
pick sql -d "s=$OUT/scored" "
  SELECT count(*) AS docs,
         round(spearman(s.metadata.ft['__label__pos'], s.metadata.m2v['pos']), 3) AS spearman,
         round(avg(CASE WHEN (s.metadata.ft['__label__pos'] > 0.5) = (s.metadata.m2v['pos'] > 0.5)
                   THEN 1.0 ELSE 0.0 END), 3) AS agree_at_half,
         sum(CASE WHEN s.metadata.ft['__label__pos'] > 0.5 THEN 1 ELSE 0 END) AS ft_pos,
         sum(CASE WHEN s.metadata.m2v['pos'] > 0.5 THEN 1 ELSE 0 END) AS m2v_pos
  FROM s" | tee "$OUT/compare.txt"
pick sql -d "s=$OUT/scored" "
  SELECT _file, _row, round(s.metadata.ft['__label__pos'], 3) AS ft,
         round(s.metadata.m2v['pos'], 3) AS m2v, substr(regexp_replace(text, '\\s+', ' ', 'g'), 1, 48) AS text
  FROM s ORDER BY s.metadata.ft['__label__pos'] + s.metadata.m2v['pos'] DESC, _file, _row LIMIT 5"

f1() { awk '/^overall_results:/{o=1} o && /macro_f1:/{print $2; exit}' "$1"; }
auc() { awk '/^overall_results:/{o=1} o && /macro_auc:/{print $2; exit}' "$1"; }
step "summary"
printf 'fastText   (%s): macro F1 %s, macro AUC %s\n' "$OUT/ft-model" "$(f1 "$OUT/ft-eval.yaml")" "$(auc "$OUT/ft-eval.yaml")"
printf 'Model2Vec  (%s): macro F1 %s, macro AUC %s\n' "$OUT/m2v-model" "$(f1 "$OUT/m2v-eval.yaml")" "$(auc "$OUT/m2v-eval.yaml")"
printf 'scored corpus: %s (both scores in .metadata.ft and .metadata.m2v)\n' "$OUT/scored"
printf 'plots: %s (ROC, precision-recall, confusion, calibration; PNG and SVG)\n' "$OUT/plots"
awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "the whole job took %.1fs\n", ns / 1e9 }'

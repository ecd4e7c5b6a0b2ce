#!/usr/bin/env bash
# The worklog's flows end to end (its General Quality and Code Quality command lines),
# pick against bonepick 0.5.0 on the same corpus in the same run: one Markdown row per step
# (wall seconds, peak RSS, ratio bonepick/pick), a total, and each step's output checked
# against bonepick's (scripts/worklog_bench.py).
#
#   bash benches/worklog.sh                          # SIZE=2.5e8 (~250 MB of JSON), 4 shards
#   SIZE=1e9 SHARDS=8 THREADS=2 bash benches/worklog.sh
#   PICK=path/to/pick bash benches/worklog.sh        # no cargo build
#
# Options (environment): SIZE (bytes of JSON the corpus generator writes), SHARDS (corpus
# shards: the last is the test split, the others train), THREADS (-p/--thread/--num-proc of
# both tools), RESHARD_FILES (reshard's --num-files, 32 as the worklog), M2V_MAX_EPOCHS (10),
# FASTTEXT_ARGS (extra train-fasttext flags for both; empty = bonepick's defaults, a 2 GB
# model), PICK_BENCH_CACHE (~/.cache/pick-bench: corpus, venvs, work dir, results JSON).
# Needs python3, zstd, GNU time, the `fasttext` binary (apt-get install -y fasttext) and
# Python 3.12 for bonepick (pyenv's 3.12.1 unless PY312 is set).
#
# The corpus is scripts/make_corpus.py's (Rust sources and READMEs; `metadata.code_quality
# .score` 1..5), its shards zstd-compressed, laid out as a local dataset folder with train/ and
# test/ (symlinks). The steps, in order, each run by both tools with the same flags:
#
#   import-hf-dataset        the local folder -> train/ test/ shards. There is no hub here:
#                            both read the folder offline (bonepick through `datasets`). It has
#                            a test split, so the worklog's --test-split 10000 goes unused and
#                            the splits hold the same rows for both tools.
#   transform-dataset        binarize: {score: (if .metadata.code_quality.score < 3 ...)}
#   reshard-dataset          --num-files 32 with --test/--valid-split-frac 0.1 (train/valid/test)
#   sample-dataset           --target-size: the share of the resharded bytes that keeps the
#                            sample's train split under 18,000 rows (at most half)
#   normalize-dataset        -n ultrafine on the resharded data; -n potion on the sample
#   convert-to-fasttext      --normalization ultrafine on the resharded data
#   train-fasttext           bonepick's defaults (dim 256, 2M buckets), --thread THREADS
#   eval-fasttext            each tool's model on its own test.txt
#   infer-fasttext           each tool's model scores the sample (--normalizer ultrafine)
#   train-model2vec          the potion sample, base models/model2vec/potion-8m-pca64 (local)
#   eval-model2vec           each tool's model on the sample's test split
#   balance-dataset          the potion sample
#   label-distribution       the imported 1..5 scores, key lengths of .text
#   annotation-agreement     the sample's gold label vs bonepick's fastText label, key .text
#
# Inputs: up to reshard each tool reads its own previous output (the rows are the same for
# both). reshard, sample and balance draw rows differently by design (pick: seeded per-row
# draws, exact balance; bonepick: Python `random` in os.walk order), so from there on every
# step reads bonepick's output of the step before, for both tools, and the outputs can be
# compared row for row. Models stay each tool's own: eval and infer use the tool's own model.
# Checks: deterministic data steps compare rows as canonical JSON (per split, or per file and
# in order where the files are mirrored); reshard/sample/balance check their invariants (every
# row once, rows from the input, size against the target, equal labels); eval compares macro
# F1 and AUC of the two models within 0.01 (README: the ±0.01 target), and pick evaluating
# bonepick's model must give its precision/recall/F1 to the digit; infer compares the two
# models' labels and probabilities, and pick scoring with bonepick's model must agree within
# 1e-5; label-distribution compares every number printed, annotation-agreement the figures,
# label counts and confusion matrix. The extra pick runs with bonepick's models are not timed.
#
# bonepick: three venvs, so that the extras' imports do not slow the other commands (with
# torch and model2vec installed, every bonepick command imports them at start, ~15 s here,
# and again in each spawned worker): bonepick-venv (bonepick + rich, as the other benches),
# bonepick-datasets-venv (+ datasets, for import-hf-dataset) and bonepick-m2v-venv (+ torch,
# lightning, model2vec 0.7.0: bonepick imports model2vec.hf_utils, gone in 0.8). torch comes
# from PyPI as scripts/model2vec_quality.py installs it (--no-deps, and only the CUDA libraries
# it links against; it runs on the CPU). The table's footer prints each venv's start-up time.
# bonepick's train-model2vec needs three things to run and learn: --batch-size and
# --min-epochs (else it crashes after training, B2); its tokenizer in one chunk (else texts
# and labels are paired wrongly, B1): os.cpu_count() answers 1 in that process (torch still
# uses THREADS threads; its file loading then runs in-process) and the training split stays
# under 20,000 rows; and its -tt/-ll/-t/-l options, which 0.5.0 never declares although the
# command's function requires them (every call is a TypeError): the driver declares them at
# run time with bonepick's own decorator (BONEPICK_M2V in scripts/worklog_bench.py).
# eval-model2vec runs as installed.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PICK_BENCH_CACHE:-$HOME/.cache/pick-bench}
SRC=${CORPUS_SRC:-$HOME/.cargo/registry/src}
PY312=${PY312:-$(command -v python3.12 || echo "$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.12.1/bin/python3")}
SIZE=${SIZE:-2.5e8}
SHARDS=${SHARDS:-4}
THREADS=${THREADS:-$(nproc)}
command -v fasttext >/dev/null || { echo "needs the fasttext binary: apt-get install -y fasttext" >&2; exit 2; }
[ "$SHARDS" -ge 2 ] || { echo "SHARDS must be at least 2 (train and test)" >&2; exit 2; }
mkdir -p "$CACHE"

if [ -z "${PICK:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pick-target}
  cargo build --release --quiet -p pick
  PICK=$CARGO_TARGET_DIR/release/pick
fi

venv() {  # venv DIR PACKAGES...: a Python 3.12 venv holding bonepick 0.5.0 and PACKAGES
  local dir=$1; shift
  if [ ! -x "$dir/bin/bonepick" ]; then
    rm -rf "$dir"
    "$PY312" -m venv "$dir"
    "$dir/bin/pip" install --quiet bonepick==0.5.0 rich "$@"
  fi
}
venv "$CACHE/bonepick-venv"
venv "$CACHE/bonepick-datasets-venv" "datasets>=4,<5"
M2V=$CACHE/bonepick-m2v-venv
if [ ! -f "$M2V/.ready" ]; then
  venv "$M2V"
  # torch and the packages that require it, without their dependencies (pip would pull
  # torch's CUDA toolchain); then the pure-Python rest. Versions as scripts/model2vec_quality.py.
  "$M2V/bin/pip" install --quiet --no-deps torch==2.15.0 \
    nvidia-cuda-runtime==13.2.86 nvidia-cuda-cupti==13.2.86 nvidia-cuda-nvrtc==13.2.86 \
    nvidia-cublas==13.4.1.3 nvidia-cufft==12.2.0.57 nvidia-cufile==1.17.1.22 \
    nvidia-cusparse==12.7.10.12 nvidia-nvjitlink==13.5.37 nvidia-cudnn-cu13==9.26.0.51 \
    nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.7.2 \
    lightning==2.6.6 pytorch-lightning==2.6.6 torchmetrics==1.9.0 model2vec==0.7.0
  "$M2V/bin/pip" install --quiet filelock "typing-extensions>=4.13.0" "setuptools>=77.0.3" \
    "sympy>=1.13.3" "networkx>=2.5.1" jinja2 "fsspec[http]>=2022.5.0" \
    "lightning-utilities>=0.15.3" "transformers<5.4" skops safetensors joblib pydantic \
    protobuf regex huggingface_hub
  "$M2V/bin/python" -c "import torch, lightning, model2vec.train, model2vec.distill; torch.ones(2).sum()"
  touch "$M2V/.ready"
fi

corpus=$CACHE/corpus-$SIZE-$SHARDS
if [ ! -d "$corpus" ]; then
  rm -rf "$corpus.tmp"
  python3 scripts/make_corpus.py --src "$SRC" --out "$corpus.tmp" --bytes "$SIZE" --shards "$SHARDS"
  find "$corpus.tmp" -name '*.jsonl' -exec zstd -q -3 --rm {} \;
  mv "$corpus.tmp" "$corpus"
fi

# The "hub snapshot": train/ gets all shards but the last, test/ the last.
snapshot=$CACHE/worklog-snapshot-$SIZE-$SHARDS
if [ ! -d "$snapshot" ]; then
  mkdir -p "$snapshot.tmp/train" "$snapshot.tmp/test"
  mapfile -t shards < <(ls "$corpus"/*.jsonl.zst | sort)
  for s in "${shards[@]:0:$((${#shards[@]} - 1))}"; do ln -s "$s" "$snapshot.tmp/train/"; done
  ln -s "${shards[$((${#shards[@]} - 1))]}" "$snapshot.tmp/test/"
  mv "$snapshot.tmp" "$snapshot"
fi

"$CACHE/bonepick-venv/bin/python" scripts/worklog_bench.py --pick "$PICK" \
  --bonepick "$CACHE/bonepick-venv/bin/bonepick" \
  --bonepick-datasets "$CACHE/bonepick-datasets-venv/bin/bonepick" \
  --bonepick-m2v "$M2V/bin/bonepick" \
  --snapshot "$snapshot" --work "$CACHE/worklog-work" --threads "$THREADS" \
  --reshard-files "${RESHARD_FILES:-32}" --m2v-max-epochs "${M2V_MAX_EPOCHS:-10}" \
  --fasttext-args="${FASTTEXT_ARGS:-}" --json "$CACHE/worklog-results-$SIZE-$SHARDS.json" "$@"

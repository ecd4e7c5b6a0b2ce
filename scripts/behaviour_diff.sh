#!/usr/bin/env bash
# Proves that a refactor changed no behaviour: runs every pick command on the shipped data
# (data-samples/, and a Parquet copy of it) with an old and a new binary, and compares all
# outputs byte for byte.
#
#   scripts/behaviour_diff.sh OLD_PICK NEW_PICK [WORKDIR]
#
# For each side (WORKDIR/old, WORKDIR/new) the same list of command lines runs from the repo
# root, `{out}` standing for that side's directory. Each step's stdout, stderr and exit code
# are kept under WORKDIR/logs/<side>/. Then:
#   - every output file under WORKDIR/old and WORKDIR/new (recursively, hidden files too) is
#     compared: text files byte for byte after replacing WORKDIR/old and WORKDIR/new by
#     WORKDIR/SIDE; .zst/.gz shards by their decompressed content and by their bytes;
#     Parquet and other binary files by their bytes;
#   - exit codes exactly, stdout after the same path normalisation, stderr after also
#     filtering timings (`in 0.12s`, `docs/s`, `rows/s`, `MiB/s`, progress lines);
#   - outputs that become equal once float exponents are normalised (`1e-5` vs Python's
#     `1e-05`, `1e16` vs `1e+16`) are listed separately as "differs only in float repr".
# Exit status: 0 when nothing differs other than float repr, 1 otherwise, 2 on usage errors.
#
# The Parquet copy of data-samples (WORKDIR/shared/samples-parquet) is made once, by the OLD
# binary, and read by both sides. Every step is deterministic (fixed seeds, fastText trained
# with --thread 1), so OLD=NEW must report no difference.
#
# Environment: STEP_TIMEOUT (seconds per step, default 600), KEEP=1 keeps WORKDIR's previous
# contents (by default WORKDIR/{old,new,logs,shared,bin} are removed first).

set -uo pipefail

usage() {
    echo "usage: $0 OLD_PICK NEW_PICK [WORKDIR]" >&2
    exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage

abs_exe() {
    local p
    p=$(command -v -- "$1" 2>/dev/null) || { echo "$0: $1: not found" >&2; exit 2; }
    [[ -x $p ]] || { echo "$0: $1: not executable" >&2; exit 2; }
    realpath -- "$p"
}
OLD_PICK=$(abs_exe "$1")
NEW_PICK=$(abs_exe "$2")
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ $# -eq 3 ]]; then
    WORK=$3
    mkdir -p -- "$WORK" || exit 2
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/pick-behaviour-diff.XXXXXX")
fi
WORK=$(cd "$WORK" && pwd -P)
STEP_TIMEOUT=${STEP_TIMEOUT:-600}

[[ -d $REPO/data-samples/train ]] || { echo "$0: no data-samples/ in $REPO" >&2; exit 2; }
CAL_SRC=$REPO/tests/fixtures/calibration/data
if [[ ! -d $CAL_SRC ]]; then
    CAL_SRC=$(find "$REPO" -path '*/target' -prune -o -type d -path '*/fixtures/calibration/data' -print 2>/dev/null | head -n 1)
fi
[[ -n $CAL_SRC && -d $CAL_SRC ]] || { echo "$0: calibration fixtures not found under $REPO" >&2; exit 2; }

if [[ ${KEEP:-0} != 1 ]]; then
    rm -rf -- "$WORK/old" "$WORK/new" "$WORK/logs" "$WORK/shared" "$WORK/bin" "$WORK/summary.txt"
fi
mkdir -p -- "$WORK/shared" "$WORK/logs/old" "$WORK/logs/new" "$WORK/bin/old" "$WORK/bin/new"
# Both binaries are run as `pick` (clap's usage messages name argv[0]).
ln -sf -- "$OLD_PICK" "$WORK/bin/old/pick"
ln -sf -- "$NEW_PICK" "$WORK/bin/new/pick"

# A stable environment: no colours, no backtraces, no logging, same locale and time zone.
export LC_ALL=C.UTF-8 TZ=UTC NO_COLOR=1 TERM=dumb RUST_BACKTRACE=0
unset RUST_LOG RUST_LIB_BACKTRACE CLICOLOR_FORCE 2>/dev/null || true

# Shared inputs, the same for both sides: the calibration fixture rows and the Parquet copy of
# data-samples made by the OLD binary.
PQ=$WORK/shared/samples-parquet
CAL=$WORK/shared/calibration-data
cp -R -- "$CAL_SRC" "$CAL"
echo "making the Parquet copy of data-samples with the old binary..." >&2
if ! (cd "$REPO" && "$WORK/bin/old/pick" export -i data-samples -o "$PQ") \
    >"$WORK/shared/export.stdout" 2>"$WORK/shared/export.stderr" </dev/null; then
    echo "$0: the old binary could not export data-samples to Parquet:" >&2
    cat "$WORK/shared/export.stderr" >&2
    exit 2
fi

# ---------------------------------------------------------------------------------------------
# The steps. `p NAME ARGS...` runs pick with ARGS; `x NAME CMD...` runs a shell command (setup).
# In every argument `{out}` is the side's directory, `{pq}` the Parquet copy of data-samples and
# `{cal}` the calibration fixture rows. Commands run from the repo root.
# ---------------------------------------------------------------------------------------------
BINARY_LABEL='{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'
GRADED_LABEL='{score: (if (.id | length) % 4 == 0 then .metadata.code_quality.score + 1 else .metadata.code_quality.score end)}'
SUBCOMMANDS=(sql export transform-dataset normalize-dataset import-hf-dataset balance-dataset
    sample-dataset reshard-dataset label-distribution convert-to-fasttext train-fasttext
    eval-fasttext infer-fasttext count-tokens eval-calibration train-calibration
    annotation-agreement bench version)

steps() {
    # --- usage --------------------------------------------------------------------------------
    p version version
    p version_flag --version
    p help --help
    local c
    for c in "${SUBCOMMANDS[@]}"; do p "help_$c" "$c" --help; done
    p help_bench_scan bench scan --help
    p err_no_subcommand
    p err_unknown_subcommand frobnicate
    p err_unknown_flag sql --no-such-flag "SELECT 1"

    # --- sql on data-samples --------------------------------------------------------------------
    p sql_table sql -d s=data-samples "SELECT _split, count(*) AS docs, round(avg(s.metadata.code_quality.score), 2) AS avg_score, sum(length(text)) AS chars FROM s GROUP BY 1 ORDER BY 1"
    p sql_table_max_rows sql --max-rows 5 -d s=data-samples "SELECT id, _file, _row, left(text, 40) AS text FROM s WHERE s.metadata.code_quality.score = 5 ORDER BY seeded_random(42, id)"
    p sql_csv sql -d s=data-samples "SELECT s.metadata.code_quality.score AS score, count(*) AS n FROM s GROUP BY 1 ORDER BY 1" --format csv
    p sql_json sql -d s=data-samples -f json "SELECT id, _split, _file, _row, s.source, s.metadata, seeded_random(7, id) AS r FROM s WHERE _row < 3 ORDER BY _file, _row"
    p sql_jsonl_rows sql -d s=data-samples -f jsonl "SELECT _json FROM s WHERE _split = 'test' AND _row < 5 ORDER BY _row"
    p err_sql_parquet_stdout sql -d s=data-samples -f parquet "SELECT id, length(text) AS n FROM s WHERE _split = 'valid' ORDER BY id"
    local ext
    for ext in parquet csv json jsonl jsonl.zst jsonl.gz; do
        p "sql_out_${ext//./_}" sql -d s=data-samples "SELECT id, _split, s.metadata.code_quality.score AS score, s.source.kind AS kind, length(text) AS chars, seeded_random(42, id) AS r FROM s ORDER BY id" -o "{out}/sql/scores.$ext"
    done
    p sql_glob_in_from sql "SELECT s.source.kind AS kind, count(*) AS n FROM 'data-samples/train/*.jsonl.zst' s GROUP BY 1 ORDER BY 1"
    p sql_path_in_from sql -f csv "SELECT _split, _file, count(*) AS n, min(_row) AS lo, max(_row) AS hi FROM 'data-samples' GROUP BY 1, 2 ORDER BY 1, 2"
    p sql_statements sql -d s=data-samples "CREATE VIEW v AS SELECT s.source.crate AS crate, length(text) AS n FROM s; SELECT crate, count(*) AS files, sum(n) AS chars FROM v GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 10"
    p sql_describe sql -d s=data-samples "DESCRIBE s"
    p sql_explain sql -d s=data-samples "EXPLAIN SELECT count(*) FROM s WHERE _split = 'train'"
    p sql_label_jq sql -d s=data-samples -f csv "SELECT label(_json, 'if .metadata.code_quality.score < 3 then \"neg\" else \"pos\" end') AS label, jq(_json, '.source | {kind, license}') AS src, count(*) AS n FROM s GROUP BY 1, 2 ORDER BY 1, 2"
    p sql_text_functions sql -f jsonl "SELECT normalize('Hello,   World!\nThis is a TEST.', 'ultrafine') AS u, normalize('Hello,   World!', 'hyperfine') AS h, normalize('caf\u00e9  \t x', 'whitespace') AS w, token_count('Hello, World!') AS n, token_count('The year 2024', 'ultrafine') AS m, normalize_label('__label__Pos A') AS l, fasttext_text('a __label__x b\nc') AS t, json_set('{\"a\":1,\"m\":{\"k\":2}}', 0.25, 'm', 'p') AS j, seeded_random(42, 'a', 1) AS r"
    p sql_fasttext_predict sql -d s=data-samples -f jsonl "SELECT id, fasttext_predict('data-samples/fasttext/binary', left(text, 1000)) AS p FROM s WHERE _split = 'test' ORDER BY id LIMIT 40"
    p sql_fasttext_score sql -d s=data-samples "SELECT id, round(fasttext_score('data-samples/fasttext/binary/model.ftz', left(text, 1000), 'pos'), 4) AS ftz, round(fasttext_score('data-samples/fasttext/five-hs', left(text, 1000), '__label__5'), 4) AS hs, round(fasttext_score('data-samples/fasttext/five-ova/model.bin', left(text, 1000), '3'), 4) AS ova FROM s WHERE _split = 'valid' ORDER BY id LIMIT 25"
    p sql_metrics sql -d s=data-samples -f json "SELECT _split, count(*) AS n, round(cohen_kappa(s.metadata.code_quality.score, 1 + length(text) % 5), 10) AS kappa, round(weighted_kappa(s.metadata.code_quality.score, 1 + length(text) % 5, 'linear'), 10) AS wk_linear, round(weighted_kappa(s.metadata.code_quality.score, 1 + length(text) % 5, 'quadratic'), 10) AS wk_quadratic, round(precision(s.source.kind, CASE WHEN length(text) > 3000 THEN 'code' ELSE 'prose' END, 'code'), 10) AS prec, round(recall(s.source.kind, CASE WHEN length(text) > 3000 THEN 'code' ELSE 'prose' END, 'code'), 10) AS rec, round(f1(s.source.kind, CASE WHEN length(text) > 3000 THEN 'code' ELSE 'prose' END, 'code'), 10) AS f1, round(roc_auc(length(text), s.metadata.code_quality.score >= 4), 10) AS auc, round(average_precision(length(text), s.metadata.code_quality.score >= 4), 10) AS ap, round(pearson(length(text), s.metadata.code_quality.score), 10) AS pearson, round(spearman(length(text), s.metadata.code_quality.score), 10) AS spearman, round(kendall_tau(length(text), s.metadata.code_quality.score), 10) AS tau, round(mae(least(length(text) / 20000.0, 1.0), s.metadata.code_quality.score / 5.0), 10) AS mae, round(rmse(least(length(text) / 20000.0, 1.0), s.metadata.code_quality.score / 5.0), 10) AS rmse, round(r2(least(length(text) / 20000.0, 1.0), s.metadata.code_quality.score / 5.0), 10) AS r2, round(ece(least(length(text) / 20000.0, 1.0), s.metadata.code_quality.score >= 4), 10) AS ece, round(ece(least(length(text) / 20000.0, 1.0), s.metadata.code_quality.score >= 4, 5), 10) AS ece5, round(quantile(length(text), 0.9), 10) AS p90, confusion_matrix(s.metadata.code_quality.score, 1 + length(text) % 5) AS cm FROM s GROUP BY 1 ORDER BY 1"
    p sql_metrics_fasttext sql -d s=data-samples "SELECT _split, round(roc_auc(fasttext_score('data-samples/fasttext/binary', left(text, 1000), 'pos'), s.metadata.code_quality.score >= 3), 6) AS auc, round(ece(fasttext_score('data-samples/fasttext/binary', left(text, 1000), 'pos'), s.metadata.code_quality.score >= 3), 6) AS ece FROM s GROUP BY 1 ORDER BY 1"
    p err_sql_syntax sql "SELEC 1"
    p err_sql_no_table sql "SELECT * FROM no_such_table"
    p err_sql_missing_path sql "SELECT count(*) FROM 'no-such-dir'"
    p err_sql_bad_dataset_flag sql -d nonsense "SELECT 1"

    # --- bad input: file:line errors, --skip-bad-rows, --infer-rows ----------------------------
    x bad_input_make bash -c 'set -e
        mkdir -p "$1/broken/train" "$1/trunc/train" "$1/mixed" "$1/nolabel/train"
        printf "{\"text\": \"a b\", \"score\": 1}\n{\"text\": \"c d\", \"score\": 2}\n{\"text\": \"e f\"}\n" >"$1/nolabel/train/a.jsonl"
        printf "{\"x\": 1, \"s\": \"a\"}\n5\n{\"x\": 2, \"s\": \"b\"}\n\n{\"x\": 3}\n" >"$1/broken/train/a.jsonl"
        seq 1 300 | sed "s/.*/{\"x\": &}/" | zstd -q -c | head -c -8 >"$1/trunc/train/b.jsonl.zst"
        { printf "{\"v\": 1, \"k\": \"a\"}\n{\"v\": 2, \"k\": \"b\"}\n"; printf "{\"v\": \"one\", \"k\": \"c\"}\n{\"v\": {\"n\": 1.5e-7}, \"k\": \"d\"}\n"; } >"$1/mixed/a.jsonl"' _ "{out}/bad"
    p err_bad_row sql -f csv "SELECT count(x) AS n, sum(x) AS s FROM '{out}/bad/broken'"
    p skip_bad_rows sql -f csv "SELECT count(x) AS n, sum(x) AS s FROM '{out}/bad/broken'" --skip-bad-rows
    p err_truncated_zst sql -f csv "SELECT count(*) AS n FROM '{out}/bad/trunc'"
    p err_truncated_zst_skip_bad_rows sql -f csv "SELECT count(*) AS n FROM '{out}/bad/trunc'" --skip-bad-rows
    p err_schema_infer_rows sql -f jsonl "SELECT k, v FROM '{out}/bad/mixed' ORDER BY _row" --infer-rows 2
    p mixed_types_all_rows sql -f jsonl "SELECT k, v, arrow_typeof(v) AS t FROM '{out}/bad/mixed' ORDER BY _row" --infer-rows 0
    p mixed_types_export export -i "{out}/bad/mixed" -o "{out}/bad/mixed-parquet"
    p mixed_types_roundtrip export -i "{out}/bad/mixed-parquet" -o "{out}/bad/mixed-jsonl" -f jsonl
    p transform_skip_bad_rows transform-dataset -i "{out}/bad/broken" -o "{out}/bad/transformed" -t '{x: .x}' -l '{s: (.s // "none")}' --skip-bad-rows

    # --- sql on the Parquet copy ----------------------------------------------------------------
    p pq_sql_table sql -d "s={pq}" "SELECT _split, count(*) AS docs, round(avg(s.metadata.code_quality.score), 2) AS avg_score, sum(length(text)) AS chars FROM s GROUP BY 1 ORDER BY 1"
    p pq_sql_jsonl_rows sql -d "s={pq}" -f jsonl "SELECT _json FROM s WHERE _split = 'test' AND _row < 5 ORDER BY _row"
    p pq_sql_describe sql -d "s={pq}" "DESCRIBE s"
    p pq_sql_out_parquet sql "SELECT id, _file, _row, s.metadata.code_quality.score AS score FROM '{pq}/train' s WHERE s.source.kind = 'prose' ORDER BY id" -o "{out}/sql/pq-prose.parquet"
    p pq_sql_metrics sql -d "s={pq}" -f csv "SELECT _split, round(cohen_kappa(s.metadata.code_quality.score, 1 + length(text) % 5), 10) AS kappa, round(spearman(length(text), s.metadata.code_quality.score), 10) AS rho FROM s GROUP BY 1 ORDER BY 1"

    # --- export ---------------------------------------------------------------------------------
    p export_parquet export -i data-samples -o "{out}/export/parquet"
    p export_jsonl export -i data-samples -o "{out}/export/jsonl" -f jsonl
    p export_jsonl_zst export -i data-samples -o "{out}/export/jsonl-zst" --format jsonl.zst
    p export_jsonl_gz export -i data-samples/valid -o "{out}/export/jsonl-gz" --format jsonl.gz
    p export_where export -i data-samples -o "{out}/export/where" -f jsonl.zst --where "t.metadata.code_quality.score >= 4 AND t.source.kind = 'code'"
    p export_columns export -i data-samples -o "{out}/export/columns" -f jsonl --columns id,source
    p export_where_columns_parquet export -i data-samples/train -o "{out}/export/where-columns" --where "t.metadata.code_quality.score = 5" --columns id,metadata
    p pq_export_jsonl export -i "{pq}" -o "{out}/export/pq-jsonl" -f jsonl
    p pq_export_parquet export -i "{pq}" -o "{out}/export/pq-parquet"
    p pq_export_where export -i "{pq}" -o "{out}/export/pq-where" -f jsonl.zst --where "t.metadata.code_quality.score <= 2"
    p err_export_missing_input export -i no-such-dir -o "{out}/export/missing"
    p err_export_bad_where export -i data-samples -o "{out}/export/bad-where" --where "no_such_column > 1"

    # --- transform-dataset ----------------------------------------------------------------------
    p transform_binary transform-dataset -i data-samples -o "{out}/binary" -l "$BINARY_LABEL"
    p transform_graded transform-dataset -i data-samples -o "{out}/graded" -t '{id: .id}' -l "$GRADED_LABEL"
    p transform_show_sql transform-dataset -i data-samples/test -o "{out}/transform/show-sql" -t '{text: .text[0:100], id: .id}' -l '{score: .metadata.code_quality.score, kind: .source.kind}' --show-sql -p 1
    p transform_defaults transform-dataset -i "{out}/binary/valid" -o "{out}/transform/defaults"
    p pq_transform_binary transform-dataset -i "{pq}" -o "{out}/pq-binary" -l "$BINARY_LABEL"
    p err_transform_bad_jq transform-dataset -i data-samples -o "{out}/transform/bad-jq" -l '{score: .x |'
    p err_transform_not_object transform-dataset -i "{out}/bad/nolabel" -o "{out}/transform/not-object" -l '.text'

    # --- normalize-dataset ----------------------------------------------------------------------
    p normalize_whitespace normalize-dataset -i "{out}/binary" -o "{out}/norm/whitespace" -n whitespace
    p normalize_plsfix normalize-dataset -i "{out}/binary" -o "{out}/norm/plsfix" -p 2
    p normalize_ultrafine normalize-dataset -i "{out}/binary" -o "{out}/norm/ultrafine" -n ultrafine
    local n
    for n in tokenizer ultrafine_commits hyperfine hyperfine_code potion potion_code; do
        p "normalize_test_$n" normalize-dataset -i "{out}/binary/test" -o "{out}/norm/test-$n" -n "$n"
    done
    p normalize_dash_spelling normalize-dataset -i "{out}/binary/valid" -o "{out}/norm/ultrafine-plus" -n ultrafine-plus --show-sql
    p normalize_fields normalize-dataset -i "{out}/transform/show-sql" -o "{out}/norm/fields" -n whitespace -t text -l kind
    p binary_to_parquet export -i "{out}/binary" -o "{out}/binary-parquet"
    p pq_normalize_whitespace normalize-dataset -i "{out}/binary-parquet" -o "{out}/norm/pq-whitespace" -n whitespace
    p pq_normalize_plsfix normalize-dataset -i "{out}/binary-parquet/valid" -o "{out}/norm/pq-plsfix" -n plsfix
    # transform-dataset writes Parquet input back as a single _json column (as of 63f7f51).
    p err_pq_normalize_transformed normalize-dataset -i "{out}/pq-binary" -o "{out}/norm/pq-transformed" -n whitespace
    p err_normalize_unknown normalize-dataset -i "{out}/binary" -o "{out}/norm/unknown" -n ultrafast
    p err_normalize_no_label normalize-dataset -i data-samples -o "{out}/norm/no-label"
    p err_normalize_row_without_label normalize-dataset -i "{out}/bad/nolabel" -o "{out}/norm/row-without-label"

    # --- import-hf-dataset (the Parquet copy as a local snapshot) -------------------------------
    p import_splits import-hf-dataset -n "{pq}" -o "{out}/hf/splits" -b 1000
    p import_carve_fraction import-hf-dataset -n "{pq}/train" -o "{out}/hf/carved" -t 0.1 -b 500
    p import_carve_rows import-hf-dataset -n "{pq}/train" -o "{out}/hf/carved-rows" -t 200 -S 7 -p 1 --show-sql
    p import_jsonl import-hf-dataset -n data-samples/valid -o "{out}/hf/jsonl" -t 0.2
    p err_import_no_test_split import-hf-dataset -n "{pq}/train" -o "{out}/hf/no-test"
    p err_import_not_local import-hf-dataset -n org/not-here -o "{out}/hf/not-here"

    # --- balance-dataset ------------------------------------------------------------------------
    p balance_binary balance-dataset -i "{out}/binary" -o "{out}/balanced" --seed 42
    p balance_expressions balance-dataset -i data-samples -o "{out}/balance/expressions" -tt .text -ll .metadata.code_quality.score -s 7 --show-sql -p 1
    p balance_two_inputs balance-dataset -i "{out}/binary" -i "{out}/balanced" -o "{out}/balance/two-inputs"
    p pq_balance balance-dataset -i "{pq}" -o "{out}/balance/pq" -ll .source.kind
    p err_balance_bad_jq balance-dataset -i "{out}/binary" -o "{out}/balance/bad-jq" -ll '.score |'
    p err_balance_no_label balance-dataset -i "{out}/bad/nolabel" -o "{out}/balance/no-label"

    # --- sample-dataset -------------------------------------------------------------------------
    p sample_rate sample-dataset -i data-samples -o "{out}/sample/rate" -r 0.2
    p sample_rate_few_files sample-dataset -i data-samples -o "{out}/sample/few-files" -r 0.03 -s 3
    p sample_target sample-dataset -i data-samples -o "{out}/sample/target" -t 500KB
    p sample_two_inputs sample-dataset -i data-samples/test -i "{out}/binary" -o "{out}/sample/two-inputs" -r 0.5 --show-sql
    p pq_sample_rate sample-dataset -i "{pq}" -o "{out}/sample/pq-rate" -r 0.3 -p 1
    p pq_sample_target sample-dataset -i "{pq}" -o "{out}/sample/pq-target" -t 400KB
    p err_sample_rate sample-dataset -i data-samples -o "{out}/sample/bad-rate" -r 1.5
    p err_sample_collision sample-dataset -i data-samples/test -i "{out}/binary/valid" -o "{out}/sample/collision" -r 0.5
    p err_sample_both sample-dataset -i data-samples -o "{out}/sample/both" -r 0.1 -t 1MB

    # --- reshard-dataset ------------------------------------------------------------------------
    p reshard_plain reshard-dataset -i "{out}/balanced" -o "{out}/reshard/plain" -n 3
    p reshard_splits reshard-dataset -i "{out}/balanced" -o "{out}/reshard/splits" -n 10 -t 0.1 -v 0.05
    p reshard_rows reshard-dataset -d data-samples -o "{out}/reshard/rows" -n 5 -t 200 -v 100 -s 7 --show-sql
    p reshard_one reshard-dataset -i data-samples/test -o "{out}/reshard/one" -n 1 -p 1
    p reshard_low_memory reshard-dataset -i data-samples -o "{out}/reshard/low-memory" -n 4 -t 0.1 --memory-limit 8MB
    p pq_reshard reshard-dataset -i "{pq}" -o "{out}/reshard/pq" -n 4 -t 0.1
    p err_reshard_too_many reshard-dataset -i data-samples/test -o "{out}/reshard/too-many" -n 2 -t 5000

    # --- label-distribution ---------------------------------------------------------------------
    p labels_ordinal label-distribution -d data-samples -l .metadata.code_quality.score
    p labels_value label-distribution -d data-samples -l '.metadata.code_quality.score / 2' -t value
    p labels_text label-distribution -d data-samples -l .source.kind -t text
    p labels_key label-distribution -d data-samples -l '.metadata.code_quality.score * 1.0' -k .id -b 5 --show-sql
    p labels_binary label-distribution -d "{out}/binary" -l .score -t text -k .text
    p pq_labels_key label-distribution -d "{pq}" -l .metadata.code_quality.score -k .source.crate
    p err_labels_not_ordinal label-distribution -d data-samples -l .source.kind
    p err_labels_missing label-distribution -d "{out}/bad/nolabel" -l .score

    # --- convert-to-fasttext --------------------------------------------------------------------
    p convert_plain convert-to-fasttext -i "{out}/binary" -o "{out}/ft/plain"
    p convert_ultrafine convert-to-fasttext -i "{out}/binary" -o "{out}/ft/bin-uf" -n ultrafine --max-length 2000
    p convert_auto convert-to-fasttext -i data-samples -o "{out}/ft/auto" -ll .metadata.code_quality.score --auto 3 --max-length 500
    p convert_multi_label convert-to-fasttext -i data-samples -o "{out}/ft/multi" -ll '{good: (.metadata.code_quality.score >= 4), code: (.source.kind == "code")}' --multi-label --max-length 300 --show-sql
    p convert_plsfix convert-to-fasttext -i data-samples -o "{out}/ft/five-plsfix" -ll .metadata.code_quality.score -n plsfix --max-length 1000 -p 1
    p pq_convert convert-to-fasttext -i "{pq}" -o "{out}/ft/pq-five" -ll .metadata.code_quality.score --max-length 1000
    p err_convert_no_test convert-to-fasttext -i data-samples/train -o "{out}/ft/no-test"
    p err_convert_bad_auto convert-to-fasttext -i "{out}/binary" -o "{out}/ft/bad-auto" --auto 3

    # --- train-fasttext (one thread: deterministic) ---------------------------------------------
    p train_softmax train-fasttext -d "{out}/ft/bin-uf" -o "{out}/ftm/binary" --dimension 16 --learning-rate 0.5 --word-ngrams 2 --epoch 25 --bucket 20000 --thread 1
    p train_hs_two_inputs train-fasttext -d "{out}/ft/plain" -d "{out}/ft/bin-uf" -o "{out}/ftm/hs" --loss hs --dimension 8 --epoch 2 --min-char-ngram 2 --max-char-ngram 4 --bucket 5000 --min-count 10 --thread 1 --verbose 1
    p train_ova train-fasttext -d "{out}/ft/auto" -o "{out}/ftm/ova" --loss ova --dimension 8 --word-ngrams 1 --epoch 3 --bucket 1000 --learning-rate 0.3 --thread 1 --seed 7
    p train_quiet train-fasttext -q -d "{out}/ft/pq-five" -o "{out}/ftm/quiet" --dimension 4 --epoch 1 --bucket 1000 --thread 1
    p err_train_dimension train-fasttext -d "{out}/ft/plain" -o "{out}/ftm/bad" --dimension 0
    p err_train_no_train_txt train-fasttext -d "{out}/ft" -o "{out}/ftm/none" --thread 1

    # --- eval-fasttext --------------------------------------------------------------------------
    # Results are written next to the model: the committed models are evaluated in a copy.
    x models_dir mkdir -p "{out}/models"
    x models_copy cp -R data-samples/fasttext/binary data-samples/fasttext/five-hs data-samples/fasttext/five-ova "{out}/models/"
    p eval_trained eval-fasttext -d "{out}/ft/bin-uf" -m "{out}/ftm/binary"
    p eval_trained_hs eval-fasttext -d "{out}/ft/plain" -d "{out}/ft/bin-uf" -m "{out}/ftm/hs" -p 1
    p eval_trained_ova eval-fasttext -d "{out}/ft/auto" -m "{out}/ftm/ova/model.bin"
    p eval_committed_binary eval-fasttext -d "{out}/ft/bin-uf" -m "{out}/models/binary"
    p eval_committed_ftz eval-fasttext -d "{out}/ft/bin-uf" -m "{out}/models/binary/model.ftz"
    p eval_committed_five_hs eval-fasttext -d data-samples/fasttext -m "{out}/models/five-hs"
    p eval_committed_five_ova eval-fasttext -d data-samples/fasttext -m "{out}/models/five-ova" -t text -l label
    p err_eval_no_model eval-fasttext -d "{out}/ft/bin-uf" -m "{out}/no-such-model"
    p err_eval_no_test eval-fasttext -d "{out}/models" -m "{out}/models/binary"

    # --- infer-fasttext -------------------------------------------------------------------------
    p infer_jsonl infer-fasttext -m data-samples/fasttext/binary -i "{out}/binary" -o "{out}/scored/binary" -c myclf --max-length 2000
    p infer_ultrafine infer-fasttext -m data-samples/fasttext/binary -i "{out}/binary" -o "{out}/scored/ultrafine" -c myclf --normalizer ultrafine --max-length 2000
    p infer_five infer-fasttext -m data-samples/fasttext/five-ova -i data-samples -o "{out}/scored/five" -c five --max-length 1000 -p 2
    p infer_text_expression infer-fasttext -m "{out}/ftm/binary/model.bin" -i data-samples/valid -o "{out}/scored/text-expr" -c mine -tt '.source.path + " " + .text[0:500]' --format jsonl
    p infer_format_parquet infer-fasttext -m data-samples/fasttext/five-hs -i data-samples/test -o "{out}/scored/parquet" -c hs --format parquet --max-length 800
    p pq_infer infer-fasttext -m data-samples/fasttext/binary/model.ftz -i "{pq}" -o "{out}/scored/pq" -c ftz --max-length 1500
    p pq_infer_jsonl_zst infer-fasttext -m data-samples/fasttext/binary -i "{pq}/valid" -o "{out}/scored/pq-jsonl-zst" -c myclf --format jsonl.zst --normalizer whitespace --max-length 1000
    p infer_read_back sql -f jsonl "SELECT score, metadata.myclf AS myclf FROM '{out}/scored/binary/test' ORDER BY _row LIMIT 5"
    p pq_infer_read_back sql "SELECT id, metadata.hs AS hs FROM '{out}/scored/parquet' ORDER BY id LIMIT 5"
    p err_infer_no_model infer-fasttext -m "{out}/no-such-model" -i data-samples/test -o "{out}/scored/no-model" -c x
    p err_infer_corrupt_model infer-fasttext -m data-samples/fasttext/test.txt -i data-samples/test -o "{out}/scored/corrupt" -c x

    # --- count-tokens ---------------------------------------------------------------------------
    p tokens_default count-tokens -d data-samples
    p tokens_ultrafine count-tokens -d data-samples/test -t ultrafine -i '.text // ""'
    p tokens_two_datasets count-tokens -d data-samples/valid -d "{pq}/test" -i .source.path --show-sql
    p err_tokens_hub_name count-tokens -d data-samples -t org/some-hub-model

    # --- eval-calibration / train-calibration ---------------------------------------------------
    p calib_eval eval-calibration -d "{cal}" -p .pred -l .gold -o "{out}/calib/eval.yaml"
    p calib_eval_options eval-calibration -d "{cal}" -p .pred -l .gold --no-histogram --no-calibration --num-calibration-bins 5 -o "{out}/calib/eval-options.yaml"
    p calib_eval_scored eval-calibration -d "{out}/scored/five" -p '.metadata.five["__label__5"] + .metadata.five["__label__4"]' -l .metadata.code_quality.score -o "{out}/calib/eval-scored.yaml"
    p calib_train_linear train-calibration -d "{cal}" -p .parts -l .gold -o "{out}/calib/linear.yaml"
    p calib_train_log_linear train-calibration -d "{cal}" -p .parts -l .gold -m log-linear -o "{out}/calib/log-linear.yaml"
    p calib_train_scored train-calibration -d "{out}/scored/five" -p .metadata.five -l .metadata.code_quality.score
    p err_calib_bad_jq eval-calibration -d "{cal}" -p '.pred |' -l .gold
    p err_calib_no_prediction eval-calibration -d "{out}/bad/nolabel" -p .score -l .text

    # --- annotation-agreement -------------------------------------------------------------------
    p agree_basic annotation-agreement -d data-samples -d "{out}/graded" -l .metadata.code_quality.score -l .score -k .id
    p agree_ordinal annotation-agreement -d data-samples -d "{out}/graded" -l .metadata.code_quality.score -l .score -k .id --ordinal --show-disagreements --max-disagreements 5
    p agree_json annotation-agreement -d data-samples -d "{out}/graded" -l .metadata.code_quality.score -l .score -k .id --ordinal --json
    p agree_three annotation-agreement -d "{pq}" -d "{out}/graded" -d "{out}/binary" -l .metadata.code_quality.score -l .score -l .score -k .id -k .id -k '.text[0:40]' --no-confusion-matrix
    p agree_sql_join sql -d a=data-samples -d "b={out}/graded" -f csv "SELECT count(*) AS n, round(100 * avg(CAST(a.metadata.code_quality.score = b.score AS DOUBLE)), 2) AS agreement, round(cohen_kappa(a.metadata.code_quality.score, b.score), 6) AS kappa, round(weighted_kappa(a.metadata.code_quality.score, b.score, 'quadratic'), 6) AS wk FROM a JOIN b USING (id)"
    p err_agree_bad_jq annotation-agreement -d data-samples -d "{out}/graded" -l '.x |' -k .id
    p err_agree_label_count annotation-agreement -d data-samples -d "{out}/graded" -d "{pq}" -l .x -l .y -k .id
}

# ---------------------------------------------------------------------------------------------
# Running one side.
# ---------------------------------------------------------------------------------------------
SIDE_OUT='' SIDE_LOG='' SIDE_PICK='' STEP_NO=0

subst() {
    local a=$1
    a=${a//'{out}'/$SIDE_OUT}
    a=${a//'{pq}'/$PQ}
    a=${a//'{cal}'/$CAL}
    printf '%s' "$a"
}

run_step() {
    local kind=$1 name=$2
    shift 2
    STEP_NO=$((STEP_NO + 1))
    local id
    printf -v id '%03d-%s' "$STEP_NO" "$name"
    local args=() a
    for a in "$@"; do args+=("$(subst "$a")"); done
    local log=$SIDE_LOG/$id
    if [[ $kind == pick ]]; then
        { printf 'pick'; printf ' %q' "${args[@]}"; printf '\n'; } >"$log.cmd"
    else
        { printf '%q ' "${args[@]}"; printf '\n'; } >"$log.cmd"
    fi
    local t0=$EPOCHREALTIME rc
    if [[ $kind == pick ]]; then
        (cd "$REPO" && exec timeout -k 10 "$STEP_TIMEOUT" "$SIDE_PICK" "${args[@]}") \
            >"$log.stdout" 2>"$log.stderr" </dev/null
    else
        (cd "$REPO" && exec "${args[@]}") >"$log.stdout" 2>"$log.stderr" </dev/null
    fi
    rc=$?
    echo "$rc" >"$log.rc"
    local t1=$EPOCHREALTIME
    printf '%s\t%s\t%s\n' "$id" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" >>"$SIDE_LOG/times.tsv"
}
p() { run_step pick "$@"; }
x() { run_step shell "$@"; }

run_side() {
    local side=$1
    SIDE_OUT=$WORK/$side
    SIDE_LOG=$WORK/logs/$side
    SIDE_PICK=$WORK/bin/$side/pick
    STEP_NO=0
    mkdir -p -- "$SIDE_OUT"
    : >"$SIDE_LOG/times.tsv"
    echo "running the steps with the $side binary ($(readlink "$SIDE_PICK"))..." >&2
    local t0=$EPOCHREALTIME
    steps
    local t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$WORK/logs/$side.seconds"
    echo "  $STEP_NO steps in $(cat "$WORK/logs/$side.seconds")s" >&2
}

# Nothing may write into the repo's inputs: checksums of data-samples before and after.
inputs_sum() { (cd "$REPO" && find data-samples -type f -print0 | sort -z | xargs -0 sha1sum); }
inputs_sum >"$WORK/logs/inputs-before.sha1"
run_side old
run_side new
inputs_sum >"$WORK/logs/inputs-after.sha1"

# ---------------------------------------------------------------------------------------------
# Comparing.
# ---------------------------------------------------------------------------------------------
python3 - "$WORK" "$OLD_PICK" "$NEW_PICK" <<'PY'
import difflib
import gzip
import os
import re
import subprocess
import sys

work, old_pick, new_pick = sys.argv[1:4]
OLD, NEW = os.path.join(work, "old"), os.path.join(work, "new")
LOGS = os.path.join(work, "logs")
SIDE_MARK = os.path.join(work, "SIDE")


def norm_paths(text, side):
    """The side's own directory names (WORKDIR/old, WORKDIR/bin/old) as WORKDIR/SIDE."""
    for prefix in (os.path.join(work, "bin", side), os.path.join(work, side)):
        text = text.replace(prefix, SIDE_MARK)
    return text


TIMING_RULES = [
    (re.compile(r"\bin \d+(?:\.\d+)?\s?(?:s|ms|µs|us|ns)\b"), "in <T>"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(docs|rows|words|lines|tokens|files|bytes)/s\b"), r"<N> \1/s"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:[KMGTP]i?)?B/s\b"), "<N> B/s"),
    (re.compile(r"words/sec/thread:\s*\d+"), "words/sec/thread: <N>"),
    (re.compile(r"\b\d+\.\d+s\b"), "<T>s"),
    (re.compile(r"\bETA:\s*\S+\s*\S*"), "ETA: <T>"),
]
PROGRESS_LINE = re.compile(r"^\s*Progress:|\[[=> #-]{10,}\].*\beta\b|^\s*[⠁-⣿]")


def filter_stderr(text):
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line)
        if PROGRESS_LINE.search(line):
            continue
        for rx, rep in TIMING_RULES:
            line = rx.sub(rep, line)
        out.append(line)
    # Blank lines left where progress was erased.
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text)


FLOAT = re.compile(r"(?<![\w.])(-?(?:\d+\.\d*|\.\d+|\d+))[eE]([+-]?)(\d+)(?![\w.])")


def norm_floats(text):
    return FLOAT.sub(
        lambda m: f"{m.group(1)}e{'-' if m.group(2) == '-' else '+'}{int(m.group(3)):02d}", text
    )


def as_text(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decompress(path, data):
    if path.endswith((".zst", ".zstd")):
        r = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True)
        if r.returncode != 0:
            return None, "zstd: " + r.stderr.decode("utf-8", "replace").strip()
        return r.stdout, None
    if path.endswith((".gz", ".gzip")):
        try:
            return gzip.decompress(data), None
        except Exception as e:  # noqa: BLE001
            return None, f"gzip: {e}"
    return None, None


def udiff(a, b, name_a, name_b, limit=40):
    lines = list(
        difflib.unified_diff(
            a.split("\n"), b.split("\n"), fromfile=name_a, tofile=name_b, lineterm="", n=2
        )
    )
    shown = [l if len(l) <= 240 else l[:240] + "…" for l in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"... ({len(lines) - limit} more diff lines)")
    return "\n".join("    " + l for l in shown)


def first_byte_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def parquet_dump(path):
    """Rows of a Parquet file as JSON lines (read by the old binary), to explain a difference."""
    try:
        r = subprocess.run(
            [old_pick, "sql", "-q", "-f", "jsonl", f"SELECT * FROM '{path}'"],
            capture_output=True,
            timeout=120,
        )
        return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None
    except Exception:  # noqa: BLE001
        return None


differences = []  # (what, detail)
float_only = []  # what
notes = []


def compare_text(what, a, b, name_a, name_b):
    """Texts already normalised. Records a difference or a float-repr difference."""
    if a == b:
        return True
    if norm_floats(a) == norm_floats(b):
        float_only.append(what)
        return False
    differences.append((what, udiff(a, b, name_a, name_b)))
    return False


def compare_bytes(what, a, b, extra=""):
    if a == b:
        return True
    i = first_byte_diff(a, b)
    differences.append(
        (what, f"    bytes differ: old {len(a)} bytes, new {len(b)} bytes, first difference at byte {i}{extra}")
    )
    return False


def walk(root):
    found = {}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in dirs:
            p = os.path.join(d, name)
            found[os.path.relpath(p, root) + "/"] = p
        for name in files:
            p = os.path.join(d, name)
            found[os.path.relpath(p, root)] = p
    return found


# --- steps: exit codes, stdout, stderr ---------------------------------------------------------
def step_ids(side):
    d = os.path.join(LOGS, side)
    return sorted(f[: -len(".rc")] for f in os.listdir(d) if f.endswith(".rc"))


old_steps, new_steps = step_ids("old"), step_ids("new")
if old_steps != new_steps:
    differences.append(("step list", udiff("\n".join(old_steps), "\n".join(new_steps), "old", "new")))
steps = [s for s in old_steps if s in set(new_steps)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


for sid in steps:
    o = {k: read(os.path.join(LOGS, "old", f"{sid}.{k}")) for k in ("rc", "stdout", "stderr")}
    n = {k: read(os.path.join(LOGS, "new", f"{sid}.{k}")) for k in ("rc", "stdout", "stderr")}
    if o["rc"] != n["rc"]:
        differences.append(
            (f"{sid}: exit code", f"    old {o['rc'].decode().strip()}, new {n['rc'].decode().strip()}")
        )
    for stream in ("stdout", "stderr"):
        ta, tb = as_text(o[stream]), as_text(n[stream])
        what = f"{sid}: {stream}"
        if ta is None or tb is None:
            compare_bytes(what, o[stream], n[stream])
            continue
        ta, tb = norm_paths(ta, "old"), norm_paths(tb, "new")
        if stream == "stderr":
            ta, tb = filter_stderr(ta), filter_stderr(tb)
        compare_text(what, ta, tb, f"old/{sid}.{stream}", f"new/{sid}.{stream}")

# --- output files ------------------------------------------------------------------------------
fo, fn = walk(OLD), walk(NEW)
names = sorted(set(fo) | set(fn))
files_compared = 0
for rel in names:
    if rel not in fn:
        differences.append((f"file {rel}", "    only in old"))
        continue
    if rel not in fo:
        differences.append((f"file {rel}", "    only in new"))
        continue
    if rel.endswith("/"):
        continue
    files_compared += 1
    a, b = read(fo[rel]), read(fn[rel])
    what = f"file {rel}"
    da, erra = decompress(rel, a)
    db, errb = decompress(rel, b)
    if erra or errb:
        if erra != errb:
            differences.append((what, f"    cannot decompress: old {erra or 'ok'}, new {errb or 'ok'}"))
        compare_bytes(what, a, b)
        continue
    if da is not None:
        # A compressed shard: its content, then its bytes.
        ta, tb = as_text(da), as_text(db)
        if ta is None or tb is None:
            same = compare_bytes(what + " (decompressed)", da, db)
        else:
            na, nb = norm_paths(ta, "old"), norm_paths(tb, "new")
            same = compare_text(what + " (decompressed)", na, nb, "old/" + rel, "new/" + rel)
            if same and ta != tb:
                notes.append(f"{rel}: equal once the side's directory is normalised")
                continue  # the paths differ, so the compressed bytes must
        if same:
            compare_bytes(what + " (compressed bytes; content equal)", a, b)
        continue
    ta, tb = as_text(a), as_text(b)
    if rel.endswith(".parquet") or ta is None or tb is None:
        if a != b and rel.endswith(".parquet"):
            pa, pb = parquet_dump(fo[rel]), parquet_dump(fn[rel])
            if pa is not None and pb is not None:
                pa, pb = norm_paths(pa, "old"), norm_paths(pb, "new")
                extra = (
                    "; rows (as JSON lines) equal" if pa == pb else "\n" + udiff(pa, pb, "old/" + rel, "new/" + rel, 20)
                )
                compare_bytes(what, a, b, extra)
                continue
        compare_bytes(what, a, b)
        continue
    na, nb = norm_paths(ta, "old"), norm_paths(tb, "new")
    compare_text(what, na, nb, "old/" + rel, "new/" + rel)

# --- the repo's inputs are untouched -----------------------------------------------------------
before = read(os.path.join(LOGS, "inputs-before.sha1")).decode()
after = read(os.path.join(LOGS, "inputs-after.sha1")).decode()
if before != after:
    differences.append(("data-samples/ was modified by the run", udiff(before, after, "before", "after")))

# --- summary -----------------------------------------------------------------------------------
def seconds(side):
    try:
        return read(os.path.join(LOGS, f"{side}.seconds")).decode().strip() + "s"
    except OSError:
        return "?"


def slowest(side, k=5):
    rows = []
    try:
        for line in read(os.path.join(LOGS, side, "times.tsv")).decode().splitlines():
            sid, rc, t = line.split("\t")
            rows.append((float(t), sid))
    except OSError:
        pass
    rows.sort(reverse=True)
    return ", ".join(f"{sid} {t:.1f}s" for t, sid in rows[:k])


out = []
out.append(f"old: {old_pick}")
out.append(f"new: {new_pick}")
out.append(f"workdir: {work}")
out.append(f"steps: {len(steps)} (old {seconds('old')}, new {seconds('new')})")
out.append(f"  slowest (old): {slowest('old')}")
failed = sum(1 for s in steps if read(os.path.join(LOGS, "old", f"{s}.rc")).strip() != b"0")
out.append(f"  steps exiting non-zero with the old binary: {failed} (the err_* steps expect it)")
dirs = sum(1 for n in names if n.endswith("/"))
out.append(
    f"compared: {files_compared} output files (and {dirs} directories), "
    f"{len(steps)} x (exit code, stdout, stderr)"
)
out.append("")
if differences:
    out.append(f"DIFFERENCES: {len(differences)}")
    for what, detail in differences:
        out.append(f"- {what}")
        if detail:
            out.append(detail)
else:
    out.append("differences: none")
out.append("")
if float_only:
    out.append(f"differs only in float repr (1e-5 vs 1e-05): {len(float_only)}")
    for what in float_only:
        out.append(f"- {what}")
else:
    out.append("differs only in float repr: none")
if notes:
    out.append("")
    out.append("notes:")
    out.extend(f"- {n}" for n in notes)
out.append("")
out.append("RESULT: " + ("DIFFERENT" if differences else "same behaviour" + (" (up to float repr)" if float_only else "")))
text = "\n".join(out) + "\n"
with open(os.path.join(work, "summary.txt"), "w") as f:
    f.write(text)
sys.stdout.write(text)
sys.exit(1 if differences else 0)
PY

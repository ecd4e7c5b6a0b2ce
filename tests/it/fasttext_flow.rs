//! The worklog's fastText flow on data-samples: transform-dataset → convert-to-fasttext →
//! train-fasttext → eval-fasttext → infer-fasttext, held to official fastText's own model
//! (data-samples/fasttext, see its PROVENANCE.md) and to bonepick's eval figures.

use std::path::{Path, PathBuf};

use crate::common::*;

pub(crate) const BINARY: &str =
    r#"{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}"#;

fn official_model() -> PathBuf {
    samples().join("fasttext/binary")
}

/// A committed model copied where eval-fasttext may write its results next to it.
pub(crate) fn model_copy(tmp: &Path, name: &str) -> PathBuf {
    let dir = tmp.join(format!("model-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        samples().join("fasttext").join(name).join("model.bin"),
        dir.join("model.bin"),
    )
    .unwrap();
    dir
}

/// data-samples with neg/pos labels, and its fastText files as the committed model was trained on.
pub(crate) fn prepared(tmp: &Path) -> (PathBuf, PathBuf) {
    let binary = tmp.join("binary");
    let ft = tmp.join("ft");
    pick_ok(&[
        "-q",
        "transform-dataset",
        "-i",
        s(&samples()),
        "-o",
        s(&binary),
        "-l",
        BINARY,
    ]);
    pick_ok(&[
        "-q",
        "convert-to-fasttext",
        "-i",
        s(&binary),
        "-o",
        s(&ft),
        "-n",
        "ultrafine",
        "--max-length",
        "2000",
    ]);
    (binary, ft)
}

/// The YAML without the lines naming this run's directories.
fn figures(yaml: &str) -> String {
    yaml.lines()
        .filter(|l| {
            !l.starts_with("model_dir:") && !l.starts_with("- /") && !l.starts_with("dataset_dir:")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn flow_trains_the_official_model_and_scores_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (binary, ft) = prepared(tmp.path());

    // train-fasttext with one thread is official fastText, byte for byte.
    let model = tmp.path().join("model");
    pick_ok(&[
        "-q",
        "train-fasttext",
        "-d",
        s(&ft),
        "-o",
        s(&model),
        "--dimension",
        "16",
        "--learning-rate",
        "0.5",
        "--word-ngrams",
        "2",
        "--min-count",
        "5",
        "--epoch",
        "25",
        "--bucket",
        "20000",
        "--thread",
        "1",
        "--seed",
        "42",
    ]);
    let ours = std::fs::read(model.join("model.bin")).unwrap();
    let official = std::fs::read(official_model().join("model.bin")).unwrap();
    assert!(
        ours == official,
        "pick's model.bin differs from official fastText's"
    );
    let vec = std::fs::read_to_string(model.join("model.vec")).unwrap();
    assert!(vec.starts_with("4479 16\n"), "{}", &vec[..40]);
    assert_eq!(vec.lines().count(), 4480);
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("train_params.json")).unwrap())
            .unwrap();
    assert_eq!(params["parameters"]["learning_rate"], 0.5);
    assert_eq!(params["parameters"]["loss"], "softmax");
    assert!(
        params["train_command"]
            .as_str()
            .unwrap()
            .contains("-dim 16 -lr 0.5 -wordNgrams 2 -minCount 5 -epoch 25 -bucket 20000"),
        "{params}"
    );

    // eval-fasttext: bonepick's precision, recall and F1; AUC for both classes.
    let yaml = pick_ok(&["-q", "eval-fasttext", "-d", s(&ft), "-m", s(&model)]);
    assert_eq!(
        figures(&yaml),
        "overall_results:
  macro_precision: 0.8739
  macro_recall: 0.7957
  macro_f1: 0.8237
  macro_auc: 0.8674
per_class_metrics:
- class_name: __label__neg
  precision: 0.8696
  recall: 0.625
  f1: 0.7273
  support: 64
  auc: 0.8675
- class_name: __label__pos
  precision: 0.8782
  recall: 0.9665
  f1: 0.9202
  support: 179
  auc: 0.8674"
    );
    // bonepick's file name: the first 6 hex digits of test.txt's SHA-256.
    assert_eq!(
        std::fs::read_to_string(model.join("results_a8c522.yaml")).unwrap(),
        yaml
    );
    // B5: several -d are read as written (bonepick swapped label and text).
    let twice = pick_ok(&[
        "-q",
        "eval-fasttext",
        "-d",
        s(&ft),
        "-d",
        s(&ft),
        "-m",
        s(&model),
    ]);
    assert!(
        twice.contains("macro_f1: 0.8237") && twice.contains("support: 358"),
        "{twice}"
    );

    // infer-fasttext: every row gains .metadata.myclf; the decisions are eval's.
    let scored = tmp.path().join("scored");
    pick_ok(&[
        "-q",
        "infer-fasttext",
        "-m",
        s(&model),
        "-i",
        s(&binary),
        "-o",
        s(&scored),
        "-c",
        "myclf",
        "--normalizer",
        "ultrafine",
        "--max-length",
        "2000",
    ]);
    let counts = pick_ok(&[
        "sql",
        "--format",
        "csv",
        "-d",
        &format!("o={}", s(&scored)),
        "SELECT count(*), count(*) FILTER (WHERE _split = 'test' AND o.metadata.myclf.__label__pos > 0.5), \
         count(*) FILTER (WHERE o.text IS NULL OR o.score IS NULL) FROM o",
    ]);
    assert_eq!(counts.lines().nth(1), Some("2500,197,0"), "{counts}");
    let first = pick_ok(&[
        "sql",
        "--format",
        "jsonl",
        &format!(
            "SELECT * FROM '{}' LIMIT 1",
            s(&scored.join("test/shard_00.jsonl.zst"))
        ),
    ]);
    let row: serde_json::Value = serde_json::from_str(first.trim()).unwrap();
    let labels: Vec<&String> = row["metadata"]["myclf"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(labels, ["__label__neg", "__label__pos"]);

    // The same as Parquet, read back by SQL.
    let pq = tmp.path().join("scored-pq");
    pick_ok(&[
        "-q",
        "infer-fasttext",
        "-m",
        s(&model),
        "-i",
        s(&binary),
        "-o",
        s(&pq),
        "-c",
        "myclf",
        "--normalizer",
        "ultrafine",
        "--max-length",
        "2000",
        "--format",
        "parquet",
    ]);
    let counts = pick_ok(&[
        "sql",
        "--format",
        "csv",
        &format!(
            "SELECT count(*) FILTER (WHERE metadata.myclf['__label__pos'] > 0.5) FROM '{}'",
            s(&pq.join("test"))
        ),
    ]);
    assert_eq!(counts.lines().nth(1), Some("197"), "{counts}");
}

#[test]
fn multi_line_texts_are_one_document_whatever_the_normalizer() {
    // B8: plsfix keeps line breaks; bonepick's predict-prob then saw more lines than rows.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    pick_ok(&[
        "-q",
        "infer-fasttext",
        "-m",
        s(&official_model()),
        "-i",
        s(&samples().join("test")),
        "-o",
        s(&out),
        "-c",
        "q",
        "--normalizer",
        "plsfix",
    ]);
    let counts = pick_ok(&[
        "sql",
        "--format",
        "csv",
        &format!("SELECT count(*), count(o.metadata.q) FROM '{}' o", s(&out)),
    ]);
    assert_eq!(counts.lines().nth(1), Some("243,243"), "{counts}");
}

#[test]
fn empty_texts_and_multi_label_rows_are_scored() {
    // B15: bonepick crashed on a row with no text and read only a row's first label.
    let tmp = tempfile::tempdir().unwrap();
    let ft = tmp.path().join("ft");
    write_file(
        &ft.join("test.txt"),
        b"__label__pos fn main() {}\n__label__neg \n__label__neg __label__pos //! docs\n",
    );
    let yaml = pick_ok(&[
        "-q",
        "eval-fasttext",
        "-d",
        s(&ft),
        "-m",
        s(&model_copy(tmp.path(), "binary")),
    ]);
    assert!(yaml.contains("support: 2\n  auc"), "{yaml}");
}

#[test]
fn bad_models_and_inputs_are_clear_errors_leaving_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = tmp.path().join("out");
    let infer = |model: &Path| {
        pick(&[
            "infer-fasttext",
            "-m",
            s(model),
            "-i",
            s(&samples()),
            "-o",
            s(&out),
            "-c",
            "x",
        ])
    };
    let o = infer(&missing);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("{}/model.bin", s(&missing))),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "infer wrote output for a missing model");

    let cut = tmp.path().join("cut");
    let bytes = std::fs::read(official_model().join("model.bin")).unwrap();
    write_file(&cut.join("model.bin"), &bytes[..1000]);
    let o = infer(&cut);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cut/model.bin: not a usable fastText model")
            && stderr(&o).contains("truncated"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = pick(&["eval-fasttext", "-d", s(&samples()), "-m", s(&cut)]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "no test.txt is a usage error: {}",
        stderr(&o)
    );

    let ft = tmp.path().join("ft");
    write_file(
        &ft.join("test.txt"),
        b"__label__pos a\n__label__neg b\nno label here\n",
    );
    let o = pick(&[
        "eval-fasttext",
        "-d",
        s(&ft),
        "-m",
        s(&model_copy(tmp.path(), "binary")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("test.txt:3: no __label__"),
        "{}",
        stderr(&o)
    );

    let o = pick(&["train-fasttext", "-d", s(&samples()), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no train.txt"), "{}", stderr(&o));
}

#[test]
fn every_class_has_its_auc_with_five_classes() {
    // B7: bonepick reports null for every AUC with three or more fastText classes. The
    // figures are scikit-learn's on official fastText's own predictions
    // (data-samples/fasttext/expected/five-ova.txt): P/R/F1 to the digit, AUC within 1e-3
    // (predict-prob prints 6 digits, pick ranks full floats).
    let tmp = tempfile::tempdir().unwrap();
    let ft = tmp.path().join("ft");
    std::fs::create_dir_all(&ft).unwrap();
    std::fs::copy(samples().join("fasttext/test.txt"), ft.join("test.txt")).unwrap();
    let model = model_copy(tmp.path(), "five-ova");
    let yaml = pick_ok(&["-q", "eval-fasttext", "-d", s(&ft), "-m", s(&model)]);
    assert!(yaml.contains("macro_f1: 0.3783"), "{yaml}");
    let sklearn = [
        ("__label__1", 0.0, 0.0, 0.0, 3, 0.6694),
        ("__label__2", 0.75, 0.5902, 0.6606, 61, 0.8059),
        ("__label__3", 0.4522, 0.7123, 0.5532, 73, 0.7124),
        ("__label__4", 0.5556, 0.4268, 0.4828, 82, 0.7105),
        ("__label__5", 0.2353, 0.1667, 0.1951, 24, 0.7719),
    ];
    let value = |block: &str, key: &str| -> f64 {
        let line = block
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap();
        line.split(": ").nth(1).unwrap().parse().unwrap()
    };
    for (class, p, r, f1, support, auc) in sklearn {
        let block = yaml
            .split("- class_name: ")
            .find(|b| b.starts_with(class))
            .unwrap();
        assert_eq!(value(block, "precision"), p, "{class}");
        assert_eq!(value(block, "recall"), r, "{class}");
        assert_eq!(value(block, "f1"), f1, "{class}");
        assert_eq!(value(block, "support"), support as f64, "{class}");
        assert!(
            (value(block, "auc") - auc).abs() <= 1e-3,
            "{class}: {block}"
        );
    }
    let macro_auc = value(&yaml, "macro_auc");
    assert!((macro_auc - (0.6694 + 0.8059 + 0.7124 + 0.7105 + 0.7719) / 5.0).abs() <= 1e-3);
}

#[test]
fn parquet_shards_stay_parquet_with_the_prediction_in_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("pq");
    let out = tmp.path().join("out");
    pick_ok(&["-q", "export", "-i", s(&samples()), "-o", s(&pq)]);
    pick_ok(&[
        "-q",
        "infer-fasttext",
        "-m",
        s(&official_model()),
        "-i",
        s(&pq),
        "-o",
        s(&out),
        "-c",
        "q",
        "--normalizer",
        "ultrafine",
        "--max-length",
        "2000",
    ]);
    assert!(out.join("test/shard_00.parquet").is_file());
    let counts = pick_ok(&[
        "sql",
        "--format",
        "csv",
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE o.metadata.q['__label__pos'] > 0.5), \
             count(o.metadata.code_quality.score), count(o.source.kind) FROM '{}' o",
            s(&out.join("test"))
        ),
    ]);
    // The scores of the JSON run (197 of 243 called pos), every other field kept.
    assert_eq!(counts.lines().nth(1), Some("243,197,243,243"), "{counts}");
}

/// Two models in one pass: every row gains both predictions, each the one a run with that
/// model alone writes.
#[test]
fn several_models_score_in_one_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let input = samples().join("test");
    let binary = samples().join("fasttext/binary");
    let five = samples().join("fasttext/five-ova");
    let infer = |out: &str, models: &[(&std::path::Path, &str)]| {
        let dir = tmp.path().join(out);
        let mut args = vec!["-q", "infer-fasttext", "-i", s(&input), "-o", s(&dir)];
        for (m, c) in models {
            args.extend(["-m", s(m), "-c", c]);
        }
        args.extend(["--normalizer", "ultrafine"]);
        pick_ok(&args);
        dir
    };
    let both = infer("both", &[(&binary, "q"), (&five, "stars")]);
    let alone_q = infer("q", &[(&binary, "q")]);
    let alone_stars = infer("stars", &[(&five, "stars")]);
    let column = |dir: &std::path::Path, key: &str| {
        pick_ok(&[
            "sql",
            "-f",
            "jsonl",
            &format!(
                "SELECT id, o.metadata.{key} AS p FROM '{}' o ORDER BY id",
                s(dir)
            ),
        ])
    };
    let q = column(&both, "q");
    assert_eq!(q.lines().count(), 243, "{q}");
    assert_eq!(q, column(&alone_q, "q"));
    assert_eq!(column(&both, "stars"), column(&alone_stars, "stars"));
    // Other metadata stays.
    let kept = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!(
            "SELECT count(o.metadata.code_quality.score) AS n FROM '{}' o",
            s(&both)
        ),
    ]);
    assert_eq!(kept, "n\n243\n");

    // The text is normalized once per row for both models: DataFusion plans the shared
    // expression once (as the pass's statement writes it, `--show-sql`).
    let plan = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!(
            "EXPLAIN SELECT json_set(json_set(_json, fasttext_predict('{b}', normalize(text, 'ultrafine')), \
             'metadata', 'q'), fasttext_predict('{f}', normalize(text, 'ultrafine')), 'metadata', 'stars') \
             FROM '{i}' ORDER BY _row",
            b = s(&binary),
            f = s(&five),
            i = s(&input)
        ),
    ]);
    let physical = &plan[plan.find("physical_plan").expect("a physical plan")..];
    // Evaluated expressions name their input columns by index (`text@0`).
    assert_eq!(physical.matches("normalize(text@").count(), 1, "{plan}");

    // One name per model, and never two models under one key.
    let o = crate::common::pick(&[
        "infer-fasttext",
        "-i",
        s(&input),
        "-o",
        s(&tmp.path().join("x")),
        "-m",
        s(&binary),
        "-m",
        s(&five),
        "-c",
        "q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::common::stderr(&o));
    let o = crate::common::pick(&[
        "infer-fasttext",
        "-i",
        s(&input),
        "-o",
        s(&tmp.path().join("y")),
        "-m",
        s(&binary),
        "-c",
        "q",
        "-m",
        s(&five),
        "-c",
        "q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::common::stderr(&o));
    assert!(
        crate::common::stderr(&o).contains("same key"),
        "{}",
        crate::common::stderr(&o)
    );
}

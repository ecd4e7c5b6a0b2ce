//! Model2Vec pipelines in SQL: a classifier and a regressor saved by Python model2vec 0.10
//! (`tests/fixtures/model2vec/`, heads only) put beside the committed base model.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{pick, pick_ok, repo, s, samples, stderr, stdout};

fn pipeline(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let base = repo().join("models/model2vec/potion-8m-pca64");
    for f in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(base.join(f), out.join(f)).unwrap();
    }
    let heads = repo().join("tests/fixtures/model2vec").join(name);
    for f in ["head.safetensors", "config.json"] {
        std::fs::copy(heads.join(f), out.join(f)).unwrap();
    }
    out
}

#[test]
fn pipelines_predict_and_score_in_sql_as_python_does() {
    let dir = tempfile::tempdir().unwrap();
    let (classifier, regressor) = (
        pipeline(dir.path(), "classifier"),
        pipeline(dir.path(), "regressor"),
    );
    let want: Value = serde_json::from_str(
        std::fs::read_to_string(repo().join("tests/fixtures/model2vec/predictions.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(want["text"], "Hello world");
    let sql = format!(
        "SELECT model2vec_predict('{c}', 'Hello world')['neu'] AS neu, \
         model2vec_score('{c}', 'Hello world', 'pos') AS pos, \
         model2vec_predict('{r}', 'Hello world') AS value",
        c = s(&classifier),
        r = s(&regressor)
    );
    let o = pick(&["sql", "--format", "json", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let got = &got[0];
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-6;
    assert!(
        close(&got["neu"], &want["classifier"]["neu"]),
        "{got} vs {want}"
    );
    assert!(
        close(&got["pos"], &want["classifier"]["pos"]),
        "{got} vs {want}"
    );
    assert!(close(&got["value"], &want["regressor"]), "{got} vs {want}");

    // A model without a head embeds but does not predict; an unknown class is named.
    let base = repo().join("models/model2vec/potion-8m-pca64");
    let o = pick(&[
        "sql",
        &format!("SELECT model2vec_predict('{}', 'x')", s(&base)),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("has no head (head.safetensors)"),
        "{}",
        stderr(&o)
    );
    let o = pick(&[
        "sql",
        &format!("SELECT model2vec_score('{}', 'x', 'maybe')", s(&classifier)),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no class \"maybe\""), "{}", stderr(&o));
}

/// A Hugging Face hub cache holding the committed base model under the worklog's default
/// `minishlab/potion-base-32M` (the cache layout `hf download` leaves), so the worklog's command
/// lines, which name no model, run as written.
fn hub_cache(dir: &Path) -> PathBuf {
    let hub = dir.join("hub");
    let repo_dir = hub.join("models--minishlab--potion-base-32M");
    let snapshot = repo_dir.join("snapshots/0123abcd");
    std::fs::create_dir_all(&snapshot).unwrap();
    let base = repo().join("models/model2vec/potion-8m-pca64");
    for f in ["model.safetensors", "tokenizer.json", "config.json"] {
        std::fs::copy(base.join(f), snapshot.join(f)).unwrap();
    }
    std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
    std::fs::write(repo_dir.join("refs/main"), "0123abcd").unwrap();
    hub
}

fn pick_env(env: &[(&str, &Path)], args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pick"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().expect("pick runs")
}

fn yaml_value(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .parse()
        .unwrap()
}

/// The worklog's Model2Vec lines on data-samples, as written (steps 3, 4b, 5b): normalize-dataset
/// -n potion → train-model2vec → eval-model2vec; then a regressor on the 1–5 score; then the
/// pipelines score a dataset with infer-model2vec, and Python's layout is what was saved.
#[test]
fn worklog_flow_trains_evaluates_and_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = tmp.path().join("binary");
    pick_ok(&[
        "-q",
        "transform-dataset",
        "-i",
        s(&samples()),
        "-o",
        s(&binary),
        "-l",
        crate::fasttext_flow::BINARY,
    ]);
    let normalized = tmp.path().join("data/fw-pos-neg-normalized-potion");
    pick_ok(&[
        "normalize-dataset",
        "--input-dir",
        s(&binary),
        "--output-dir",
        s(&normalized),
        "-n",
        "potion",
    ]);
    let hub = hub_cache(tmp.path());
    let env = [("HF_HUB_CACHE", hub.as_path())];
    let model = tmp
        .path()
        .join("models/potion-32M-fw-pos-neg-normalized-potion");
    let o = pick_env(
        &env,
        &[
            "train-model2vec",
            "--dataset-dir",
            s(&normalized),
            "--output-dir",
            s(&model),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    assert!(log.contains("epoch   1: train loss"), "{log}");
    assert!(log.contains("(validation: 251 rows, valid/)"), "{log}");
    for f in [
        "model/model.safetensors",
        "model/head.safetensors",
        "model/config.json",
        "model/tokenizer.json",
        "model/modules.json",
        "model/README.md",
        "report.yaml",
    ] {
        assert!(model.join(f).is_file(), "{f}");
    }
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["head_config"]["activation"], "softmax");
    assert_eq!(
        config["head_config"]["classes"],
        serde_json::json!(["neg", "pos"])
    );
    assert_eq!(config["head_config"]["n_layers"], 2);
    let report = std::fs::read_to_string(model.join("report.yaml")).unwrap();
    for key in [
        "batch_size: 64",
        "early_stopping_patience: 5",
        "label_expression: .score",
        "loss_class_weight: uniform",
        "max_epochs: -1",
        "model_name: minishlab/potion-base-32M",
        "regression: false",
        "text_expression: .text",
    ] {
        assert!(report.contains(key), "{key} in {report}");
    }

    let o = pick(&[
        "eval-model2vec",
        "--dataset-dir",
        s(&normalized),
        "--model-dir",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = stdout(&o);
    let macro_f1 = yaml_value(&results, "macro_f1");
    assert!(macro_f1 > 0.7, "macro F1 {macro_f1}\n{results}");
    assert!(results.contains("class_name: neg") && results.contains("class_name: pos"));
    let written: Vec<_> = std::fs::read_dir(&model)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("results_"))
        .collect();
    assert_eq!(written.len(), 1);
    assert_eq!(std::fs::read_to_string(written[0].path()).unwrap(), results);

    // infer-model2vec: the same flags and layout as infer-fasttext.
    let scored = tmp.path().join("scored");
    pick_ok(&[
        "-q",
        "infer-model2vec",
        "-i",
        s(&normalized),
        "-o",
        s(&scored),
        "-m",
        s(&model),
        "-c",
        "m2v",
    ]);
    let rows = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&scored)),
        "--format",
        "json",
        "SELECT count(*) AS n, min(metadata.m2v['pos'] + metadata.m2v['neg']) AS lo, \
         max(metadata.m2v['pos'] + metadata.m2v['neg']) AS hi FROM s",
    ]);
    let v: Value = serde_json::from_str(rows.trim()).unwrap();
    assert_eq!(v[0]["n"], 2500);
    let (lo, hi) = (v[0]["lo"].as_f64().unwrap(), v[0]["hi"].as_f64().unwrap());
    assert!((lo - 1.0).abs() < 1e-5 && (hi - 1.0).abs() < 1e-5, "{v}");
}

/// bonepick paired texts with labels across chunks that finished in any order (B1). Here the
/// label is readable from the text, the rows are spread over 24 shards read on two threads with
/// batches smaller than a shard, and labels flip from row to row: a classifier that saw its
/// texts with other rows' labels could not be right on every test row.
#[test]
fn texts_and_labels_stay_paired_across_shards_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("paired");
    let animals = ["cat", "dog", "horse", "bird", "fish", "cow"];
    let code = [
        "function", "return", "integer", "compiler", "variable", "loop",
    ];
    let mut n = 0usize;
    for (split, files) in [("train", 20), ("valid", 2), ("test", 2)] {
        for f in 0..files {
            let mut text = String::new();
            for r in 0..37 {
                n += 1;
                let label = if (n * 7 + r).is_multiple_of(3) {
                    "code"
                } else {
                    "animal"
                };
                let words = if label == "code" { &code } else { &animals };
                let t: Vec<&str> = (0..8).map(|k| words[(n + k * 5) % 6]).collect();
                text.push_str(
                    &serde_json::json!({"text": t.join(" "), "score": label}).to_string(),
                );
                text.push('\n');
            }
            crate::common::write_file(
                &data.join(format!("{split}/shard_{f:02}.jsonl")),
                text.as_bytes(),
            );
        }
    }
    let model = tmp.path().join("model");
    let base = repo().join("models/model2vec/potion-8m-pca64");
    pick_ok(&[
        "-q",
        "train-model2vec",
        "-d",
        s(&data),
        "-o",
        s(&model),
        "-m",
        s(&base),
        "-p",
        "2",
        "--batch-size",
        "16",
    ]);
    let results = pick_ok(&[
        "-q",
        "eval-model2vec",
        "-d",
        s(&data),
        "-m",
        s(&model),
        "-p",
        "2",
    ]);
    assert_eq!(yaml_value(&results, "macro_f1"), 1.0, "{results}");
}

/// Broken inputs are errors naming what is wrong, exit 1 (2 for usage), and nothing is written.
#[test]
fn train_model2vec_errors_name_the_problem_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // A model name that is neither a folder nor in the hub cache.
    let empty_hub = tmp.path().join("empty-hub");
    std::fs::create_dir_all(&empty_hub).unwrap();
    let o = pick_env(
        &[("HF_HUB_CACHE", empty_hub.as_path())],
        &["train-model2vec", "-d", s(&samples()), "-o", s(&out)],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--model-name minishlab/potion-base-32M: not a folder"),
        "{}",
        stderr(&o)
    );
    // A corrupt model folder.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let base = repo().join("models/model2vec/potion-8m-pca64");
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(base.join(f), broken.join(f)).unwrap();
    }
    std::fs::write(broken.join("model.safetensors"), b"garbage").unwrap();
    let o = pick(&[
        "train-model2vec",
        "-d",
        s(&samples()),
        "-o",
        s(&out),
        "-m",
        s(&broken),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model.safetensors: not a safetensors file"),
        "{}",
        stderr(&o)
    );
    // A non-numeric label for a regressor names its file and row.
    let o = pick(&[
        "train-model2vec",
        "-d",
        s(&samples()),
        "-o",
        s(&out),
        "-m",
        s(&base),
        "--regression",
        "-ll",
        ".id",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("train/shard_00.jsonl.zst: row 1: the label") && e.contains("is not a number"),
        "{e}"
    );
    assert!(!out.exists());
    // eval on a static model without a head.
    let o = pick(&["eval-model2vec", "-d", s(&samples()), "-m", s(&base)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("without a head"), "{}", stderr(&o));
}

/// The eval results of a classifier and a regressor trained on data-samples with two threads,
/// against golden files (`PICK_GOLDEN_UPDATE=1` rewrites them): training is seeded and its sums
/// run in a fixed order for a given thread count, so the figures are exact.
#[test]
fn trained_models_evaluate_as_their_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let base = repo().join("models/model2vec/potion-8m-pca64");
    let binary = tmp.path().join("binary");
    pick_ok(&[
        "-q",
        "transform-dataset",
        "-i",
        s(&samples()),
        "-o",
        s(&binary),
        "-l",
        crate::fasttext_flow::BINARY,
    ]);
    let runs: [(&str, &Path, &[&str]); 2] = [
        ("classification", &binary, &[]),
        (
            "regression",
            &samples(),
            &["--regression", "-ll", ".metadata.code_quality.score"],
        ),
    ];
    for (name, data, extra) in runs {
        let model = tmp.path().join(name);
        let common = ["--normalizer", "potion", "--max-length", "5000", "-p", "2"];
        let mut args = vec![
            "-q",
            "train-model2vec",
            "-d",
            s(data),
            "-o",
            s(&model),
            "-m",
            s(&base),
        ];
        args.extend(extra);
        args.extend(common);
        pick_ok(&args);
        let mut args = vec!["-q", "eval-model2vec", "-d", s(data), "-m", s(&model)];
        args.extend(extra.iter().filter(|a| **a != "--regression"));
        args.extend(common);
        let results = pick_ok(&args);
        let figures: String = results
            .lines()
            .skip_while(|l| !l.starts_with("overall_results:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let golden = repo().join(format!("tests/fixtures/model2vec/golden/{name}.yaml"));
        if std::env::var_os("PICK_GOLDEN_UPDATE").is_some() {
            crate::common::write_file(&golden, figures.as_bytes());
        }
        assert_eq!(
            figures,
            std::fs::read_to_string(&golden).unwrap(),
            "{name}: {}",
            golden.display()
        );
    }
}

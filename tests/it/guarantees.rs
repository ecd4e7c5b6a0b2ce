//! What pick promises about data it did not write and figures it prints: nothing a user had is
//! replaced or dropped, bad input is an error naming the file and row, and a number that is not
//! defined says so. One test per promise (each failed before its fix).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

fn jsonl(path: &Path, rows: &[&str]) {
    write_file(path, format!("{}\n", rows.join("\n")).as_bytes());
}

#[test]
fn infer_never_replaces_a_metadata_that_is_not_an_object() {
    let tmp = tempfile::tempdir().unwrap();
    let model = samples().join("fasttext/binary/model.bin");
    jsonl(
        &tmp.path().join("in/a.jsonl"),
        &[
            r#"{"text": "a b", "metadata": {"k": 1}}"#,
            r#"{"text": "c d", "metadata": "a note"}"#,
        ],
    );
    let o = pick(&[
        "infer-fasttext",
        "-i",
        s(&tmp.path().join("in")),
        "-o",
        s(&tmp.path().join("out")),
        "-m",
        s(&model),
        "-c",
        "q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("a.jsonl: row 2"), "{err}");
    assert!(err.contains("does not overwrite"), "{err}");
    assert!(
        !tmp.path().join("out").exists(),
        "a partial output was left"
    );

    // A columnar `metadata` that is not a struct (here text) is refused before writing.
    let pq = tmp.path().join("pq.parquet");
    pick_ok(&[
        "sql",
        "-o",
        s(&pq),
        "SELECT 'x y' AS text, 'a note' AS metadata",
    ]);
    let o = pick(&[
        "infer-fasttext",
        "-i",
        s(&pq),
        "-o",
        s(&tmp.path().join("out2")),
        "-m",
        s(&model),
        "-c",
        "q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not an object"), "{}", stderr(&o));
}

#[test]
fn transform_of_parquet_keeps_the_rows_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("pq");
    pick_ok(&["export", "-i", s(&samples().join("test")), "-o", s(&pq)]);
    let out = tmp.path().join("out");
    pick_ok(&[
        "transform-dataset",
        "-i",
        s(&pq),
        "-o",
        s(&out),
        "-l",
        "{score: .metadata.code_quality.score}",
    ]);
    let counted = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!(
            "SELECT count(text) AS t, count(score) AS s FROM '{}'",
            s(&out)
        ),
    ]);
    assert_eq!(counted, "t,s\n243,243\n");
    // The columns a later command needs are there.
    pick_ok(&[
        "normalize-dataset",
        "-i",
        s(&out),
        "-o",
        s(&tmp.path().join("norm")),
    ]);
}

#[test]
fn outputs_never_overlap_inputs_and_are_replaced_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    pick_ok(&[
        "export",
        "-i",
        s(&samples().join("test")),
        "-o",
        s(&data),
        "-f",
        "jsonl",
    ]);
    let before = std::fs::read_dir(&data).unwrap().count();
    // `./data` is the input, spelled otherwise.
    let dotted = format!("{}/./data", s(tmp.path()));
    let o = pick(&["export", "-i", s(&data), "-o", &dotted]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("overlaps the input"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), before);

    // Resharding into 10 files, then 5: without --overwrite refused, with it exactly 5 files.
    let out = tmp.path().join("sharded");
    pick_ok(&["reshard-dataset", "-i", s(&data), "-o", s(&out), "-n", "10"]);
    let o = pick(&["reshard-dataset", "-i", s(&data), "-o", s(&out), "-n", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 10);
    pick_ok(&[
        "reshard-dataset",
        "-i",
        s(&data),
        "-o",
        s(&out),
        "-n",
        "5",
        "--overwrite",
    ]);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5);
    // No staging or spill directory is left beside or inside it.
    let hidden: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .chain(std::fs::read_dir(&out).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn a_row_without_json_text_is_an_error_not_a_missing_row() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rows.jsonl");
    let o = pick(&[
        "sql",
        "-o",
        s(&out),
        "SELECT * FROM (VALUES ('{\"a\":1}'), (NULL)) AS t(_json)",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("row 2 has no JSON text"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_symlink_loop_is_read_once_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    jsonl(
        &tmp.path().join("d/a.jsonl"),
        &[r#"{"x": 1}"#, r#"{"x": 2}"#],
    );
    std::os::unix::fs::symlink(tmp.path().join("d"), tmp.path().join("d/again")).unwrap();
    let o = pick(&[
        "sql",
        "-f",
        "csv",
        &format!("SELECT count(*) AS n FROM '{}'", s(&tmp.path().join("d"))),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n\n2\n");
    assert!(stderr(&o).contains("symbolic link loop"), "{}", stderr(&o));
}

#[test]
fn rows_schema_inference_cannot_read_are_errors_naming_file_and_line() {
    for (rows, needle) in [
        (&[r#"{"id":0,}"#][..], "a.jsonl:1:"),
        (&[r#"{"v": [1,]}"#, r#"{"v": [2]}"#][..], "a.jsonl:1:"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        jsonl(&tmp.path().join("a.jsonl"), rows);
        let o = pick(&[
            "sql",
            &format!("SELECT v[1] AS v FROM '{}'", s(&tmp.path().join("a.jsonl"))),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        // With --skip-bad-rows inference leaves the row to the scan, which counts it.
        if rows.len() == 1 {
            continue;
        }
        let o = pick(&[
            "sql",
            "-f",
            "csv",
            "--skip-bad-rows",
            &format!("SELECT v[1] AS v FROM '{}'", s(&tmp.path().join("a.jsonl"))),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "v\n2\n");
        assert!(stderr(&o).contains("skipped 1 bad row"), "{}", stderr(&o));
    }
}

#[test]
fn closed_stdout_ends_quietly() {
    let cases: Vec<Vec<String>> = vec![
        vec![
            "label-distribution".into(),
            "-d".into(),
            s(&samples()).into(),
            "-l".into(),
            ".metadata.code_quality.score".into(),
        ],
        vec![
            "count-tokens".into(),
            "-d".into(),
            s(&samples().join("test")).into(),
        ],
        vec![
            "annotation-agreement".into(),
            "-d".into(),
            s(&samples()).into(),
            "-d".into(),
            s(&samples()).into(),
            "-l".into(),
            ".metadata.code_quality.score".into(),
            "-k".into(),
            ".id".into(),
        ],
    ];
    for args in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pick"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn absurd_file_counts_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let o = pick(&[
        "reshard-dataset",
        "-i",
        s(&samples().join("test")),
        "-o",
        s(&tmp.path().join("o")),
        "-n",
        "1000000000000",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("more files than"), "{}", stderr(&o));
}

#[test]
fn an_undefined_pearson_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    jsonl(
        &tmp.path().join("a/x.jsonl"),
        &[r#"{"k": 1, "l": 2}"#, r#"{"k": 2, "l": 2}"#],
    );
    jsonl(
        &tmp.path().join("b/x.jsonl"),
        &[r#"{"k": 1, "l": 2}"#, r#"{"k": 2, "l": 3}"#],
    );
    let out = pick_ok(&[
        "annotation-agreement",
        "--dataset1",
        s(&tmp.path().join("a")),
        "--dataset2",
        s(&tmp.path().join("b")),
        "-l",
        ".l",
        "-k",
        ".k",
        "--ordinal",
    ]);
    assert!(out.contains("Pearson: undefined"), "{out}");
    assert!(!out.contains("Pearson: 0.0000"), "{out}");
}

#[test]
fn missing_calibration_components_are_counted_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    jsonl(
        &tmp.path().join("d/x.jsonl"),
        &[
            r#"{"p": {"a": 0.1, "b": 0.2}, "y": 0}"#,
            r#"{"p": {"a": 0.9}, "y": 1}"#,
            r#"{"p": {"a": 0.5, "b": 0.7}, "y": 1}"#,
        ],
    );
    let o = pick(&[
        "train-calibration",
        "-d",
        s(&tmp.path().join("d")),
        "-p",
        ".p",
        "-l",
        ".y",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 of 3 rows lack one or more of the components a, b"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_validation_split_is_imported_as_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    for split in ["train", "validation", "test"] {
        jsonl(
            &hub.join(format!("data/{split}-00000.jsonl")),
            &[
                r#"{"text": "a", "score": 1}"#,
                r#"{"text": "b", "score": 2}"#,
            ],
        );
    }
    let out = tmp.path().join("out");
    pick_ok(&["import-hf-dataset", "-n", s(&hub), "-o", s(&out)]);
    let rows = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!(
            "SELECT _split, count(*) AS n FROM '{}' GROUP BY 1 ORDER BY 1",
            s(&out)
        ),
    ]);
    assert_eq!(rows, "_split,n\ntest,2\ntrain,2\nvalid,2\n");
}

#[test]
fn json_formats_write_maps_structs_and_lists_as_json() {
    let model = samples().join("fasttext/binary/model.bin");
    let out = pick_ok(&[
        "sql",
        "-f",
        "jsonl",
        &format!(
            "SELECT fasttext_predict('{}', 'some text') AS m, named_struct('a', 1, 'b', [1.5, 1e-05]) AS s",
            s(&model)
        ),
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let m = v["m"].as_object().expect("a map is a JSON object");
    assert_eq!(
        m.keys().collect::<Vec<_>>(),
        ["__label__neg", "__label__pos"]
    );
    assert!(m.values().all(|p| p.is_number()));
    assert_eq!(v["s"], serde_json::json!({"a": 1, "b": [1.5, 1e-05]}));
    assert!(out.contains("1e-05"), "{out}");
}

#[test]
fn numbers_are_read_as_python_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    pick_ok(&[
        "convert-to-fasttext",
        "-i",
        s(&samples()),
        "-o",
        s(&tmp.path().join("ft")),
        "-ll",
        ".metadata.code_quality.score",
        "--max-length",
        "10_000",
    ]);
}

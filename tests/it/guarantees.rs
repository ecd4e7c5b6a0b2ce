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

/// A fastText training set of `lines`, ready for train-fasttext and eval-fasttext.
fn fasttext_dir(dir: &Path, train: &[&str], test: &[&str]) {
    write_file(
        &dir.join("train.txt"),
        format!("{}\n", train.join("\n")).as_bytes(),
    );
    write_file(
        &dir.join("test.txt"),
        format!("{}\n", test.join("\n")).as_bytes(),
    );
}

#[test]
fn diverging_fasttext_training_is_an_error_not_an_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ft");
    let lines: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "__label__{} w{} w{} common words here",
                i % 2,
                i % 7,
                i % 11
            )
        })
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    fasttext_dir(&data, &lines, &lines);
    let out = tmp.path().join("model");
    let o = pick(&[
        "-q",
        "train-fasttext",
        "-d",
        s(&data),
        "-o",
        s(&out),
        "--learning-rate",
        "1e30",
        "--epoch",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("Encountered NaN"), "{}", stderr(&o));
    assert!(!out.join("model.bin").exists());
}

#[test]
fn eval_leaves_out_and_counts_lines_with_no_known_input() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ft");
    // Each word is seen 5 times but the end-of-line token "</s>" only 4: with min-count 5 the
    // model keeps the words and drops "</s>", so a line of unknown words has no input at all.
    let train = [
        "__label__a apple apple apple",
        "__label__b pear pear pear",
        "__label__a apple apple",
        "__label__b pear pear",
    ];
    fasttext_dir(
        &data,
        &train,
        &["__label__a apple", "__label__b zzz qqq", "__label__b pear"],
    );
    // Trains with `min_count`, then evaluates on the test lines.
    let train_and_eval = |min_count: &str| {
        let out = tmp.path().join(format!("model-{min_count}"));
        pick_ok(&[
            "-q",
            "train-fasttext",
            "-d",
            s(&data),
            "-o",
            s(&out),
            "--min-count",
            min_count,
            "--word-ngrams",
            "1",
            "--epoch",
            "50",
        ]);
        pick(&[
            "eval-fasttext",
            "-d",
            s(&data),
            "-m",
            s(&out.join("model.bin")),
        ])
    };
    // With min-count 1 the model knows "</s>", which every line ends with: all are scored.
    let o = train_and_eval("1");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("no word the model knows"),
        "{}",
        stderr(&o)
    );

    let o = train_and_eval("5");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("1 of 3 examples have no word the model knows"),
        "{err}"
    );
    // The two scored lines are the support; the unknown one is not a prediction of class a.
    let yaml = stdout(&o);
    assert!(yaml.contains("support: 1\n"), "{yaml}");
    assert!(!yaml.contains("support: 2\n"), "{yaml}");
}

/// Offsets in a fastText file: magic, version, then 12 int32 arguments and a float64.
const FT_DICT: usize = 8 + 12 * 4 + 8;

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn corrupt_quantizers_and_label_free_models_are_errors() {
    use pick_fasttext::Model;
    let tmp = tempfile::tempdir().unwrap();
    let ftz = std::fs::read(samples().join("fasttext/binary/model.ftz")).unwrap();
    let dim = i32_at(&ftz, 8);
    // The input's product quantizer header: dim, nsubq, dsub (2), lastdsub.
    let nsubq = (dim + 1) / 2;
    let lastdsub = if dim % 2 == 0 { 2 } else { 1 };
    let header: Vec<u8> = [dim, nsubq, 2, lastdsub]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let at = ftz
        .windows(16)
        .position(|w| w == header.as_slice())
        .expect("the quantizer header");
    for (field, value) in [(2, 1000), (1, 1 << 30), (3, 7)] {
        let mut bad = ftz.clone();
        bad[at + 4 * field..at + 4 * field + 4].copy_from_slice(&i32::to_le_bytes(value));
        let path = tmp.path().join(format!("bad{field}.ftz"));
        std::fs::write(&path, &bad).unwrap();
        let err = Model::load(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("bad{field}.ftz")) && err.contains("product quantizer"),
            "{err}"
        );
    }

    // The labels turned into words: a model with nothing to predict.
    let mut bin = std::fs::read(samples().join("fasttext/binary/model.bin")).unwrap();
    let (size, nlabels) = (i32_at(&bin, FT_DICT), i32_at(&bin, FT_DICT + 8));
    assert!(nlabels > 0);
    bin[FT_DICT + 4..FT_DICT + 8].copy_from_slice(&size.to_le_bytes());
    bin[FT_DICT + 8..FT_DICT + 12].copy_from_slice(&0i32.to_le_bytes());
    let mut from = FT_DICT;
    for _ in 0..nlabels {
        let found = bin[from..]
            .windows(9)
            .position(|w| w == b"__label__")
            .unwrap();
        let nul = from + found + bin[from + found..].iter().position(|b| *b == 0).unwrap();
        bin[nul + 1 + 8] = 0;
        from = nul + 1;
    }
    let path = tmp.path().join("nolabels.bin");
    std::fs::write(&path, &bin).unwrap();
    let err = Model::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("nolabels.bin") && err.contains("no labels"),
        "{err}"
    );
}

/// Every file under `dir` with its bytes (decompressed), by relative path.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|(name, bytes)| (name, zstd::decode_all(bytes.as_slice()).unwrap_or(bytes)))
        .collect()
}

#[test]
fn the_external_shuffle_spills_and_splits_buckets_without_changing_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    // Rows of very different widths, so some buckets outgrow their share and are split again.
    let rows: Vec<String> = (0..3000)
        .map(|i| {
            let text = "word ".repeat(if i % 50 == 0 { 400 } else { i % 17 });
            format!(r#"{{"id": {i}, "text": "{text}"}}"#)
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    jsonl(&tmp.path().join("in/a.jsonl"), &rows[..1700]);
    jsonl(&tmp.path().join("in/b.jsonl"), &rows[1700..]);
    let reshard = |out: &Path, bucket_bytes: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pick"));
        cmd.args(["-q", "reshard-dataset", "-i"])
            .arg(tmp.path().join("in"))
            .arg("-o")
            .arg(out)
            .args(["-n", "3", "--test-split-frac", "0.1"]);
        if let Some(b) = bucket_bytes {
            cmd.env("PICK_SHUFFLE_BUCKET_BYTES", b);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let in_memory = tmp.path().join("memory");
    reshard(&in_memory, None);
    let expected = tree(&in_memory);
    assert_eq!(
        expected
            .values()
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .sum::<usize>(),
        3000
    );
    // 20 kB buckets: about 30 of them; 600 bytes: a row of 2 kB fills a bucket alone, and
    // buckets are split two and three levels deep.
    for bytes in ["20000", "600"] {
        let out = tmp.path().join(format!("spilled-{bytes}"));
        reshard(&out, Some(bytes));
        assert_eq!(tree(&out), expected, "bucket size {bytes}");
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(".pick"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// A dataset big enough that exporting it takes a while: `rows` rows of about 300 bytes.
fn big_jsonl(dir: &Path, rows: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut text = String::with_capacity(rows * 320);
    for i in 0..rows {
        text.push_str(&format!(
            "{{\"id\":\"{i}\",\"text\":\"{}\",\"score\":{}}}\n",
            "words of a document ".repeat(14),
            i % 5
        ));
    }
    std::fs::write(dir.join("a.jsonl"), text).unwrap();
}

/// An output directory holding a previous run's file.
fn previous_output(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("previous.jsonl"), "{\"id\":\"old\"}\n").unwrap();
    files_under(out)
}

/// Entries beside `out` other than itself and the input: staging left behind.
fn left_beside(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A panic (a bug, here forced by a hidden knob) is one "internal error" line and exit 101;
/// the output keeps its previous state and no staging is left.
#[test]
fn a_panic_is_one_internal_error_line_and_leaves_the_output_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    big_jsonl(&data, 1000);
    let out = tmp.path().join("out");
    let before = previous_output(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args([
            "export",
            "-q",
            "-i",
            s(&data),
            "-o",
            s(&out),
            "-f",
            "jsonl",
            "--overwrite",
        ])
        .env("PICK_TEST_PANIC", "1")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(101), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: internal error in pick "), "{err}");
    assert!(err.contains("this is a bug"), "{err}");
    assert_eq!(files_under(&out), before);
    assert!(left_beside(&out).is_empty(), "{:?}", left_beside(&out));
}

/// Ctrl-C (SIGINT) while an output is being written: exit 130, the output keeps its previous
/// state, and the staging directory is removed.
#[test]
fn an_interrupted_command_exits_130_and_leaves_the_output_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    big_jsonl(&data, 400_000);
    let out = tmp.path().join("out");
    let before = previous_output(&out);
    let child = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args([
            "export",
            "-q",
            "-i",
            s(&data),
            "-o",
            s(&out),
            "-f",
            "parquet",
            "--overwrite",
        ])
        .args(["-p", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once its staging directory exists: it is writing.
    let start = std::time::Instant::now();
    while left_beside(&out).is_empty() {
        assert!(
            start.elapsed().as_secs() < 60,
            "no staging directory appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(files_under(&out), before);
    assert!(left_beside(&out).is_empty(), "{:?}", left_beside(&out));
}

/// State pick keeps on this machine (the annotation cache, a batch's files) refuses a URL in
/// one line, exit 2, before anything runs.
#[test]
fn local_state_refuses_a_url_in_one_line() {
    for args in [
        &[
            "annotate-dataset",
            "-d",
            "in",
            "-o",
            "out",
            "-T",
            "p",
            "-m",
            "m",
            "--cache-location",
            "s3://b/cache",
        ][..],
        &[
            "batch-annotate-submit",
            "-d",
            "in",
            "-b",
            "s3://b/batches",
            "-T",
            "p",
            "-m",
            "m",
        ][..],
        &[
            "batch-annotate-retrieve",
            "-b",
            "gs://b/batches",
            "-o",
            "out",
        ][..],
    ] {
        let o = pick(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("not a URL"), "{args:?}: {err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{err}"
        );
    }
}

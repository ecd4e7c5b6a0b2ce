//! The data-preparation commands (balance, sample, reshard, label-distribution, import) end to
//! end: bonepick's README command lines with `pick` in place of `uv run bonepick`, properties
//! over generated inputs, determinism across threads and memory limits, and errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::common::*;

/// Every row (as text) of every shard under `dir`, with the shard's path relative to `dir`.
fn rows_by_file(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.to_str().unwrap();
            // Shards only (data-samples also holds fastText models and their files).
            if !(name.ends_with(".jsonl") || name.ends_with(".jsonl.zst")) {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let text = if name.ends_with(".zst") {
                zstd::decode_all(&bytes[..]).unwrap()
            } else {
                bytes
            };
            let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
            let lines = String::from_utf8(text)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect();
            out.insert(rel, lines);
        }
    }
    out
}

fn all_rows(dir: &Path) -> Vec<String> {
    let mut rows: Vec<String> = rows_by_file(dir).into_values().flatten().collect();
    rows.sort();
    rows
}

fn field(row: &str, path: &[&str]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(row).unwrap();
    for p in path {
        v = v[p].take();
    }
    v
}

/// Label counts per split directory of a balanced output.
fn label_counts(dir: &Path, label: &[&str]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (rel, rows) in rows_by_file(dir) {
        let split = rel.split('/').next().unwrap().to_string();
        for r in rows {
            let l = field(&r, label).to_string();
            *counts.entry((split.clone(), l)).or_default() += 1;
        }
    }
    counts
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        n += if p.is_dir() {
            dir_bytes(&p)
        } else {
            p.metadata().unwrap().len()
        };
    }
    n
}

#[test]
fn readme_flow_with_pick_in_place_of_bonepick() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |n: &str| tmp.path().join(n);
    let samples = samples();
    // bonepick README §2: binarize with jq.
    pick_ok(&[
        "transform-dataset",
        "-q",
        "--input-dir",
        s(&samples),
        "--output-dir",
        s(&t("binary")),
        "-l",
        r#"{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}"#,
    ]);
    // §3: balance.
    pick_ok(&[
        "balance-dataset",
        "-q",
        "--input-dir",
        s(&t("binary")),
        "--output-dir",
        s(&t("balanced")),
        "--seed",
        "42",
    ]);
    let counts = label_counts(&t("balanced"), &["score"]);
    // data-samples: train 424 neg, valid 60, test 64 (rarest label of each split).
    let want: BTreeMap<(String, String), usize> = [
        ("test", "neg", 64),
        ("test", "pos", 64),
        ("train", "neg", 424),
        ("train", "pos", 424),
        ("valid", "neg", 60),
        ("valid", "pos", 60),
    ]
    .into_iter()
    .map(|(s, l, n)| ((s.to_string(), format!("\"{l}\"")), n))
    .collect();
    assert_eq!(counts, want);
    // Several inputs.
    pick_ok(&[
        "balance-dataset",
        "-q",
        "-i",
        s(&t("binary")),
        "-i",
        s(&t("balanced")),
        "-o",
        s(&t("combined-balanced")),
        "--seed",
        "42",
    ]);
    let c = label_counts(&t("combined-balanced"), &["score"]);
    assert_eq!(c[&("train".to_string(), "\"neg\"".to_string())], 848);
    assert_eq!(c[&("train".to_string(), "\"pos\"".to_string())], 848);

    // §3a: sample by rate and by size.
    pick_ok(&[
        "sample-dataset",
        "-q",
        "-i",
        s(&t("binary")),
        "-o",
        s(&t("sample")),
        "--sampling-rate",
        "0.1",
    ]);
    let n = all_rows(&t("sample")).len();
    assert!((150..=260).contains(&n), "{n} rows for 10% of 2006");
    pick_ok(&[
        "sample-dataset",
        "-q",
        "-i",
        s(&t("binary")),
        "-o",
        s(&t("sample-size")),
        "--target-size",
        "500KB",
    ]);
    let got = dir_bytes(&t("sample-size")) as f64;
    assert!(
        (got / 512_000.0 - 1.0).abs() < 0.05,
        "{got} bytes for 500KB"
    );

    // §3b: reshard with -d, as the README writes it, into train/valid/test.
    pick_ok(&[
        "reshard-dataset",
        "-q",
        "-d",
        s(&t("balanced")),
        "-o",
        s(&t("split-dataset")),
        "-n",
        "10",
        "--test-split-frac",
        "0.1",
        "--valid-split-frac",
        "0.05",
    ]);
    let files = rows_by_file(&t("split-dataset"));
    assert_eq!(files.len(), 10);
    let per_split = |name: &str| -> usize {
        files
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{name}/")))
            .map(|(_, v)| v.len())
            .sum()
    };
    // 1096 rows: test round(109.6) = 110, valid round(54.8) = 55.
    assert_eq!(
        (per_split("train"), per_split("valid"), per_split("test")),
        (931, 55, 110)
    );
    assert_eq!(all_rows(&t("split-dataset")), all_rows(&t("balanced")));
}

#[test]
fn balance_keeps_fields_and_reads_two_letter_shorts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = pick(&[
        "balance-dataset",
        "-i",
        s(&samples()),
        "-o",
        s(&out),
        "-tt",
        ".text",
        "-ll",
        ".source.kind",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = all_rows(&out);
    // Every field is kept (bonepick B22); the label is written under "score".
    let first: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "text", "source", "metadata", "score"]);
    assert_eq!(first["score"], first["source"]["kind"]);
    // Numbers stay numbers.
    let out2 = tmp.path().join("out2");
    let o = pick(&[
        "balance-dataset",
        "-i",
        s(&samples()),
        "-o",
        s(&out2),
        "-l",
        "kind",
        "-ll",
        ".ignored",
    ]);
    // The deprecated -l F names the field `.F` and wins over -ll, with bonepick's warning.
    assert!(
        stderr(&o).contains("WARNING: -l/--label-field is deprecated"),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(1), "no row has a top-level `kind`");
    assert!(stderr(&o).contains("no label (`.kind`)"), "{}", stderr(&o));
    assert!(!out2.join("train").exists());
}

#[test]
fn balance_errors_name_file_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    write_file(
        &data.join("train/a.jsonl"),
        b"{\"text\":\"a\",\"score\":1}\n{\"text\":\"b\",\"score\":0}\n{\"text\":\"c\"}\n{\"text\":\"d\",\"score\":1}\n",
    );
    let out = tmp.path().join("o");
    let o = pick(&["balance-dataset", "-i", s(&data), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("train/a.jsonl: row 3: no label (`.score`)"),
        "{}",
        stderr(&o)
    );
    let o = pick(&[
        "balance-dataset",
        "-i",
        s(&data),
        "-o",
        s(&out),
        "--skip-bad-rows",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped 1 bad row"), "{}", stderr(&o));
    assert_eq!(all_rows(&out).len(), 2);
    let o = pick(&[
        "balance-dataset",
        "-i",
        s(&data),
        "-o",
        s(&out),
        "-ll",
        ".score |",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--label-expression"), "{}", stderr(&o));
}

/// A dataset of `files` shards with labels drawn from `labels`, some shards zstd-compressed
/// and some ending without a newline.
fn generated(dir: &Path, rows: &[(u8, usize)], files: usize, splits: bool) -> PathBuf {
    let mut shards: Vec<Vec<String>> = vec![Vec::new(); files];
    for (i, (label, len)) in rows.iter().enumerate() {
        let text = "x".repeat(*len);
        shards[i % files].push(format!(
            "{{\"id\":{i},\"text\":\"{text} é\",\"score\":{label}}}"
        ));
    }
    for (f, lines) in shards.iter().enumerate() {
        let split = ["train", "valid", "test"][f % 3];
        let name = if splits {
            format!("{split}/part-{f}.jsonl")
        } else {
            format!("part-{f}.jsonl")
        };
        let mut body = lines.join("\n");
        if f % 2 == 0 && !body.is_empty() {
            body.push('\n'); // odd files end without one (bonepick B19)
        }
        if f % 3 == 1 {
            write_file(
                &dir.join(format!("{name}.zst")),
                &zstd_bytes(body.as_bytes()),
            );
        } else {
            write_file(&dir.join(name), body.as_bytes());
        }
    }
    dir.to_path_buf()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn reshard_keeps_every_row_and_the_split_sizes(
        rows in prop::collection::vec((0u8..3, 0usize..40), 1..120),
        files in 1usize..5,
        num_files in 1u64..7,
        test in prop::option::of(0u64..10),
        valid in prop::option::of(0.0f64..0.3),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let data = generated(&tmp.path().join("d"), &rows, files, false);
        let out = tmp.path().join("o");
        let mut args = vec!["reshard-dataset".to_string(), "-q".into(), "-i".into(), s(&data).into(),
            "-o".into(), s(&out).into(), "-n".into(), num_files.to_string()];
        if let Some(t) = test { args.extend(["-t".into(), t.to_string()]); }
        if let Some(v) = valid { args.extend(["-v".into(), format!("{v:.3}")]); }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = pick(&argv);
        let n = rows.len() as u64;
        let t = test.unwrap_or(0);
        let v = valid.map_or(0, |v| ((n as f64) * format!("{v:.3}").parse::<f64>().unwrap()).round_ties_even() as u64);
        if !o.status.success() {
            // Only impossible requests may fail, and they say why.
            prop_assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            prop_assert!(t + v > n || stderr(&o).contains("not enough files"), "{}", stderr(&o));
            return Ok(());
        }
        let mut want: Vec<String> = rows.iter().enumerate().map(|(i, (l, len))|
            format!("{{\"id\":{i},\"text\":\"{} é\",\"score\":{l}}}", "x".repeat(*len))).collect();
        want.sort();
        prop_assert_eq!(all_rows(&out), want);
        let by_file = rows_by_file(&out);
        prop_assert!(by_file.values().all(|r| !r.is_empty()), "no empty shard (B6)");
        prop_assert!(by_file.len() as u64 <= num_files);
        let count = |p: &str| by_file.iter().filter(|(k, _)| k.starts_with(p)).map(|(_, r)| r.len() as u64).sum::<u64>();
        if t + v > 0 {
            prop_assert_eq!(count("test/"), t);
            prop_assert_eq!(count("valid/"), v);
            prop_assert_eq!(count("train/"), n - t - v);
        }
    }

    #[test]
    fn balance_gives_equal_labels_in_every_split(
        rows in prop::collection::vec((0u8..3, 0usize..20), 3..150),
        files in 3usize..7,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let data = generated(&tmp.path().join("d"), &rows, files, true);
        let out = tmp.path().join("o");
        pick_ok(&["balance-dataset", "-q", "-i", s(&data), "-o", s(&out), "-s", "7"]);
        let mut per_split: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for ((split, label), n) in label_counts(&out, &["score"]) {
            per_split.entry(split).or_default().insert(label, n);
        }
        for (split, labels) in &per_split {
            let counts: Vec<usize> = labels.values().copied().collect();
            prop_assert!(counts.windows(2).all(|w| w[0] == w[1]), "{split}: {labels:?}");
        }
        // Labels are kept as numbers (bonepick B22 stringified them).
        for r in all_rows(&out) {
            prop_assert!(field(&r, &["score"]).is_number());
        }
    }
}

#[test]
fn same_seed_same_bytes_whatever_threads_or_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: Vec<(u8, usize)> = (0..3000).map(|i| ((i % 3) as u8, i % 700)).collect();
    let data = generated(&tmp.path().join("d"), &rows, 5, true);
    let run = |name: &str, extra: &[&str]| -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for (cmd, args) in [
            ("reshard-dataset", vec!["-n", "4", "-t", "0.1"]),
            ("balance-dataset", vec![]),
            ("sample-dataset", vec!["-r", "0.3"]),
        ] {
            let dest = tmp.path().join(format!("{name}-{cmd}"));
            let mut argv = extra.to_vec();
            argv.extend([cmd, "-q", "-i", s(&data), "-o", s(&dest)]);
            argv.extend(args);
            pick_ok(&argv);
            for (k, v) in rows_by_file(&dest) {
                out.insert(format!("{cmd}/{k}"), v);
            }
        }
        out
    };
    let one = run("p1", &["--memory-limit", "4G"]);
    let small = run("small", &["--memory-limit", "8MB"]);
    assert_eq!(one, small);
    let mut threads = BTreeMap::new();
    for (cmd, args) in [
        ("reshard-dataset", vec!["-n", "4", "-t", "0.1", "-p", "1"]),
        ("balance-dataset", vec!["-p", "1"]),
        ("sample-dataset", vec!["-r", "0.3", "-p", "3"]),
    ] {
        let dest = tmp.path().join(format!("threads-{cmd}"));
        let mut argv = vec![cmd, "-q", "-i", s(&data), "-o", s(&dest)];
        argv.extend(args);
        pick_ok(&argv);
        for (k, v) in rows_by_file(&dest) {
            threads.insert(format!("{cmd}/{k}"), v);
        }
    }
    assert_eq!(one, threads);
}

#[test]
fn reshard_golden_on_data_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    pick_ok(&[
        "reshard-dataset",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&out),
        "-n",
        "3",
    ]);
    let files = rows_by_file(&out);
    let names: Vec<&String> = files.keys().collect();
    assert_eq!(
        names,
        [
            "shard_0.jsonl.zst",
            "shard_1.jsonl.zst",
            "shard_2.jsonl.zst"
        ]
    );
    let sizes: Vec<usize> = files.values().map(Vec::len).collect();
    assert_eq!(sizes, [833, 834, 833]);
    // The seed-42 order is part of the contract: the same ids lead every run.
    let first: Vec<String> = files["shard_0.jsonl.zst"][..3]
        .iter()
        .map(|r| field(r, &["id"]).as_str().unwrap().to_string())
        .collect();
    let again = tmp.path().join("again");
    pick_ok(&[
        "reshard-dataset",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&again),
        "-n",
        "3",
    ]);
    assert_eq!(
        first,
        [
            "petgraph-0.8.3/src/algo/dominators.rs",
            "object_store-0.13.2/src/client/http/connection.rs",
            "cc-1.11.3/src/target/generated.rs"
        ]
    );
    assert_eq!(rows_by_file(&again), files);
    // One file without splits works (bonepick: "Not enough files" and two empty shards).
    let one = tmp.path().join("one");
    pick_ok(&[
        "reshard-dataset",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&one),
        "-n",
        "1",
    ]);
    assert_eq!(rows_by_file(&one).len(), 1);
    // A test split alone makes no valid/ directory.
    let t = tmp.path().join("t");
    pick_ok(&[
        "reshard-dataset",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&t),
        "-n",
        "4",
        "-t",
        "1.0",
    ]);
    assert!(!t.join("valid").exists());
    assert!(!t.join("train").exists(), "-t 1.0 is every row");
    assert_eq!(rows_by_file(&t).values().map(Vec::len).sum::<usize>(), 2500);
}

#[test]
fn sample_lands_near_the_target_size() {
    let tmp = tempfile::tempdir().unwrap();
    // Uncompressed copy of data-samples.
    let plain = tmp.path().join("plain");
    for (rel, rows) in rows_by_file(&samples()) {
        let rel = rel.trim_end_matches(".zst");
        write_file(&plain.join(rel), (rows.join("\n") + "\n").as_bytes());
    }
    // data-samples is zstd -19; pick writes level 3, so the first draw overshoots.
    for (input, target, bytes) in [
        (samples(), "1MB", 1 << 20),
        (samples(), "300KB", 300 << 10),
        (plain.clone(), "4MB", 4 << 20),
        (plain.clone(), "500KB", 500 << 10),
    ] {
        let out = tmp.path().join(format!("o-{target}-{}", input == plain));
        pick_ok(&[
            "sample-dataset",
            "-q",
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-t",
            target,
        ]);
        let got = dir_bytes(&out) as f64;
        assert!(
            (got / bytes as f64 - 1.0).abs() < 0.05,
            "{target} from {}: {got} bytes",
            input.display()
        );
    }
    let o = pick(&[
        "sample-dataset",
        "-i",
        s(&samples()),
        "-o",
        "x",
        "-r",
        "0.1",
        "-t",
        "1MB",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used together"));
    let o = pick(&[
        "sample-dataset",
        "-i",
        s(&samples()),
        "-o",
        "x",
        "-r",
        "1.5",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn label_distribution_matches_bonepick() {
    // Figures from bonepick 0.5.0 on data-samples (label-distribution -t value, -k .id).
    let out = pick_ok(&[
        "label-distribution",
        "-d",
        s(&samples()),
        "-l",
        ".metadata.code_quality.score / 2",
        "-t",
        "value",
        "-k",
        ".id",
    ]);
    for want in [
        "Loaded 2,500 samples",
        "Mean      ┆ 1.6836",
        "Std Dev   ┆ 0.4935",
        "Median    ┆ 1.5000",
        "P90       ┆ 2.5000",
        "[0.90, 1.10)  528 (21.1%)       21.9%",
        "[2.30, 2.50)  339 (13.6%)      100.0%",
        "Mean Length   ┆  40.4",
        "P99           ┆    72",
        "[55, 101)  257 (10.3%)      100.0%",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let out = pick_ok(&[
        "label-distribution",
        "-d",
        s(&samples()),
        "-l",
        ".metadata.code_quality.score * 1.0",
    ]);
    // Integral floats are ordinals (bonepick B23 crashed on "3.0").
    assert!(out.contains("    3  805 (32.2%)       54.1%"), "{out}");
    let o = pick(&[
        "label-distribution",
        "-d",
        s(&samples()),
        "-l",
        ".source.kind",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the label `code` (2416 rows) is not an integer"));
    // A row without the label is named by file and row.
    let tmp = tempfile::tempdir().unwrap();
    write_file(&tmp.path().join("a.jsonl"), b"{\"s\":1}\n{\"t\":2}\n");
    let o = pick(&["label-distribution", "-d", s(tmp.path()), "-l", ".s"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a.jsonl: row 2: no label"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_reads_a_local_hub_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let parquet = tmp.path().join("pq");
    pick_ok(&[
        "export",
        "-q",
        "-i",
        s(&samples().join("train")),
        "-o",
        s(&parquet),
    ]);
    let ds = tmp.path().join("ds");
    std::fs::create_dir_all(ds.join("data")).unwrap();
    for (i, e) in std::fs::read_dir(&parquet).unwrap().enumerate() {
        std::fs::rename(
            e.unwrap().path(),
            ds.join(format!("data/train-{i:05}-of-00004.parquet")),
        )
        .unwrap();
    }
    let out = tmp.path().join("out");
    let o = pick(&["import-hf-dataset", "-n", s(&ds), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no test split"), "{}", stderr(&o));
    pick_ok(&[
        "import-hf-dataset",
        "-q",
        "-n",
        s(&ds),
        "-o",
        s(&out),
        "--test-split",
        "0.1",
        "-b",
        "500",
    ]);
    let files = rows_by_file(&out);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "test/shard_0.jsonl.zst",
            "train/shard_0.jsonl.zst",
            "train/shard_1000.jsonl.zst",
            "train/shard_1500.jsonl.zst",
            "train/shard_500.jsonl.zst"
        ]
    );
    assert_eq!(files["test/shard_0.jsonl.zst"].len(), 201);
    let mut ids: Vec<String> = files
        .values()
        .flatten()
        .map(|r| field(r, &["id"]).as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2006);
    let o = pick(&["import-hf-dataset", "-n", "org/not-here", "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not download"));
}

#[test]
fn import_reads_a_datasets_cache_of_arrow_files() {
    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    let tmp = tempfile::tempdir().unwrap();
    // A `datasets` cache: Arrow IPC streams (train, two shards) and an IPC file (test).
    let dir = tmp.path().join("cache/org___ds/default/0.0.0/abc123");
    std::fs::create_dir_all(&dir).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("score", DataType::Int64, false),
    ]));
    let batch = |from: i64, n: i64| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from_iter_values(
                    (from..from + n).map(|i| format!("doc {i} é")),
                )),
                Arc::new(Int64Array::from_iter_values(
                    (from..from + n).map(|i| i % 3),
                )),
            ],
        )
        .unwrap()
    };
    for (k, from) in [(0, 0), (1, 70)] {
        let f =
            std::fs::File::create(dir.join(format!("ds-train-0000{k}-of-00002.arrow"))).unwrap();
        let mut w = arrow::ipc::writer::StreamWriter::try_new(f, &schema).unwrap();
        w.write(&batch(from, 70)).unwrap();
        w.finish().unwrap();
    }
    let f = std::fs::File::create(dir.join("ds-test.arrow")).unwrap();
    let mut w = arrow::ipc::writer::FileWriter::try_new(f, &schema).unwrap();
    w.write(&batch(1000, 20)).unwrap();
    w.finish().unwrap();

    let out = tmp.path().join("out");
    pick_ok(&[
        "import-hf-dataset",
        "-q",
        "-n",
        s(&dir),
        "-o",
        s(&out),
        "-b",
        "100",
    ]);
    let files = rows_by_file(&out);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "test/shard_0.jsonl.zst",
            "train/shard_0.jsonl.zst",
            "train/shard_100.jsonl.zst"
        ]
    );
    assert_eq!(files["train/shard_100.jsonl.zst"].len(), 40);
    let test: Vec<i64> = files["test/shard_0.jsonl.zst"]
        .iter()
        .map(|r| field(r, &["text"]).as_str().unwrap()[4..8].parse().unwrap())
        .collect();
    assert_eq!(test.len(), 20);
    assert!(test.iter().all(|i| (1000..1020).contains(i)));
    // The cache is a dataset for SQL too.
    let n = pick_ok(&[
        "sql",
        "-f",
        "csv",
        &format!("SELECT count(*) AS n, sum(score) AS s FROM '{}'", s(&dir)),
    ]);
    assert_eq!(n, "n,s\n160,160\n");
}

/// `--compression-level` trades size for time: the same rows at any level, level 1 bigger than
/// the default 3, 19 smaller; levels zstd's tools do not take are usage errors.
#[test]
fn compression_level_changes_size_not_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let out = |level: &str| {
        let dir = tmp.path().join(format!("level-{level}"));
        pick_ok(&[
            "-q",
            "--compression-level",
            level,
            "reshard-dataset",
            "-i",
            s(&samples().join("train")),
            "-o",
            s(&dir),
            "-n",
            "2",
        ]);
        dir
    };
    let (fast, default, small) = (out("1"), out("3"), out("19"));
    assert_eq!(all_rows(&fast), all_rows(&default));
    assert_eq!(all_rows(&small), all_rows(&default));
    assert!(dir_bytes(&fast) > dir_bytes(&default), "level 1 vs 3");
    assert!(dir_bytes(&small) < dir_bytes(&default), "level 19 vs 3");
    for bad in ["0", "20", "x"] {
        let o = pick(&["--compression-level", bad, "sql", "SELECT 1"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
}

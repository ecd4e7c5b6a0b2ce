//! convert-to-fasttext against bonepick 0.5.0's own files on data-samples
//! (tests/fixtures/fasttext, made by scripts/fasttext_fixtures.sh), and its fixed bugs.

use std::path::{Path, PathBuf};

use crate::common::*;

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/fasttext").join(name)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// The report with the run's own directories left out.
fn report_without_dirs(p: &Path) -> String {
    read(p)
        .lines()
        .filter(|l| !l.starts_with("input_dir:") && !l.starts_with("output_dir:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ultrafine_files_equal_bonepicks() {
    let tmp = tempfile::tempdir().unwrap();
    let binary = tmp.path().join("binary");
    pick_ok(&[
        "transform-dataset",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&binary),
        "-l",
        r#"{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}"#,
    ]);
    let out = tmp.path().join("ft");
    pick_ok(&[
        "convert-to-fasttext",
        "-q",
        "-i",
        s(&binary),
        "-o",
        s(&out),
        "-n",
        "ultrafine",
        "--max-length",
        "300",
    ]);
    // valid/ and test/ are one shard each, so bonepick's row order is the file order too.
    for f in ["test.txt", "valid.txt"] {
        assert!(
            read(&out.join(f)) == read(&fixture("ultrafine-300").join(f)),
            "{f} differs from bonepick's"
        );
    }
    assert_eq!(read(&out.join("train.txt")).lines().count(), 2006);
    assert_eq!(
        report_without_dirs(&out.join("report.yaml")),
        report_without_dirs(&fixture("ultrafine-300/report.yaml"))
    );
}

#[test]
fn auto_bins_equal_bonepicks() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ft");
    pick_ok(&[
        "convert-to-fasttext",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&out),
        "-ll",
        ".metadata.code_quality.score",
        "--auto",
        "3",
        "--max-length",
        "100",
    ]);
    assert!(read(&out.join("test.txt")) == read(&fixture("auto3-100/test.txt")));
    assert_eq!(
        report_without_dirs(&out.join("report.yaml")),
        report_without_dirs(&fixture("auto3-100/report.yaml"))
    );
}

#[test]
fn one_row_one_line_multi_label_and_low_bins() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    write_file(
        &data.join("train/a.jsonl"),
        "{\"text\":\"line one\\nline two\\r\\n__label__sneaky x\",\"score\":1,\"c\":{\"Good Code\":true,\"a\":1,\"z\":0}}\n\
         {\"text\":\"\",\"score\":5,\"c\":{\"a\":false}}\n\
         {\"text\":\"b\",\"score\":3,\"c\":{\"b\":\"yes\"}}\n"
            .as_bytes(),
    );
    write_file(
        &data.join("test/a.jsonl"),
        b"{\"text\":\"low\",\"score\":-4,\"c\":{}}\n",
    );
    // plsfix keeps newlines (and makes \r\n one); bonepick wrote them into the file (B8).
    let out = tmp.path().join("plain");
    pick_ok(&[
        "convert-to-fasttext",
        "-q",
        "-i",
        s(&data),
        "-o",
        s(&out),
        "-n",
        "plsfix",
    ]);
    assert_eq!(
        read(&out.join("train.txt")),
        "__label__1 line one line two sneaky x\n__label__5 \n__label__3 b\n"
    );
    assert!(!out.join("valid.txt").exists());
    let multi = tmp.path().join("multi");
    pick_ok(&[
        "convert-to-fasttext",
        "-q",
        "-i",
        s(&data),
        "-o",
        s(&multi),
        "-ll",
        ".c",
        "--multi-label",
    ]);
    // Criteria that hold, by their original names ("Good Code" < "a"); rows with none dropped.
    assert_eq!(
        read(&multi.join("train.txt")),
        "__label__good_code __label__a line one line two sneaky x\n__label__b b\n"
    );
    let auto = tmp.path().join("auto");
    pick_ok(&[
        "convert-to-fasttext",
        "-q",
        "-i",
        s(&data),
        "-o",
        s(&auto),
        "--auto",
        "2",
    ]);
    // -4 is below every training value: the first bin (bonepick B9: the last).
    assert_eq!(read(&auto.join("test.txt")), "__label__bin_0 low\n");
    let o = pick(&[
        "convert-to-fasttext",
        "-i",
        s(&data),
        "-o",
        s(&auto),
        "--auto",
        "9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = pick(&[
        "convert-to-fasttext",
        "-i",
        s(&data.join("train")),
        "-o",
        s(&auto),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no test/ split"), "{}", stderr(&o));
}

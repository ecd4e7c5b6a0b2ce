use std::path::Path;

use crate::common::*;

const PROFILE: &str = "SELECT _split, count(*) AS n, sum(length(text)) AS chars, \
    sum(t.metadata.code_quality.score) AS score, count(DISTINCT t.source.crate) AS crates, \
    min(id) AS first, max(_row) AS last_row FROM t GROUP BY 1 ORDER BY 1";

fn profile(dir: &Path) -> String {
    pick_ok(&["sql", "-d", &format!("t={}", s(dir)), PROFILE, "-f", "csv"])
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    for e in walk(dir) {
        out.push(e.strip_prefix(dir).unwrap().to_string_lossy().to_string());
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn parquet_copy_answers_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("pq");
    pick_ok(&["export", "-q", "-i", s(&samples()), "-o", s(&pq)]);
    assert_eq!(
        files(&pq),
        [
            "test/shard_00.parquet",
            "train/shard_00.parquet",
            "train/shard_01.parquet",
            "train/shard_02.parquet",
            "train/shard_03.parquet",
            "valid/shard_00.parquet"
        ]
    );
    assert_eq!(profile(&samples()), profile(&pq));
}

#[test]
fn jsonl_parquet_jsonl_gives_back_the_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("pq");
    let back = tmp.path().join("back");
    pick_ok(&["export", "-q", "-i", s(&samples()), "-o", s(&pq)]);
    pick_ok(&[
        "export",
        "-q",
        "-i",
        s(&pq),
        "-o",
        s(&back),
        "--format",
        "jsonl.zst",
    ]);
    for rel in ["train/shard_02.jsonl.zst", "test/shard_00.jsonl.zst"] {
        let a = zstd::decode_all(std::fs::File::open(samples().join(rel)).unwrap()).unwrap();
        let b = zstd::decode_all(std::fs::File::open(back.join(rel)).unwrap()).unwrap();
        // Same rows in the same order; key order and number formatting too, since the
        // samples were written by Python's json.dumps.
        assert_eq!(
            String::from_utf8(a).unwrap(),
            String::from_utf8(b).unwrap(),
            "{rel}"
        );
    }
}

#[test]
fn where_and_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    pick_ok(&[
        "export",
        "-q",
        "-i",
        s(&samples().join("test")),
        "-o",
        s(&out),
        "--format",
        "jsonl",
        "--where",
        "t.metadata.code_quality.score = 5 AND t.source.kind = 'code'",
        "--columns",
        "id,metadata",
    ]);
    let text = std::fs::read_to_string(out.join("shard_00.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    for r in &rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "metadata"]);
        assert_eq!(r["metadata"]["code_quality"]["score"], 5);
    }
    let n = pick_ok(&[
        "sql",
        &format!(
            "SELECT count(*) FROM '{}' t WHERE t.metadata.code_quality.score = 5 AND t.source.kind = 'code'",
            s(&samples().join("test"))
        ),
        "-f",
        "csv",
    ]);
    assert_eq!(n.lines().nth(1).unwrap(), rows.len().to_string());
}

#[test]
fn failed_export_leaves_no_unfinished_file() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(&input.join("a.jsonl"), b"{\"x\": 1}\n{\"x\": 2}\n");
    write_file(&input.join("b.jsonl"), b"{\"x\": 3}\nnot json\n");
    let out = tmp.path().join("out");
    let o = pick(&[
        "export",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "--format",
        "jsonl",
        "--infer-rows",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("b.jsonl:2:"), "{}", stderr(&o));
    let left: Vec<String> = if out.exists() { files(&out) } else { vec![] };
    assert!(left.iter().all(|f| f == "a.jsonl"), "{left:?}");
}

#[test]
fn colliding_output_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(&input.join("a.jsonl"), b"{\"x\": 1}\n");
    write_file(&input.join("a.jsonl.zst"), &zstd_bytes(b"{\"x\": 2}\n"));
    let o = pick(&["export", "-i", s(&input), "-o", s(&tmp.path().join("out"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("would both be written to a.parquet"),
        "{}",
        stderr(&o)
    );
}

use crate::common::*;

fn count(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sql", "-f", "csv"];
    let q = format!("SELECT count(*) AS n, sum(x) AS x FROM '{}'", s(dir));
    args.push(&q);
    args.extend_from_slice(extra);
    pick(&args)
}

#[test]
fn truncated_zstd_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = String::new();
    for i in 0..20_000 {
        rows.push_str(&format!(
            "{{\"x\": {i}, \"pad\": \"{}\"}}\n",
            "y".repeat(i % 50)
        ));
    }
    let z = zstd_bytes(rows.as_bytes());
    write_file(&tmp.path().join("train/a.jsonl.zst"), &z[..z.len() / 2]);
    let o = count(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: train/a.jsonl.zst: "), "{err}");
    assert!(
        err.contains("truncated") || err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn non_object_line_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        &tmp.path().join("a.jsonl"),
        b"{\"x\": 1}\n\n[1, 2]\n{\"x\": 2}\n",
    );
    let o = count(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("error: a.jsonl:3: "), "{err}");
    assert!(err.contains("expected a JSON object"), "{err}");
}

#[test]
fn invalid_utf8_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        &tmp.path().join("a.jsonl"),
        b"{\"x\": 1}\n{\"x\": 2, \"t\": \"\xff\xfe\"}\n",
    );
    let o = count(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: a.jsonl:2: invalid UTF-8"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn skip_bad_rows_counts_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(&tmp.path().join("a.jsonl.gz"), &{
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"{\"x\": 1}\nnope\n{\"x\": 2}\n\"str\"\n{\"x\": 4}\n")
            .unwrap();
        e.finish().unwrap()
    });
    let o = count(tmp.path(), &["--skip-bad-rows"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n,x\n3,7\n");
    assert!(stderr(&o).contains("skipped 2 bad rows"), "{}", stderr(&o));
}

#[test]
fn blank_lines_and_gzip_suffix_and_numbered_names() {
    // bonepick B16: `.gzip` is gzip, `part.00.jsonl` is a shard, blank lines are not rows.
    let tmp = tempfile::tempdir().unwrap();
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"{\"x\": 10}\n").unwrap();
        e.finish().unwrap()
    };
    write_file(&tmp.path().join("a.jsonl.gzip"), &gz);
    write_file(
        &tmp.path().join("part.00.jsonl"),
        b"\n{\"x\": 1}\r\n   \n{\"x\": 2}",
    );
    let o = count(tmp.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n,x\n3,13\n");
}

#[test]
fn type_disagreement_falls_back_to_json_text() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        &tmp.path().join("a.jsonl"),
        b"{\"x\": 1, \"v\": 1}\n{\"x\": 2, \"v\": \"one\"}\n",
    );
    write_file(
        &tmp.path().join("b.jsonl"),
        b"{\"x\": 3, \"v\": {\"k\": [1, 2]}}\n",
    );
    let out = pick_ok(&[
        "sql",
        &format!(
            "SELECT x, v, arrow_typeof(v) AS t FROM '{}' ORDER BY x",
            s(tmp.path())
        ),
        "-f",
        "jsonl",
    ]);
    assert_eq!(
        out,
        "{\"x\":1,\"v\":1,\"t\":\"Utf8\"}\n{\"x\":2,\"v\":\"one\",\"t\":\"Utf8\"}\n{\"x\":3,\"v\":{\"k\": [1, 2]},\"t\":\"Utf8\"}\n"
    );
}

/// Parquet shards whose types disagree (a column an integer in one, a struct in another, a
/// struct with other fields, a column missing) read as the same rows as their JSON: the
/// same fallbacks hold through DataFusion's Parquet reader.
#[test]
fn parquet_shards_that_disagree_read_as_their_json() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("json");
    let shards: [&[u8]; 3] = [
        b"{\"x\":1,\"v\":1,\"s\":{\"a\":1}}\n{\"x\":2,\"v\":5,\"s\":{\"a\":2}}\n",
        b"{\"x\":3,\"v\":{\"k\":[1,2]},\"s\":{\"b\":\"t\"}}\n",
        b"{\"x\":4.5}\n",
    ];
    let pq = tmp.path().join("pq");
    for (i, rows) in shards.iter().enumerate() {
        let one = tmp.path().join(format!("one{i}"));
        write_file(&one.join(format!("s{i}.jsonl")), rows);
        write_file(&json.join(format!("s{i}.jsonl")), rows);
        let out = tmp.path().join(format!("pq{i}"));
        pick_ok(&["export", "-q", "-i", s(&one), "-o", s(&out)]);
        std::fs::create_dir_all(&pq).unwrap();
        std::fs::rename(
            out.join(format!("s{i}.parquet")),
            pq.join(format!("s{i}.parquet")),
        )
        .unwrap();
    }
    let query = |dir: &std::path::Path, sql: &str| {
        pick_ok(&[
            "sql",
            "-f",
            "jsonl",
            &sql.replace("DS", &format!("'{}'", s(dir))),
        ])
    };
    for sql in [
        "SELECT x, v, s, arrow_typeof(v) AS t, _row FROM DS ORDER BY x",
        "SELECT count(*) AS n FROM DS WHERE v = '1' OR s.b = 't'",
    ] {
        let (a, b) = (query(&json, sql), query(&pq, sql));
        assert_eq!(a, b, "{sql}");
    }
    // `_json` of a Parquet row is written from the table's columns: `x` is a float there.
    assert_eq!(
        query(&pq, "SELECT _json FROM DS ORDER BY x"),
        "{\"x\":1.0,\"v\":1,\"s\":{\"a\":1}}\n{\"x\":2.0,\"v\":5,\"s\":{\"a\":2}}\n\
         {\"x\":3.0,\"v\":{\"k\":[1,2]},\"s\":{\"b\":\"t\"}}\n{\"x\":4.5}\n"
    );
}

#[test]
fn rows_beyond_inference_that_do_not_fit_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        &tmp.path().join("a.jsonl"),
        b"{\"x\": 1}\n{\"x\": 2}\n{\"x\": \"three\"}\n",
    );
    let o = count(tmp.path(), &["--infer-rows", "2"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: a.jsonl:3: field `x`: expected an integer, found \"three\""),
        "{err}"
    );
    assert!(err.contains("--infer-rows 0"), "{err}");
    let o = count(tmp.path(), &["--infer-rows", "0"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "x is JSON text now, sum(x) is a type error"
    );
    let o = pick(&[
        "sql",
        "-f",
        "csv",
        &format!("SELECT count(*) AS n FROM '{}'", s(tmp.path())),
        "--infer-rows",
        "0",
    ]);
    assert_eq!(stdout(&o), "n\n3\n");
}

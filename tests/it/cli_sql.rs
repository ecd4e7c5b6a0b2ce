use crate::common::*;

const SPLITS: &str = "SELECT _split, count(*) AS n FROM s GROUP BY 1 ORDER BY 1";

#[test]
fn split_counts_on_data_samples() {
    let dir = samples();
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        SPLITS,
        "--format",
        "csv",
    ]);
    assert_eq!(out, "_split,n\ntest,243\ntrain,2006\nvalid,251\n");
}

#[test]
fn table_output_is_a_terminal_table() {
    let dir = samples();
    let out = pick_ok(&["sql", "-d", &format!("s={}", s(&dir)), SPLITS]);
    assert!(out.contains("│ _split ┆ n    │"), "{out}");
    assert!(out.contains("│ train  ┆ 2006 │"), "{out}");
    assert!(out.trim_end().ends_with("(3 rows)"), "{out}");
}

#[test]
fn path_and_glob_in_from() {
    let dir = samples();
    let glob = format!("{}/train/*.jsonl.zst", s(&dir));
    let out = pick_ok(&[
        "sql",
        &format!("SELECT _split, count(*) AS n FROM '{glob}' GROUP BY 1"),
        "-f",
        "csv",
    ]);
    assert_eq!(out, "_split,n\ntrain,2006\n");
    let out = pick_ok(&[
        "sql",
        &format!("SELECT count(*) AS n FROM '{}/test'", s(&dir)),
        "-f",
        "csv",
    ]);
    assert_eq!(out, "n\n243\n");
}

#[test]
fn nested_fields_and_virtual_columns() {
    let dir = samples();
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "SELECT s.metadata.code_quality.score AS score, count(*) AS n FROM s GROUP BY 1 ORDER BY 1",
        "-f",
        "csv",
    ]);
    assert_eq!(out, "score,n\n1,20\n2,528\n3,805\n4,808\n5,339\n");
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "SELECT _file, min(_row) AS lo, max(_row) AS hi, count(*) AS n FROM s WHERE _split = 'valid' GROUP BY 1",
        "-f",
        "csv",
    ]);
    assert_eq!(out, "_file,lo,hi,n\nvalid/shard_00.jsonl.zst,0,250,251\n");
}

#[test]
fn json_column_is_the_row() {
    let dir = samples();
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "SELECT _json FROM s WHERE _split = 'test' AND _row = 0",
        "-f",
        "jsonl",
    ]);
    // A lone `_json` column is written as the rows themselves.
    let inner: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(inner["text"].as_str().unwrap().len() > 100);
    assert!(inner["metadata"]["code_quality"]["score"].is_i64());
}

#[test]
fn explain_shows_the_scan() {
    let dir = samples();
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "EXPLAIN SELECT count(*) FROM s WHERE _split = 'train'",
    ]);
    assert!(out.contains("file_type=pick"), "{out}");
    assert!(
        out.contains("shards=4"),
        "pruned to the train shards: {out}"
    );
}

#[test]
fn output_files_in_every_format() {
    let dir = samples();
    let tmp = tempfile::tempdir().unwrap();
    let ds = format!("s={}", s(&dir));
    let q = "SELECT id, s.metadata.code_quality.score AS score FROM s ORDER BY id LIMIT 3";
    for ext in ["csv", "json", "jsonl", "jsonl.zst", "parquet"] {
        let path = tmp.path().join(format!("out.{ext}"));
        pick_ok(&["sql", "-q", "-d", &ds, q, "-o", s(&path)]);
        assert!(path.exists(), "{ext}");
    }
    let back = pick_ok(&[
        "sql",
        &format!("SELECT * FROM '{}'", s(&tmp.path().join("out.parquet"))),
        "-f",
        "jsonl",
    ]);
    let jsonl = std::fs::read_to_string(tmp.path().join("out.jsonl")).unwrap();
    assert_eq!(back, jsonl);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("out.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
}

#[test]
fn several_statements_run_in_order() {
    let dir = samples();
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "CREATE VIEW v AS SELECT * FROM s WHERE _split = 'test'; SELECT count(*) AS n FROM v",
        "-f",
        "csv",
    ]);
    assert_eq!(out, "n\n243\n");
}

#[test]
fn seeded_random_is_registered_and_stable() {
    let dir = samples();
    let q = "SELECT id FROM s ORDER BY seeded_random(42, id) LIMIT 5";
    let a = pick_ok(&["sql", "-d", &format!("s={}", s(&dir)), q, "-f", "csv"]);
    let b = pick_ok(&["sql", "-d", &format!("s={}", s(&dir)), q, "-f", "csv"]);
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 6);
}

#[test]
fn bad_sql_is_a_runtime_error_with_datafusion_message() {
    let dir = samples();
    let o = pick(&["sql", "-d", &format!("s={}", s(&dir)), "SELEC nope FROM s"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("SELEC"), "{}", stderr(&o));
    let o = pick(&[
        "sql",
        "-d",
        &format!("s={}", s(&dir)),
        "SELECT no_such_column FROM s",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no_such_column"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let o = pick(&["sql", "-d", "nonamegiven", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("NAME=DIR"), "{}", stderr(&o));
    let o = pick(&["sql", "SELECT 1", "--format", "parquet"]);
    assert_eq!(o.status.code(), Some(2));
    let o = pick(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_dataset_directory() {
    let o = pick(&["sql", "-d", "s=/no/such/dir", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "error: dataset /no/such/dir: no such file or directory"
    );
}

#[test]
fn a_closed_pipe_is_not_a_failure() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    for format in ["table", "jsonl"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pick"))
            .args([
                "sql",
                "-d",
                &format!("s={}", s(&samples())),
                "SELECT text FROM s",
                "--max-rows",
                "3000",
                "-f",
                format,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{format}: {}",
            stderr(&out)
        );
    }
}

/// What the scan skips shows in `EXPLAIN ANALYZE`: a `_split` filter opens only that split's
/// shards, and a filter on a Parquet column with statistics skips row groups (DataFusion's
/// Parquet reader counts them: `row_groups_pruned_statistics=4 total → 2 matched`).
#[test]
fn explain_analyze_counts_what_the_scan_skips() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = |sql: &str| crate::common::pick_ok(&["sql", sql]);
    let line_of = |out: &str, node: &str| -> String {
        out.lines()
            .find(|l| l.contains(node))
            .unwrap_or_else(|| panic!("no {node} in {out}"))
            .to_string()
    };
    let count = |line: &str, name: &str| -> u64 {
        let at = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        line[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let samples = crate::common::samples();
    let q = format!(
        "EXPLAIN ANALYZE SELECT count(*) FROM '{}' WHERE _split = 'test'",
        crate::common::s(&samples)
    );
    // data-samples has 6 shards, one of them under test/.
    assert_eq!(
        count(&line_of(&plan(&q), "file_type=pick"), "shards_opened"),
        1
    );

    // 200,000 rows in order: Parquet row groups of 65,536 rows, the first two wholly below.
    let rows: String = (0..200_000).map(|n| format!("{{\"n\":{n}}}\n")).collect();
    crate::common::write_file(&tmp.path().join("json/a.jsonl"), rows.as_bytes());
    let pq = tmp.path().join("pq");
    crate::common::pick_ok(&[
        "export",
        "-q",
        "-i",
        crate::common::s(&tmp.path().join("json")),
        "-o",
        crate::common::s(&pq),
    ]);
    // (shards opened, row groups in all, row groups read)
    let row_groups = |w: &str| {
        let out = plan(&format!(
            "EXPLAIN ANALYZE SELECT count(*) FROM '{}' WHERE {w}",
            crate::common::s(&pq)
        ));
        let reader = line_of(&out, "file_type=pick");
        let at = reader
            .find("row_groups_pruned_statistics=")
            .unwrap_or_else(|| panic!("no row group counts in {reader}"));
        let counts = &reader[at + "row_groups_pruned_statistics=".len()..];
        let numbers: Vec<u64> = counts
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .take(2)
            .map(|t| t.parse().unwrap())
            .collect();
        (
            count(&line_of(&out, "file_type=pick"), "shards_opened"),
            numbers[0],
            numbers[1],
        )
    };
    assert_eq!(row_groups("n >= 150000"), (1, 4, 2));
    assert_eq!(row_groups("n < 0"), (1, 4, 0));
    assert_eq!(row_groups("n % 2 = 0"), (1, 4, 4));
    let count = crate::common::pick_ok(&[
        "sql",
        "--format",
        "csv",
        &format!(
            "SELECT count(*) AS c FROM '{}' WHERE n >= 150000",
            crate::common::s(&pq)
        ),
    ]);
    assert!(count.contains("50000"), "{count}");
}

/// A big uncompressed shard is cut into byte ranges read by different partitions: every row is
/// read once, a bad row's error names its line in the whole file, and `_row` (which a range
/// cannot number) still counts from the file's start.
#[test]
fn a_big_plain_shard_is_split_on_line_boundaries() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = 700_000u64;
    let pad = "x".repeat(80);
    let mut text: String = (0..rows)
        .map(|n| format!("{{\"n\":{n},\"t\":\"{pad}\"}}\n"))
        .collect();
    let path = tmp.path().join("big.jsonl");
    write_file(&path, text.as_bytes());
    assert!(
        text.len() > 64 << 20,
        "bigger than two of the smallest ranges"
    );
    let table = s(&path);

    let plan = pick_ok(&["sql", &format!("EXPLAIN SELECT sum(n) FROM '{table}'")]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores > 1 {
        assert!(!plan.contains("partitions=1,"), "{plan}");
    }
    let got = pick_ok(&[
        "sql",
        "--format",
        "csv",
        &format!("SELECT count(*), sum(n), count(DISTINCT n), max(_row) FROM '{table}'"),
    ]);
    let sum = rows * (rows - 1) / 2;
    assert_eq!(
        got.lines().nth(1),
        Some(format!("{rows},{sum},{rows},{}", rows - 1).as_str()),
        "{got}"
    );

    // A bad row far into the file, in the last range.
    let at = text.len() - 100 * 1000;
    let line_start = text[..at].rfind('\n').unwrap() + 1;
    let line_no = text[..line_start].matches('\n').count() + 1;
    text.replace_range(line_start..line_start + 1, "[");
    write_file(&path, text.as_bytes());
    let o = pick(&["sql", &format!("SELECT sum(n) FROM '{table}'")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("big.jsonl:{line_no}:")),
        "line {line_no}: {}",
        stderr(&o)
    );
}

/// A dataset's inferred schema is kept, keyed by its shards' names, sizes and modification
/// times: opening it again reads no shard before the query, and a changed shard is inferred
/// anew.
#[test]
fn inferred_schemas_are_kept_until_a_shard_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let shard = tmp.path().join("d/a.jsonl");
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let write = |text: &str, modified: std::time::SystemTime| {
        write_file(&shard, text.as_bytes());
        let f = std::fs::File::options().write(true).open(&shard).unwrap();
        f.set_modified(modified).unwrap();
    };
    let query = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pick"))
            .args(["sql", "--format", "csv"])
            .arg(format!("SELECT * FROM '{}'", s(&tmp.path().join("d"))))
            .env("PICK_CACHE_DIR", &cache)
            .output()
            .unwrap()
    };
    let columns = || {
        let o = query();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).lines().next().unwrap_or_default().to_string()
    };
    write("{\"a\":1}\n", an_hour_ago);
    assert_eq!(columns(), "a");
    let kept = std::fs::read_dir(cache.join("schemas")).unwrap().count();
    assert_eq!(kept, 1);
    // Same name, size and time: the kept schema is the one used (the shard is not read for
    // it), and the scan finds the row it does not fit.
    write("{\"b\":1}\n", an_hour_ago);
    let o = query();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a.jsonl:1: the row has a field `b` the schema does not know"),
        "{}",
        stderr(&o)
    );
    // A new modification time is a new shard.
    write(
        "{\"b\":1}\n",
        an_hour_ago + std::time::Duration::from_secs(60),
    );
    assert_eq!(columns(), "b");
    // Just written: not kept, since it may change again within the clock's tick.
    write("{\"c\":1}\n", std::time::SystemTime::now());
    assert_eq!(columns(), "c");
    assert_eq!(std::fs::read_dir(cache.join("schemas")).unwrap().count(), 2);
}

/// A query that filters every mention of a dataset on `_split` (or `_file`) literals opens
/// only those shards, schema inference included: an unreadable train shard does not stop a
/// query of the test split, whether the dataset is named with `-d` or by path.
#[test]
fn a_split_query_infers_from_that_split_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    write_file(&dir.join("train/a.jsonl"), b"not json\n");
    write_file(&dir.join("test/a.jsonl"), b"{\"x\":1}\n{\"x\":2}\n");
    let run = |args: &[&str]| {
        let o = crate::common::pick(args);
        (o.status.code(), stdout(&o), stderr(&o))
    };
    let named = format!("d={}", s(&dir));
    let by_name = "SELECT sum(x) AS n FROM d WHERE _split = 'test'";
    assert_eq!(
        run(&["sql", "-f", "csv", "-d", &named, by_name]).1,
        "n\n3\n"
    );
    let by_path = format!(
        "SELECT sum(x) AS n FROM '{}' WHERE 'test' = _split AND x > 0",
        s(&dir)
    );
    assert_eq!(run(&["sql", "-f", "csv", &by_path]).1, "n\n3\n");
    let by_file = format!(
        "SELECT count(*) AS n FROM '{}' WHERE _file IN ('test/a.jsonl')",
        s(&dir)
    );
    assert_eq!(run(&["sql", "-f", "csv", &by_file]).1, "n\n2\n");
    // Unfiltered, the train shard is read and its line reported.
    let (code, _, err) = run(&["sql", "-d", &named, "SELECT count(*) FROM d"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("train/a.jsonl:1"), "{err}");
    // A split with no shards plans and gives no rows.
    assert_eq!(
        run(&[
            "sql",
            "-f",
            "csv",
            "-d",
            &named,
            "SELECT count(*) AS n FROM d WHERE _split = 'none'"
        ])
        .0,
        Some(1),
        "no shard kept: inferred from all, and the bad train shard is reported"
    );
}

/// One 12 MB shard is three 4 MB chunks: the scan deals them to the partitions and the
/// merge on `_row` puts them back in file order, with a filter between and with a limit.
#[test]
fn row_order_over_one_big_shard_is_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let text = "x".repeat(3000);
    let rows: String = (0..4000)
        .map(|n| format!("{{\"n\":{n},\"text\":\"{text}\"}}\n"))
        .collect();
    write_file(&path, rows.as_bytes());
    let sql = |q: &str| {
        let q = format!("SET datafusion.execution.target_partitions = 3; {q}");
        pick_ok(&["sql", "-f", "csv", &q])
    };
    let q = format!("FROM '{}'", s(&path));

    let plan = sql(&format!(
        "EXPLAIN SELECT n, upper(text) AS t {q} WHERE n % 7 <> 3 ORDER BY _row"
    ));
    assert!(plan.contains("RowMergeExec"), "{plan}");
    assert!(plan.contains("file_groups={3 groups"), "{plan}");
    assert!(plan.contains("(dealt)"), "{plan}");

    let out = sql(&format!(
        "SELECT n, length(upper(text)) AS l {q} WHERE n % 7 <> 3 ORDER BY _row"
    ));
    let want: String = (0..4000)
        .filter(|n| n % 7 != 3)
        .map(|n| format!("{n},3000\n"))
        .collect();
    assert_eq!(out, format!("n,l\n{want}"));

    let out = sql(&format!(
        "SELECT n, upper(text) = text AS same {q} ORDER BY _row LIMIT 3 OFFSET 2000"
    ));
    assert_eq!(out, "n,same\n2000,false\n2001,false\n2002,false\n");
}

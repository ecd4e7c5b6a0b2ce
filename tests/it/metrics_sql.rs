use crate::common::*;

/// The worklog's binary agreement example: 2,000 keyed rows per annotator built to the
/// confusion matrix [[608, 347], [109, 936]] (rows: annotator A, columns: B).
pub(crate) fn worklog_runs(dir: &std::path::Path) {
    let (mut a, mut b) = (String::new(), String::new());
    let cells = [
        ("neg", "neg", 608),
        ("neg", "pos", 347),
        ("pos", "neg", 109),
        ("pos", "pos", 936),
    ];
    let mut key = 0;
    for (la, lb, n) in cells {
        for _ in 0..n {
            a.push_str(&format!("{{\"id\": \"doc-{key}\", \"label\": \"{la}\"}}\n"));
            // B's shard lists the keys in another order, as a second annotation run would.
            b.insert_str(
                0,
                &format!("{{\"id\": \"doc-{key}\", \"label\": \"{lb}\"}}\n"),
            );
            key += 1;
        }
    }
    write_file(&dir.join("a/annotations.jsonl"), a.as_bytes());
    write_file(
        &dir.join("b/annotations.jsonl.zst"),
        &zstd_bytes(b.as_bytes()),
    );
}

#[test]
fn cohen_kappa_over_two_joined_datasets() {
    let tmp = tempfile::tempdir().unwrap();
    worklog_runs(tmp.path());
    let out = pick_ok(&[
        "sql",
        "-d",
        &format!("a={}", s(&tmp.path().join("a"))),
        "-d",
        &format!("b={}", s(&tmp.path().join("b"))),
        "SELECT count(*) AS n, round(100 * avg(CAST(a.label = b.label AS DOUBLE)), 2) AS agreement, \
         round(cohen_kappa(a.label, b.label), 4) AS kappa FROM a JOIN b USING (id)",
        "-f",
        "csv",
    ]);
    assert_eq!(out, "n,agreement,kappa\n2000,77.2,0.5381\n");
}

#[test]
fn annotation_agreement_reproduces_the_worklog() {
    let tmp = tempfile::tempdir().unwrap();
    worklog_runs(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let out = pick_ok(&[
        "annotation-agreement",
        "-d",
        s(&a),
        "-d",
        s(&b),
        "-l",
        ".label",
        "-k",
        ".id",
    ]);
    assert!(out.contains("Agreement Rate: 77.20%"), "{out}");
    assert!(out.contains("Cohen's Kappa: 0.5381 (Moderate)"), "{out}");
    assert!(
        out.contains("Agreements: 1544  Disagreements: 456"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("│ neg ") && l.ends_with("┆ 608 ┆ 347 │")),
        "confusion row for neg: {out}"
    );
}

#[test]
fn annotation_agreement_reports_every_pair() {
    // bonepick stopped at the first pair without common keys (B13).
    let tmp = tempfile::tempdir().unwrap();
    write_file(
        &tmp.path().join("x/a.jsonl"),
        b"{\"k\": 1, \"score\": 3}\n{\"k\": 2, \"score\": 4}\n",
    );
    write_file(&tmp.path().join("y/a.jsonl"), b"{\"k\": 9, \"score\": 3}\n");
    write_file(
        &tmp.path().join("z/a.jsonl"),
        b"{\"k\": 9, \"score\": 5}\n{\"k\": 1, \"score\": 1.0}\n",
    );
    let dirs: Vec<String> = ["x", "y", "z"]
        .iter()
        .map(|d| s(&tmp.path().join(d)).to_string())
        .collect();
    let out = pick_ok(&[
        "annotation-agreement",
        "-d",
        &dirs[0],
        "-d",
        &dirs[1],
        "-d",
        &dirs[2],
        "-l",
        ".score",
        "-k",
        ".k",
        "--ordinal",
        "--json",
    ]);
    let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reports.as_array().unwrap().len(), 2);
    assert_eq!(reports[0]["coverage"]["common"], 0);
    assert_eq!(reports[1]["coverage"]["common"], 1);
    // Labels read as Python's str(): 3 and 5.
    assert_eq!(
        reports[1]["confusion_matrix"],
        serde_json::json!([[0, 1], [0, 0]])
    );
    assert_eq!(reports[1]["ordinal"]["mae"], 2.0);
}

#[test]
fn annotation_agreement_checks_its_arguments() {
    let cases: [(&[&str], &str); 2] = [
        (
            &["-d", "a", "-d", "b", "-l", ".x |", "-k", ".id"],
            "bad jq expression `.x |`",
        ),
        (
            &[
                "-d", "a", "-d", "b", "-d", "c", "-l", ".x", "-l", ".y", "-k", ".id",
            ],
            "2 label expressions for 3 datasets",
        ),
    ];
    for (args, message) in cases {
        let o = pick(&[&["annotation-agreement"], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
    }
}

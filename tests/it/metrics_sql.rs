use crate::common::*;

/// The worklog's binary agreement example: 2,000 keyed rows per annotator built to the
/// confusion matrix [[608, 347], [109, 936]] (rows: annotator A, columns: B).
#[test]
fn cohen_kappa_over_two_joined_datasets() {
    let tmp = tempfile::tempdir().unwrap();
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
    write_file(&tmp.path().join("a/annotations.jsonl"), a.as_bytes());
    write_file(
        &tmp.path().join("b/annotations.jsonl.zst"),
        &zstd_bytes(b.as_bytes()),
    );
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

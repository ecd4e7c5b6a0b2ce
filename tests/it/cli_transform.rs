//! transform-dataset, end to end.

use crate::common::*;

fn read_all(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("train"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text = String::from_utf8(zstd::decode_all(&std::fs::read(f).unwrap()[..]).unwrap())
                .unwrap();
            text.lines().map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn worklog_binarization() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let samples = samples();
    pick_ok(&[
        "transform-dataset",
        "-q",
        "-i",
        s(&samples),
        "-o",
        s(&out),
        "-l",
        r#"{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}"#,
    ]);
    let rows = read_all(&out);
    assert_eq!(rows.len(), 2006);
    let first: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["text", "score"]
    );
    let neg = rows
        .iter()
        .filter(|r| r.ends_with(r#","score":"neg"}"#))
        .count();
    let want = pick_ok(&[
        "sql",
        "-f",
        "csv",
        "SELECT count(*) AS n FROM 'PATH' WHERE t.metadata.code_quality.score < 3"
            .replace("'PATH'", &format!("'{}' t", s(&samples.join("train"))))
            .as_str(),
    ]);
    assert_eq!(want, format!("n\n{neg}\n"));
}

#[test]
fn bad_expressions_and_non_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(
        &input.join("a.jsonl"),
        b"{\"text\":\"x\",\"score\":1}\n{\"text\":\"y\",\"score\":2}\n",
    );
    let out = tmp.path().join("out");
    let o = pick(&[
        "transform-dataset",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-l",
        "{score: .score",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("{score: .score"), "{}", stderr(&o));

    let o = pick(&[
        "transform-dataset",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-l",
        ".score",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the label transform gave number, not an object"),
        "{}",
        stderr(&o)
    );
    assert!(!out.join("a.jsonl").exists());

    pick_ok(&[
        "transform-dataset",
        "-q",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-t",
        "{t: .text, n: 1.5}",
        "-l",
        "{n: .score}",
    ]);
    assert_eq!(
        std::fs::read_to_string(out.join("a.jsonl")).unwrap(),
        "{\"t\":\"x\",\"n\":1}\n{\"t\":\"y\",\"n\":2}\n"
    );
}

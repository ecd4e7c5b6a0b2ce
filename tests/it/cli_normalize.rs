//! normalize-dataset and count-tokens, end to end.

use crate::common::*;

fn rows() -> String {
    [
        r#"{"id":1,"text":"Hello,   World!\nThis is a TEST.","score":"__label__Pos A","meta":{"k":[1,2]}}"#,
        r#"{"id":2,"text":"“Curly” ＦＵＬＬ\r\n","score":3,"meta":{"k":[]}}"#,
        r#"{"id":3,"text":"","score":true,"meta":{"k":[3]}}"#,
    ]
    .join("\n")
        + "\n"
}

fn read_zst(path: &std::path::Path) -> String {
    String::from_utf8(zstd::decode_all(&std::fs::read(path).unwrap()[..]).unwrap()).unwrap()
}

#[test]
fn normalizes_text_and_label_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(
        &input.join("train/a.jsonl.zst"),
        &zstd_bytes(rows().as_bytes()),
    );
    write_file(&input.join("b.jsonl"), rows().as_bytes());
    let out = tmp.path().join("out");
    pick_ok(&[
        "normalize-dataset",
        "-q",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-n",
        "potion",
    ]);
    let want = [
        r#"{"id":1,"text":"hello, world!·this is a test.","score":"pos_a","meta":{"k":[1,2]}}"#,
        r#"{"id":2,"text":"\"curly\" full·","score":"3","meta":{"k":[]}}"#,
        r#"{"id":3,"text":"","score":"true","meta":{"k":[3]}}"#,
    ]
    .join("\n")
        + "\n";
    assert_eq!(read_zst(&out.join("train/a.jsonl.zst")), want);
    assert_eq!(std::fs::read_to_string(out.join("b.jsonl")).unwrap(), want);
}

#[test]
fn output_is_the_same_on_one_thread_and_many() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, many) = (tmp.path().join("one"), tmp.path().join("many"));
    let samples = samples();
    let input = samples.join("train");
    let common = [
        "normalize-dataset",
        "-q",
        "-i",
        s(&input),
        "-n",
        "ultrafine",
        "-t",
        "text",
        "-l",
        "id",
    ];
    pick_ok(&[&common[..], &["-o", s(&one), "-p", "1"]].concat());
    pick_ok(&[&common[..], &["-o", s(&many), "-p", "3"]].concat());
    for shard in ["shard_00.jsonl.zst", "shard_03.jsonl.zst"] {
        let (a, b) = (read_zst(&one.join(shard)), read_zst(&many.join(shard)));
        assert!(a.lines().count() > 100);
        assert_eq!(a, b, "{shard}");
    }
}

#[test]
fn unknown_normalizer_is_a_usage_error_listing_the_names() {
    let o = pick(&["normalize-dataset", "-i", "x", "-o", "y", "-n", "ultrafast"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("unknown normalizer \"ultrafast\""), "{err}");
    assert!(
        err.contains("ultrafine_commits, hyperfine, hyperfine_code, potion, potion_code"),
        "{err}"
    );
}

#[test]
fn a_row_without_text_is_an_error_naming_file_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(
        &input.join("a.jsonl"),
        b"{\"text\":\"x\",\"score\":1}\n{\"score\":2}\n",
    );
    let out = tmp.path().join("out");
    let o = pick(&["normalize-dataset", "-i", s(&input), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("a.jsonl: row 2: no field \"text\""), "{err}");
    assert!(!out.join("a.jsonl").exists());

    let o = pick(&[
        "normalize-dataset",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-l",
        "label",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("no field \"label\" (set it with -l/--label-field); fields: text, score")
    );
}

#[test]
fn count_tokens_matches_bonepick_on_the_samples() {
    // bonepick 0.5.0 `count-tokens -d data-samples` prints "Total tokens: 3,950,841".
    let out = pick_ok(&["count-tokens", "-q", "-d", s(&samples())]);
    assert!(
        out.contains("Total files processed: 6\nTotal tokens: 3,950,841\n"),
        "{out}"
    );
    let by_jq = pick_ok(&[
        "count-tokens",
        "-q",
        "-d",
        s(&samples()),
        "-i",
        ".text // \"\"",
        "-t",
        "ultrafine",
    ]);
    assert!(by_jq.contains("Total tokens: "), "{by_jq}");
    let o = pick(&[
        "count-tokens",
        "-d",
        s(&samples()),
        "-t",
        "org/some-hub-model",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not download from the Hugging Face hub"));
}

#[test]
fn normalize_and_token_count_in_sql() {
    let out = pick_ok(&[
        "sql",
        "-f",
        "csv",
        "SELECT normalize('Hello,   World!\nThis is a TEST.', 'ultrafine') AS u, \
         normalize('Hello,   World!', 'hyperfine') AS h, token_count('Hello, World!') AS n, \
         token_count('The year 2024', 'ultrafine') AS m",
    ]);
    assert_eq!(
        out,
        "u,h,n,m\n\"hello , world ! \\n this is a test .\",\"hello , Ġworld !\",4,7\n"
    );
}

#[test]
fn lone_surrogates_in_json_read_as_replacement_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    write_file(
        &input.join("a.jsonl"),
        b"{\"text\":\"A\\ud800b \\udc00\\u00e9\",\"score\":1}\n",
    );
    let out = tmp.path().join("out");
    pick_ok(&[
        "normalize-dataset",
        "-q",
        "-i",
        s(&input),
        "-o",
        s(&out),
        "-n",
        "potion",
    ]);
    assert_eq!(
        std::fs::read_to_string(out.join("a.jsonl")).unwrap(),
        "{\"text\":\"a\u{fffd}b \u{fffd}e\",\"score\":\"1\"}\n"
    );
}

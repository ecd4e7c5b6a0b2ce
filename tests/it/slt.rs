//! A small sqllogictest runner: every `tests/slt/*.slt` file runs on a fresh session with
//! data-samples registered as `s`.
//!
//! Records: `statement ok`, `statement error <substring>`, and `query <types> [rowsort]`
//! followed by SQL, `----`, and the expected rows (columns separated by one space, NULL as
//! `NULL`, the empty string as `(empty)`).

use std::path::Path;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use pick::engine::Engine;

fn render(batches: &[arrow::array::RecordBatch]) -> Vec<String> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut rows = vec![];
    for b in batches {
        let fmts: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            rows.push(
                fmts.iter()
                    .map(|f| {
                        let v = f.value(r).to_string();
                        if v.is_empty() {
                            "(empty)".to_string()
                        } else {
                            v
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    rows
}

async fn run_file(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let engine = Engine::new(Default::default(), 0);
    engine
        .register(
            "s",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-samples")
                .to_str()
                .unwrap(),
        )
        .unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((no, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut sql = String::new();
        let mut expected = vec![];
        let mut in_results = false;
        while let Some((_, l)) = lines.peek() {
            if l.trim().is_empty() {
                break;
            }
            let l = lines.next().unwrap().1;
            if l == "----" {
                in_results = true;
            } else if in_results {
                expected.push(l.to_string());
            } else {
                sql.push_str(l);
                sql.push('\n');
            }
        }
        let at = format!("{name}:{}", no + 1);
        let result: Result<_, pick::PickError> = async {
            let df = engine.sql(&sql).await?;
            Ok(df.collect().await?)
        }
        .await;
        if line == "statement ok" {
            result.unwrap_or_else(|e| panic!("{at}: {e}"));
        } else if let Some(needle) = line.strip_prefix("statement error") {
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{at}: expected an error"));
            let msg = pick::error::describe(&err);
            assert!(
                msg.contains(needle.trim()),
                "{at}: error `{msg}` lacks `{}`",
                needle.trim()
            );
        } else if line.starts_with("query") {
            let batches = result.unwrap_or_else(|e| panic!("{at}: {e}"));
            let mut got = render(&batches);
            if line.contains("rowsort") {
                got.sort();
                expected.sort();
            }
            assert_eq!(got, expected, "{at}");
        } else {
            panic!("{at}: unknown record `{line}`");
        }
    }
}

#[test]
fn slt_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let rt = tokio::runtime::Runtime::new().unwrap();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "slt"))
    {
        rt.block_on(run_file(f));
    }
}

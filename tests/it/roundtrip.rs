//! JSONL → Parquet → JSONL gives back the rows: nesting, unicode, nulls, big integers,
//! floats and fields whose type differs from row to row.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use pick_engine::Silent;
use pick_engine::dataset::{Codec, InferRows, ReadOptions};
use pick_engine::pipelines::export::{ExportParams, run as export};
use pick_engine::write::OutputFormat;

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "b",
        "score",
        "méta",
        "two words",
        "q\"uote",
        "_n",
    ])
    .prop_map(String::from)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        (-10.0f64..10.0).prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        "\\PC{0,12}".prop_map(Value::String),
        "[a-z\n\t\"\\\\ é€😀\u{1}]{0,8}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn row() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), value()), 1..5)
        .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
}

/// Rows compare as JSON values where an absent key and a null are the same and numbers
/// compare by value (3 and 3.0 are one JSON number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                same(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        _ => a == b,
    }
}

fn roundtrip(rows: &[Value]) -> Vec<Value> {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in/train/rows.jsonl");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    let text: String = rows
        .iter()
        .map(|r| format!("{}\n", serde_json::to_string(r).unwrap()))
        .collect();
    std::fs::write(&input, text).unwrap();
    let read = || ReadOptions {
        skip_bad_rows: false,
        infer_rows: InferRows(None),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pq = tmp.path().join("pq");
    let back = tmp.path().join("back");
    rt.block_on(export(
        &ExportParams {
            input: tmp.path().join("in").to_string_lossy().into(),
            output: pq.clone(),
            format: OutputFormat::Parquet,
            filter: None,
            columns: vec![],
            partitions: 0,
            read: read(),
            overwrite: false,
            exec: Default::default(),
        },
        &Silent,
    ))
    .unwrap();
    rt.block_on(export(
        &ExportParams {
            input: pq.to_string_lossy().into(),
            output: back.clone(),
            format: OutputFormat::Jsonl(Codec::Plain),
            filter: None,
            columns: vec![],
            partitions: 0,
            read: read(),
            overwrite: false,
            exec: Default::default(),
        },
        &Silent,
    ))
    .unwrap();
    std::fs::read_to_string(back.join("train/rows.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn jsonl_parquet_jsonl(rows in prop::collection::vec(row(), 1..12)) {
        let back = roundtrip(&rows);
        prop_assert_eq!(back.len(), rows.len());
        for (a, b) in rows.iter().zip(&back) {
            prop_assert!(same(a, b), "in:  {}\nout: {}", a, b);
        }
    }
}

#[test]
fn big_integers_next_to_floats_stay_exact() {
    let rows: Vec<Value> = vec![
        serde_json::json!({"n": 9007199254740993i64, "u": u64::MAX}),
        serde_json::json!({"n": 0.5, "u": 1.5}),
    ];
    let back = roundtrip(&rows);
    assert_eq!(back[0]["n"].as_i64(), Some(9007199254740993));
    assert_eq!(back[0]["u"].as_u64(), Some(u64::MAX));
    assert_eq!(back[1]["n"].as_f64(), Some(0.5));
}

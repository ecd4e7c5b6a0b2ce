//! Model2Vec pipelines in SQL: a classifier and a regressor saved by Python model2vec 0.10
//! (`tests/fixtures/model2vec/`, heads only) put beside the committed base model.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{pick, repo, s, stderr, stdout};

fn pipeline(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let base = repo().join("models/model2vec/potion-8m-pca64");
    for f in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(base.join(f), out.join(f)).unwrap();
    }
    let heads = repo().join("tests/fixtures/model2vec").join(name);
    for f in ["head.safetensors", "config.json"] {
        std::fs::copy(heads.join(f), out.join(f)).unwrap();
    }
    out
}

#[test]
fn pipelines_predict_and_score_in_sql_as_python_does() {
    let dir = tempfile::tempdir().unwrap();
    let (classifier, regressor) = (
        pipeline(dir.path(), "classifier"),
        pipeline(dir.path(), "regressor"),
    );
    let want: Value = serde_json::from_str(
        std::fs::read_to_string(repo().join("tests/fixtures/model2vec/predictions.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(want["text"], "Hello world");
    let sql = format!(
        "SELECT model2vec_predict('{c}', 'Hello world')['neu'] AS neu, \
         model2vec_score('{c}', 'Hello world', 'pos') AS pos, \
         model2vec_predict('{r}', 'Hello world') AS value",
        c = s(&classifier),
        r = s(&regressor)
    );
    let o = pick(&["sql", "--format", "json", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let got = &got[0];
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-6;
    assert!(
        close(&got["neu"], &want["classifier"]["neu"]),
        "{got} vs {want}"
    );
    assert!(
        close(&got["pos"], &want["classifier"]["pos"]),
        "{got} vs {want}"
    );
    assert!(close(&got["value"], &want["regressor"]), "{got} vs {want}");

    // A model without a head embeds but does not predict; an unknown class is named.
    let base = repo().join("models/model2vec/potion-8m-pca64");
    let o = pick(&[
        "sql",
        &format!("SELECT model2vec_predict('{}', 'x')", s(&base)),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("has no head (head.safetensors)"),
        "{}",
        stderr(&o)
    );
    let o = pick(&[
        "sql",
        &format!("SELECT model2vec_score('{}', 'x', 'maybe')", s(&classifier)),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no class \"maybe\""), "{}", stderr(&o));
}

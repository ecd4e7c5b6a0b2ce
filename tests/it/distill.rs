//! `distill-model2vec` end to end: a static model distilled from the tiny BERT, used as the
//! base of `train-model2vec` on data-samples, and the errors for models pick cannot distil.

use crate::common::*;

fn tiny_bert() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert")
}

#[test]
fn a_distilled_model_is_a_base_for_train_model2vec() {
    let tmp = tempfile::tempdir().unwrap();
    let distilled = tmp.path().join("tiny-m2v");
    pick_ok(&[
        "-q",
        "distill-model2vec",
        "-m",
        s(&tiny_bert()),
        "-o",
        s(&distilled),
        "-d",
        "auto",
        "-q",
        "int8",
    ]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(distilled.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["apply_pca"], "auto");
    assert_eq!(config["hidden_dim"], 32);
    assert_eq!(config["embedding_dtype"], "int8");
    let trained = tmp.path().join("trained");
    pick_ok(&[
        "-q",
        "train-model2vec",
        "-d",
        s(&samples()),
        "-m",
        s(&distilled),
        "-o",
        s(&trained),
        "-ll",
        ".metadata.code_quality.score",
        "--max-epochs",
        "1",
    ]);
    assert!(trained.join("model/model.safetensors").is_file());
    // Written whole: a second run into the same folder needs --overwrite.
    let o = pick(&[
        "-q",
        "distill-model2vec",
        "-m",
        s(&tiny_bert()),
        "-o",
        s(&distilled),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn models_pick_cannot_distil_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let gpt = tmp.path().join("gpt");
    write_file(
        &gpt.join("config.json"),
        br#"{"model_type": "gpt2", "hidden_act": "gelu_new"}"#,
    );
    let o = pick(&[
        "distill-model2vec",
        "-m",
        s(&gpt),
        "-o",
        s(&tmp.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("model_type `gpt2` is not supported"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("o").exists(), "nothing is left behind");
    let o = pick(&[
        "distill-model2vec",
        "-m",
        s(&tmp.path().join("nowhere")),
        "-o",
        s(&tmp.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nowhere"), "{}", stderr(&o));
}

/// bonepick's short flags for the vocabulary: `-v FILE` (here gzipped, read as such) and
/// `-k K`; a file that is not UTF-8 is named with its line.
#[test]
fn a_vocabulary_file_adds_words_and_k_clusters_the_rows() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let words = tmp.path().join("words.txt.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"distillation\nHello World\n\nthe\n").unwrap();
    write_file(&words, &gz.finish().unwrap());
    let out = tmp.path().join("m");
    pick_ok(&[
        "-q",
        "distill-model2vec",
        "-m",
        s(&tiny_bert()),
        "-o",
        s(&out),
        "-v",
        s(&words),
        "-k",
        "12",
        "-d",
        "8",
    ]);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["vocabulary_quantization"], 12);
    assert_eq!(config["hidden_dim"], 8);
    let tokenizer = std::fs::read_to_string(out.join("tokenizer.json")).unwrap();
    assert!(
        tokenizer.contains(r#""distillation":184"#),
        "a new word after the 184 rows"
    );
    assert!(tokenizer.contains(r#""content":"hello world""#), "a phrase");

    let bad = tmp.path().join("bad.txt");
    write_file(&bad, b"fine\nalso fine\n\xff\xfe\n");
    let o = pick(&[
        "distill-model2vec",
        "-m",
        s(&tiny_bert()),
        "-o",
        s(&tmp.path().join("o")),
        "-v",
        s(&bad),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bad.txt:3: the vocabulary is not UTF-8 text"),
        "{}",
        stderr(&o)
    );
    let o = pick(&[
        "distill-model2vec",
        "-m",
        s(&tiny_bert()),
        "-o",
        s(&tmp.path().join("o")),
        "-k",
        "1000",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("184 rows"), "{}", stderr(&o));
}

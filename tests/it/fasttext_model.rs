//! pick's own fastText reader against official fastText 0.9.2: the probabilities `fasttext
//! predict-prob <model> test.txt -1` printed for the committed models (data-samples/fasttext,
//! see its PROVENANCE.md) for every loss and for a quantized model.

use std::collections::BTreeMap;
use std::path::Path;

use pick_fasttext::{Model, Scratch};

use crate::common::samples;

fn official(expected: &str) -> Vec<BTreeMap<String, f64>> {
    expected
        .lines()
        .map(|line| {
            let t: Vec<&str> = line.split(' ').collect();
            t.chunks(2)
                .map(|p| (p[0].to_string(), p[1].parse::<f64>().unwrap()))
                .collect()
        })
        .collect()
}

fn check(model: &str, expected: &str) {
    let dir = samples().join("fasttext");
    let model = Model::load(&dir.join(model)).unwrap();
    let want = official(&std::fs::read_to_string(dir.join("expected").join(expected)).unwrap());
    let text = std::fs::read_to_string(dir.join("test.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), want.len());
    let mut scratch = Scratch::default();
    let mut worst = 0.0f64;
    for (n, (line, want)) in lines.iter().zip(&want).enumerate() {
        let probs = model.predict(line.as_bytes(), &mut scratch).unwrap();
        for (i, label) in model.labels().iter().enumerate() {
            let ours = probs[i] as f64;
            // Hierarchical softmax prunes paths below 1e-5; pick scores every label.
            let theirs = want.get(label).copied().unwrap_or(0.0);
            let diff = (ours - theirs).abs();
            worst = worst.max(diff);
            assert!(
                diff <= 1e-5,
                "{expected} line {}: {label} pick {ours} official {theirs}",
                n + 1
            );
        }
    }
    eprintln!("{expected}: largest difference {worst:e}");
}

#[test]
fn softmax_matches_official() {
    check("binary/model.bin", "binary.txt");
}

#[test]
fn quantized_matches_official() {
    check("binary/model.ftz", "binary-ftz.txt");
}

#[test]
fn hierarchical_softmax_with_char_ngrams_matches_official() {
    check("five-hs/model.bin", "five-hs.txt");
}

#[test]
fn one_vs_all_matches_official() {
    check("five-ova/model.bin", "five-ova.txt");
}

#[test]
fn corrupt_and_missing_models_name_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(samples().join("fasttext/binary/model.bin")).unwrap();
    let cut = dir.path().join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = Model::load(&cut).unwrap_err().to_string();
    assert!(
        err.contains("cut.bin") && err.contains("truncated"),
        "{err}"
    );
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"{\"not\": \"a model\"}").unwrap();
    let err = Model::load(&junk).unwrap_err().to_string();
    assert!(err.contains("junk.bin") && err.contains("magic"), "{err}");
    let err = Model::load(Path::new("/nonexistent/model.bin"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/model.bin"), "{err}");
}

//! The texts of data-samples (all splits, files in order, rows in order), for the benchmarks and
//! parity tests that read them outside pick's engine. Included by `#[path]` where needed, so
//! that one reader serves the benches, the tokenizer parity tests and the model2vec-rs bench.

use std::io::Read;
use std::path::Path;

pub fn texts(root: &Path) -> Vec<String> {
    let mut texts = Vec::new();
    for split in ["train", "valid", "test"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(split))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let mut s = String::new();
            zstd::Decoder::new(std::fs::File::open(&f).unwrap())
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            for line in s.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                texts.push(v["text"].as_str().unwrap().to_string());
            }
        }
    }
    texts
}

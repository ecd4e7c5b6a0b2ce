//! The native fastText reader: the bytes are a `.bin`/`.ftz` file. A file that loads must then
//! predict on any text without panicking (the sizes it declared are the sizes it holds).
//!
//! `Model::load` reads from a path, so the bytes go to a file of this process's own first.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pick_fasttext::{Model, Scratch};

/// Documents for a loaded model: known and unknown words, labels in the text, every separator,
/// multi-byte characters (character n-grams), an empty line, the end-of-line token itself.
const TEXTS: &[&[u8]] = &[
    b"hello world",
    b"the quick brown fox jumps over the lazy dog",
    b"",
    b"__label__pos hello __label__neg",
    b"a\tb\x0bc\x0cd\re\nf\0g",
    "h\u{e9}llo w\u{f6}rld \u{4e2d}\u{6587} \u{1f600}".as_bytes(),
    b"</s> </s>",
    b"fn main() { println!(\"{}\", 1 + 2); }",
    b"\xff\xfe\x80 invalid utf-8",
];

fn model_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("pick-fuzz-fasttext-{}.bin", std::process::id()))
    })
}

fn predict(model: &Model, text: &[u8], scratch: &mut Scratch) {
    let labels = model.labels().len();
    if let Some(probs) = model.predict(text, scratch) {
        assert_eq!(probs.len(), labels, "one probability per label");
    }
}

fuzz_target!(|data: &[u8]| {
    let path = model_path();
    std::fs::write(path, data).expect("write the model file");
    let Ok(model) = Model::load(path) else {
        return;
    };
    let mut scratch = Scratch::default();
    for text in TEXTS {
        predict(&model, text, &mut scratch);
    }
    // The file's own first bytes as a document too.
    predict(&model, &data[..data.len().min(256)], &mut scratch);
    for label in model.labels() {
        assert!(
            model.label_index(label).is_some(),
            "label {label:?} not found by name"
        );
    }
});

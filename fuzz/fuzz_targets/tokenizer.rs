//! The BPE tokenizers: the bytes are a `tokenizer.json`, a 0xFF byte, and a text (0xFF never
//! occurs in UTF-8, so it separates the two; without it the whole input is the JSON).
//!
//! Checked always, on the text:
//! - the two bundled tokenizers encode it losslessly: their tokens' bytes, concatenated, are the
//!   text (byte-level BPE drops nothing: every byte valid UTF-8 uses has a token, no pre-tokenizer
//!   step removes anything, and there are no normalizers);
//! - the hand-written split matchers find the same matches as the regex they stand for
//!   (`tokenizer::pattern`'s promise, as its property test checks on a small alphabet);
//! - encoding twice gives the same ids (the second time from the per-thread word cache).
//!
//! Then the JSON is loaded as a tokenizer; if it loads, it encodes a fixed text and the input text
//! (twice each, as above).

#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pick_text::tokenizer::pattern::{CL100K, Pattern};
use pick_text::tokenizer::{Tokenizer, bundled, byte_chars};

const FIXED: &str = "Hello, world! It's 2024: na\u{ef}ve caf\u{e9} \u{4e2d}\u{6587} \u{d55c}\u{ad6d}\u{c5b4} \
                     \u{1f600}\n\tline two  <|endoftext|> 12345 \r\n\u{3000}x\u{301}";

/// The split patterns with hand-written matchers: dolma2's cl100k split and the shapes of
/// Ultra-FineWeb's (as in `pattern.rs`'s own property test), plus the `Digits` pre-tokenizer's.
const SHAPES: &[&str] = &[
    CL100K,
    r"[\r\n]",
    r"\s?[A-Za-zµÀ-ÖØ-öø-ƺ]+",
    r"\s?[!-/:-~！-／：-～‘-‟　-。]+",
    r"\s+$",
    r"[一-龥ࠀ-一가-퟿]+",
    r"\p{N}",
];

/// (hand-written matcher, the same pattern on the regex engine)
fn patterns() -> &'static [(Pattern, Pattern)] {
    static PATTERNS: OnceLock<Vec<(Pattern, Pattern)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        SHAPES
            .iter()
            .map(|s| {
                (
                    Pattern::regex(s).expect("shape compiles"),
                    Pattern::general(s).expect("shape compiles on the regex engine"),
                )
            })
            .collect()
    })
}

/// Every match, as `Regex::find_iter` walks them (the same walk as `pattern.rs`'s test).
fn all(p: &Pattern, s: &str) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut from = 0;
    while let Some((a, b)) = p.find_at(s, from) {
        out.push((a, b));
        from = if b > a {
            b
        } else {
            b + s[b..].chars().next().map_or(1, char::len_utf8)
        };
        if from > s.len() {
            break;
        }
    }
    out
}

fn inverse_bytes() -> &'static HashMap<char, u8> {
    static INVERSE: OnceLock<HashMap<char, u8>> = OnceLock::new();
    INVERSE.get_or_init(|| {
        byte_chars()
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect()
    })
}

/// The bytes a token stands for: its byte-level string mapped back to bytes, or (for an added
/// token written as plain text) its text.
fn token_bytes(t: &Tokenizer, id: u32, out: &mut Vec<u8>) {
    let s = t.token(id);
    let inverse = inverse_bytes();
    match s
        .chars()
        .map(|c| inverse.get(&c).copied())
        .collect::<Option<Vec<u8>>>()
    {
        Some(bytes) => out.extend_from_slice(&bytes),
        None => out.extend_from_slice(s.as_bytes()),
    }
}

/// Encodes twice (the second time from the word cache) and checks they agree.
fn encode(t: &Tokenizer, text: &str) -> Vec<u32> {
    let mut first = Vec::new();
    t.encode(text, &mut first);
    let mut again = Vec::new();
    t.encode(text, &mut again);
    assert_eq!(first, again, "a second encoding of {text:?} differs");
    assert_eq!(t.count(text), first.len());
    for &id in &first {
        let _ = t.decode_one(id);
    }
    first
}

fn check_lossless(name: &str, t: &Tokenizer, text: &str) {
    let ids = encode(t, text);
    let mut bytes = Vec::with_capacity(text.len());
    for &id in &ids {
        token_bytes(t, id, &mut bytes);
    }
    assert!(
        bytes == text.as_bytes(),
        "{name}: the tokens of {text:?} spell {:?} (ids {ids:?})",
        String::from_utf8_lossy(&bytes)
    );
}

fuzz_target!(|data: &[u8]| {
    let (json, text) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let text = String::from_utf8_lossy(text);

    check_lossless("dolma2", bundled::dolma2(), &text);
    check_lossless("ultrafine", bundled::ultra_fineweb(), &text);
    for (fast, slow) in patterns() {
        assert_eq!(
            all(fast, &text),
            all(slow, &text),
            "the matcher for {fast:?} disagrees with the regex on {text:?}"
        );
    }

    let Ok(json) = std::str::from_utf8(json) else {
        return;
    };
    // Not JSON at all: the loader only says so (and a thread for that is most of the time spent).
    let Ok(root) = serde_json::from_str::<serde_json::Value>(json) else {
        return;
    };
    // Each loaded tokenizer keeps a word cache in every thread that used it, for the life of the
    // thread (pick loads a handful per process). Encoding on a thread of its own frees it when
    // the thread ends; otherwise a long run fills memory with the caches of dead tokenizers.
    let json = json.to_string();
    let text = text.into_owned();
    let worker = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let Ok(tokenizer) = Tokenizer::from_json(&json) else {
                return;
            };
            encode(&tokenizer, FIXED);
            encode(&tokenizer, &text);
        })
        .expect("start the encoding thread");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
});

//! jq programs as `label()` and `jq()` run them: the bytes are a jq expression, a 0xFF byte, and
//! a row's JSON text (0xFF never occurs in UTF-8; without it the row is `{}`). The expression is
//! compiled; if it compiles it runs on the row as `label(_json, expr)` (the first output as
//! Python's `str()`, then `normalize_label`) and as `jq(_json, expr)` (the first output as JSON
//! text). Errors are expected; a panic (or a stack overflow, or the process exiting) is a bug.
//!
//! Skipped: programs whose work is unbounded whatever the row (a user's program that never ends
//! is the user's, as in jq): recursion (`def`, `recurse`), generators
//!   without end (`repeat`, `range`, `while`, `until`, `infinite`), exponential ones
//!   (`combinations`), large numeric literals (`"x" * 1e9`, `.[100000000] = 1`), products with a
//!   literal of three digits or more and repeated multiplication, and `debug`/`stderr` (they only
//!   write to stderr). What is left can still find inputs that are only slow or only large (a
//!   `reduce` that doubles an array per element of the row): triage out-of-memory and timeout
//!   reports from this target with that in mind.
//!
//! Also checked: what `jq()` returns parses as JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pick_jq::Program;
use pick_text::labels::normalize_label;

const UNBOUNDED: &[&str] = &[
    "def",
    "recurse",
    "recurse_down",
    "repeat",
    "range",
    "while",
    "until",
    "infinite",
    "combinations",
    "debug",
    "stderr",
];

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `word` as a whole identifier somewhere in `expr`.
fn has_word(expr: &str, word: &str) -> bool {
    let b = expr.as_bytes();
    expr.match_indices(word).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| b[i]);
        let after = b.get(at + word.len()).copied();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// A run of `digits` or more digits, or a digit followed by an exponent (`1e9`, `2E+5`).
fn has_large_literal(expr: &str, digits: usize) -> bool {
    let b = expr.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= digits {
                return true;
            }
            if matches!(b.get(i + 1), Some(b'e' | b'E'))
                && matches!(b.get(i + 2), Some(b'0'..=b'9' | b'+' | b'-'))
            {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Unbounded or huge work: see the list above. A product with a literal of three digits or more
/// is as good as a large literal (`"x" * 999`, `.[999 * 999] = 1`).
fn known_unbounded(expr: &str) -> bool {
    let products = expr.matches('*').count();
    UNBOUNDED.iter().any(|w| has_word(expr, w))
        || has_large_literal(expr, 5)
        || products >= 2
        || (products == 1 && has_large_literal(expr, 3))
}

fuzz_target!(|data: &[u8]| {
    let (expr, row) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(expr) = std::str::from_utf8(expr) else {
        return;
    };
    // Rows reach the functions as Arrow strings: always UTF-8.
    let row = String::from_utf8_lossy(row);
    if known_unbounded(expr) {
        return;
    }
    let Ok(program) = Program::compile(expr) else {
        return;
    };
    assert_eq!(program.source(), expr);

    if let Ok(label) = program.label(&row) {
        let _ = normalize_label(&label);
    }
    match program.json(&row) {
        Ok(text) => {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                panic!("jq() gave text that is not JSON: {text:?} ({e})");
            }
        }
        Err(_) => {}
    }
});

//! bonepick's flag conventions (`crates/pick-cli/src/flags.rs`, compiled here in place: pick-cli
//! is a binary crate): the bytes are a command line, arguments separated by NUL bytes (which no
//! argument can hold; an argument need not be UTF-8).
//!
//! Checked:
//! - `rewrite_two_letter_shorts` against a model of its rule: one argument out per argument in;
//!   before the first `--`, `-tt`/`-ll` (alone or `=value`) become `--text-expression` and
//!   `--label-expression`, everything else (and everything from `--` on) is left as it is;
//! - `py_int` and `py_float` against Python's grammar for `int()` and `float()` (sign, digits with
//!   single underscores between them, `inf`/`infinity`/`nan`), written out independently; values
//!   must agree, and for plain ASCII digits with `str::parse`;
//! - `parse_split_size`, `parse_byte_size` and `parse_rate` stay in their ranges;
//! - `field_path(f)` (what a deprecated `-t F`/`-l F` stands for) compiles, and reads field `f` of a
//!   row, by the plain-path fast path and by jaq alike.
//!
//! Known differences from Python, by design of the reference here: Python's `int()`/`float()` also
//! accept non-ASCII digits and strip a few more characters (`\x1c`..`\x1f`) than `str::trim`.

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use pick_engine::pipelines::SplitSize;
use pick_jq::{Program, field_path};

#[allow(dead_code, unused_imports)]
#[path = "../../crates/pick-cli/src/flags.rs"]
mod flags;

/// Arguments given to the value parsers, at most.
const MAX_VALUES: usize = 32;
/// Arguments whose field path is compiled and run, at most (each compile loads jq's standard
/// library, a millisecond or so).
const MAX_FIELDS: usize = 2;

/// The model of `rewrite_two_letter_shorts`.
fn expected_rewrite(args: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    for arg in args {
        if rest {
            out.push(arg.clone());
            continue;
        }
        let Some(a) = arg.to_str() else {
            out.push(arg.clone());
            continue;
        };
        if a == "--" {
            rest = true;
            out.push(arg.clone());
            continue;
        }
        let long = if a == "-tt" {
            Some("--text-expression".to_string())
        } else if a == "-ll" {
            Some("--label-expression".to_string())
        } else if let Some(v) = a.strip_prefix("-tt=") {
            Some(format!("--text-expression={v}"))
        } else if let Some(v) = a.strip_prefix("-ll=") {
            Some(format!("--label-expression={v}"))
        } else {
            None
        };
        out.push(long.map_or_else(|| arg.clone(), OsString::from));
    }
    out
}

/// Python's `digitpart`: `digit (["_"] digit)*`.
fn digit_part(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return false;
    }
    let mut underscore = false;
    for &c in &b[1..] {
        match c {
            b'0'..=b'9' => underscore = false,
            b'_' if !underscore => underscore = true,
            _ => return false,
        }
    }
    !underscore
}

fn split_sign(s: &str) -> (&str, &str) {
    match s.as_bytes().first() {
        Some(b'+' | b'-') => s.split_at(1),
        _ => ("", s),
    }
}

/// Python's `int(s)` for ASCII: `[sign] digitpart`, around spaces.
fn reference_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (sign, body) = split_sign(t);
    if !digit_part(body) {
        return None;
    }
    format!("{sign}{}", body.replace('_', "")).parse().ok()
}

/// Python's `float(s)` for ASCII: `[sign] (inf | infinity | nan | decimal)`, around spaces, where
/// decimal is `(digitpart ["." [digitpart]] | "." digitpart) [("e" | "E") [sign] digitpart]`.
fn reference_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let (_, body) = split_sign(t);
    let word = matches!(
        body.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    );
    if !word {
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            None => digit_part(mantissa),
            Some(("", frac)) => digit_part(frac),
            Some((int, "")) => digit_part(int),
            Some((int, frac)) => digit_part(int) && digit_part(frac),
        };
        let exponent_ok = exponent.is_none_or(|e| digit_part(split_sign(e).1));
        if !(mantissa_ok && exponent_ok) {
            return None;
        }
    }
    Some(
        t.replace('_', "")
            .parse()
            .expect("Rust reads what Python's grammar allows"),
    )
}

fn same_float(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (None, None) => true,
        _ => false,
    }
}

fn check_value(s: &str, field: bool) {
    // int()
    let want = reference_int(s);
    assert_eq!(flags::py_int::<i128>(s).ok(), want, "py_int::<i128>({s:?})");
    assert_eq!(
        flags::py_int::<u64>(s).ok(),
        want.and_then(|v| u64::try_from(v).ok()),
        "py_int::<u64>({s:?})"
    );
    assert_eq!(
        flags::py_int::<usize>(s).ok(),
        want.and_then(|v| usize::try_from(v).ok()),
        "py_int::<usize>({s:?})"
    );
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        assert_eq!(
            flags::py_int::<u64>(s).ok(),
            s.parse::<u64>().ok(),
            "py_int({s:?})"
        );
    }

    // float()
    let got = flags::py_float(s).ok();
    assert!(
        same_float(got, reference_float(s)),
        "py_float({s:?}) = {got:?}, Python's float() gives {:?}",
        reference_float(s)
    );
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        assert!(same_float(got, s.parse::<f64>().ok()), "py_float({s:?})");
    }

    // Split sizes, byte sizes, rates.
    match flags::parse_split_size(s) {
        Ok(SplitSize::Fraction(f)) => {
            assert!(
                (0.0..=1.0).contains(&f),
                "parse_split_size({s:?}) = fraction {f}"
            );
            let _ = SplitSize::Fraction(f).rows_of(u64::MAX);
        }
        Ok(SplitSize::Rows(n)) => {
            if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                assert_eq!(s.parse::<u64>().ok(), Some(n), "parse_split_size({s:?})");
            }
        }
        Err(_) => {}
    }
    if let Ok(n) = flags::parse_byte_size(s) {
        if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
            if let Ok(want) = s.parse::<u64>() {
                if want <= 1 << 53 {
                    assert_eq!(n, want, "parse_byte_size({s:?})");
                }
            }
        }
    }
    if let Ok(r) = flags::parse_rate(s) {
        assert!(r > 0.0 && r <= 1.0, "parse_rate({s:?}) = {r}");
    }

    if field {
        check_field(s);
    }
}

/// A deprecated field flag's jq path reads that field.
fn check_field(s: &str) {
    let path = field_path(s);
    assert_eq!(
        flags::field_expression(Some(s), ".text", "text", true),
        path
    );
    assert_eq!(
        flags::field_expression(None, ".text", "label", true),
        ".text"
    );
    let mut row = serde_json::Map::new();
    row.insert(s.to_string(), serde_json::Value::from(1));
    let row = serde_json::Value::Object(row).to_string();
    for program in [path.clone(), format!("{path} | .")] {
        let compiled = match Program::compile(&program) {
            Ok(p) => p,
            Err(e) => panic!("the path of field {s:?} does not compile: {e}"),
        };
        assert_eq!(
            compiled.json(&row).ok().as_deref(),
            Some("1"),
            "`{program}` does not read field {s:?} of {row}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let got = flags::rewrite_two_letter_shorts(args.clone());
    assert_eq!(got, expected_rewrite(&args), "rewriting {args:?}");

    for (i, arg) in args.iter().take(MAX_VALUES).enumerate() {
        if let Some(s) = arg.to_str() {
            check_value(s, i < MAX_FIELDS);
        }
    }
});

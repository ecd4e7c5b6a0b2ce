//! The one JSON text writer: strings escaped as Python's `json.dumps(ensure_ascii=False)`
//! escapes them and floats in Python's `repr`, so every JSON pick writes (rows, reports,
//! predictions) reads like bonepick's.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::pyfmt::{float_repr, float32_repr};

/// Where JSON text goes: a `String` being built, or a byte buffer on its way to a file.
pub trait JsonOut {
    fn push_text(&mut self, s: &str);
}

impl JsonOut for String {
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl JsonOut for Vec<u8> {
    fn push_text(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// A JSON string literal: non-ASCII stays UTF-8; `"`, `\` and control characters are escaped
/// (`\n`, `\t`, ..., else `\u00XX`). Runs without any of those are copied whole.
pub fn write_str(s: &str, out: &mut impl JsonOut) {
    out.push_text("\"");
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none needs escaping: texts are long and escapes, even
        // in code, a few per line. (Hand-written: this was 13% of a transform, byte by byte.)
        if let Some(word) = bytes.get(i..i + 8)
            && !needs_escape(u64::from_le_bytes(word.try_into().expect("eight bytes")))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_text(&s[start..i]);
        if esc.is_empty() {
            out.push_text(&format!("\\u{b:04x}"));
        } else {
            out.push_text(esc);
        }
        i += 1;
        start = i;
    }
    out.push_text(&s[start..]);
    out.push_text("\"");
}

/// Whether any of eight bytes is `"`, `\` or below 0x20. Each test is the classic "has a
/// byte less than n" (`(x - n*0x01..) & !x & 0x80..`), exact as an any-test.
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    (below(x, 0x20)
        | below(x ^ (ONES * u64::from(b'"')), 1)
        | below(x ^ (ONES * u64::from(b'\\')), 1))
        != 0
}

/// A float as Python's `repr` writes it; JSON has no NaN or infinity, so those are `null`.
pub fn write_float(v: f64, out: &mut impl JsonOut) {
    if !v.is_finite() {
        out.push_text("null");
        return;
    }
    let mut text = String::with_capacity(24);
    float_repr(v, &mut text);
    out.push_text(&text);
}

/// A 32-bit float (a model's probability) with its own shortest digits, in Python's layout.
pub fn write_float32(v: f32, out: &mut impl JsonOut) {
    if !v.is_finite() {
        out.push_text("null");
        return;
    }
    let mut text = String::with_capacity(16);
    float32_repr(v, &mut text);
    out.push_text(&text);
}

/// serde_json's layout (two-space indent when pretty) with floats as Python's `repr`, so
/// serialized reports read like `json.dumps` output (`1e-05`, not `1e-5`).
struct PyFloats<F>(F);

macro_rules! delegate {
    ($($name:ident $(, $arg:ident: $ty:ty)*;)*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.0.$name(w $(, $arg)*)
        })*
    };
}

impl<F: Formatter> Formatter for PyFloats<F> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f64) -> io::Result<()> {
        let mut text = String::new();
        write_float(v, &mut text);
        w.write_all(text.as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, v: f32) -> io::Result<()> {
        let mut text = String::new();
        write_float32(v, &mut text);
        w.write_all(text.as_bytes())
    }

    delegate! {
        begin_array;
        end_array;
        begin_array_value, first: bool;
        end_array_value;
        begin_object;
        end_object;
        begin_object_key, first: bool;
        end_object_key;
        begin_object_value;
        end_object_value;
    }
}

fn serialize<T: Serialize + ?Sized, F: Formatter>(value: &T, formatter: F) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFloats(formatter));
    value
        .serialize(&mut ser)
        .expect("pick's reports serialize to JSON");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `value` as indented JSON text (two spaces), floats in Python's `repr`.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    serialize(value, PrettyFormatter::new())
}

/// `value` as one line of JSON text, floats in Python's `repr`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    serialize(value, CompactFormatter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut out = String::new();
        write_float(v, &mut out);
        out
    }

    #[test]
    fn floats_like_python_repr() {
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(f64::INFINITY), "null");
        let mut out = String::new();
        write_float32(7.152677e-5, &mut out);
        assert_eq!(out, "7.152677e-05");
    }

    #[test]
    fn serialized_floats_like_python_repr() {
        let v = serde_json::json!({"a": 1e-5, "b": [0.5, 2], "c": {}});
        assert_eq!(to_string(&v), r#"{"a":1e-05,"b":[0.5,2],"c":{}}"#);
        assert_eq!(
            to_string_pretty(&v),
            "{\n  \"a\": 1e-05,\n  \"b\": [\n    0.5,\n    2\n  ],\n  \"c\": {}\n}"
        );
    }

    #[test]
    fn strings_like_python_json() {
        let mut out = Vec::new();
        write_str("a\"b\\c\nd\u{1}é\u{2028}", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\nd\\u0001é\u{2028}\""
        );
        let mut s = String::new();
        write_str("\u{8}\u{c}\t\r\u{1f}", &mut s);
        assert_eq!(s, "\"\\b\\f\\t\\r\\u001f\"");
    }

    /// The plain byte-by-byte writer the word-at-a-time one must equal.
    fn write_str_bytewise(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest::proptest! {
        #[test]
        fn strings_word_at_a_time_as_byte_by_byte(
            s in proptest::collection::vec(
                proptest::sample::select(vec!['a', ' ', '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{20}', '\u{7f}', 'é', '\u{2028}', '😀', '!', '#', '[', ']']),
                0..40,
            )
        ) {
            let s: String = s.into_iter().collect();
            let mut out = String::new();
            write_str(&s, &mut out);
            proptest::prop_assert_eq!(out, write_str_bytewise(&s));
        }
    }
}

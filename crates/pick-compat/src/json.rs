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
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_text(&s[start..i]);
        if esc.is_empty() {
            out.push_text(&format!("\\u{b:04x}"));
        } else {
            out.push_text(esc);
        }
        start = i + 1;
    }
    out.push_text(&s[start..]);
    out.push_text("\"");
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
}

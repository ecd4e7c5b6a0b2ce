//! Borrowing JSON primitives for the row decoder: object entries as raw slices, strings
//! without copies when they have no escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON string: borrowed from the line when it has no escapes.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Calls `f` with every entry of the JSON object `raw`; values stay raw JSON text.
/// Fails if `raw` is not an object or has trailing characters.
pub fn for_each_entry<'a>(
    raw: &'a str,
    f: impl FnMut(Cow<'a, str>, &'a RawValue) -> Result<(), String>,
) -> Result<(), String> {
    struct V<F>(F);
    impl<'de, F> Visitor<'de> for V<F>
    where
        F: FnMut(Cow<'de, str>, &'de RawValue) -> Result<(), String>,
    {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                (self.0)(key, value).map_err(de::Error::custom)?;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    de.deserialize_map(V(f)).map_err(|e| clean(&e))?;
    de.end().map_err(|e| clean(&e))
}

/// The elements of the JSON array `raw`, as raw text.
pub fn array_items(raw: &str) -> Result<Vec<&RawValue>, String> {
    serde_json::from_str::<Vec<&RawValue>>(raw).map_err(|e| clean(&e))
}

/// Writes the value of the JSON string literal `raw` to `out` in one pass (no intermediate
/// String). `raw` has been validated by the JSON scanner. Lone UTF-16 surrogates, which
/// Python writes and Rust strings cannot hold, become U+FFFD instead of failing the row.
pub fn unescape_into<W: fmt::Write>(raw: &str, out: &mut W) -> Result<(), String> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| "not a string".to_string())?;
    let bytes = inner.as_bytes();
    let mut start = 0;
    let w = |r: fmt::Result| r.map_err(|_| "write failed".to_string());
    while let Some(off) = memchr::memchr(b'\\', &bytes[start..]) {
        let at = start + off;
        w(out.write_str(&inner[start..at]))?;
        let mut next = at + 2;
        let ch = match bytes.get(at + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = hex4(inner, at + 2)?;
                next = at + 6;
                let pair = (0xD800..0xDC00).contains(&hi) && inner[next..].starts_with("\\u");
                match hex4(inner, next + 2) {
                    Ok(lo) if pair && (0xDC00..0xE000).contains(&lo) => {
                        next += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            .unwrap_or('\u{FFFD}')
                    }
                    _ => char::from_u32(hi).unwrap_or('\u{FFFD}'),
                }
            }
            _ => return Err(format!("bad escape in string at byte {at}")),
        };
        w(out.write_char(ch))?;
        start = next;
    }
    w(out.write_str(&inner[start..]))
}

fn hex4(s: &str, at: usize) -> Result<u32, String> {
    s.get(at..at + 4)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| format!("bad \\u escape at byte {at}"))
}

/// serde_json's messages end with "at line 1 column N"; lines are ours to number, so keep
/// only the column.
fn clean(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &msg[..i], e.column()),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(raw: &str) -> Result<String, String> {
        let mut out = String::new();
        unescape_into(raw, &mut out).map(|_| out)
    }

    #[test]
    fn strings_unescape_like_json() {
        assert_eq!(string(r#""abc""#).unwrap(), "abc");
        assert_eq!(
            string(r#""a\nb\t\"q\" \\ \/ \u00e9""#).unwrap(),
            "a\nb\t\"q\" \\ / é"
        );
        assert_eq!(string(r#""\ud83d\ude00!""#).unwrap(), "😀!");
        assert_eq!(string(r#""x\ud800y""#).unwrap(), "x\u{FFFD}y");
        assert_eq!(string(r#""\ud800\u0041""#).unwrap(), "\u{FFFD}A");
        assert_eq!(string(r#""\udc00""#).unwrap(), "\u{FFFD}");
        assert!(string("3").is_err());
        assert!(string(r#""\u12""#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn unescape_agrees_with_serde(s in "\\PC*") {
            let raw = serde_json::to_string(&s).unwrap();
            proptest::prop_assert_eq!(string(&raw).unwrap(), s);
        }
    }

    #[test]
    fn entries_keep_order_and_reject_non_objects() {
        let mut keys = vec![];
        for_each_entry(r#"{"b": 1, "a": {"x": [1]}}"#, |k, v| {
            keys.push((k.into_owned(), v.get().to_string()));
            Ok(())
        })
        .unwrap();
        assert_eq!(keys[0], ("b".into(), "1".into()));
        assert_eq!(keys[1], ("a".into(), r#"{"x": [1]}"#.into()));
        assert!(for_each_entry("[1]", |_, _| Ok(())).is_err());
        assert!(for_each_entry("{} x", |_, _| Ok(())).is_err());
    }
}

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

/// Decodes a JSON string literal. Lone UTF-16 surrogates (which Python writes and serde
/// rejects) become U+FFFD instead of failing the row.
pub fn string(raw: &str) -> Result<Cow<'_, str>, String> {
    match serde_json::from_str::<Text>(raw) {
        Ok(Text(s)) => Ok(s),
        // serde rejects lone surrogates with several messages; our own decoder takes them.
        Err(e) => match raw.contains("\\u") {
            true => unescape_lossy(raw).map_err(|_| clean(&e)),
            false => Err(clean(&e)),
        },
    }
}

fn unescape_lossy(raw: &str) -> Result<Cow<'_, str>, String> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or("not a string")?;
    let mut units: Vec<u16> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let esc = chars.next().ok_or("unterminated escape")?;
        let unit = match esc {
            '"' => b'"' as u16,
            '\\' => b'\\' as u16,
            '/' => b'/' as u16,
            'b' => 8,
            'f' => 12,
            'n' => b'\n' as u16,
            'r' => b'\r' as u16,
            't' => b'\t' as u16,
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                u16::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\u{hex}"))?
            }
            other => return Err(format!("bad escape \\{other}")),
        };
        units.push(unit);
    }
    Ok(Cow::Owned(String::from_utf16_lossy(&units)))
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

    #[test]
    fn strings_borrow_or_unescape() {
        assert!(matches!(string(r#""abc""#).unwrap(), Cow::Borrowed("abc")));
        assert_eq!(string(r#""a\nb""#).unwrap(), "a\nb");
        assert_eq!(string(r#""x\ud800y""#).unwrap(), "x\u{FFFD}y");
        assert_eq!(string(r#""\ud83d\ude00""#).unwrap(), "😀");
        assert!(string("3").is_err());
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

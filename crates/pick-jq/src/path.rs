//! Programs that are a plain path (`.score`, `.metadata."fw_pp_ref".score`) answered from the
//! row's JSON text: the keys are found by skimming the text, and only the value reached is
//! parsed. Label expressions are mostly such paths, and the rows they read carry long texts
//! that a full parse would copy and unescape for nothing.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The keys of a path program, or `None` if `expr` is not one.
pub fn parse_path(expr: &str) -> Option<Vec<String>> {
    let mut rest = expr.trim();
    let mut keys = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('.')?;
        if rest.starts_with('"') {
            let end = closing_quote(rest)?;
            keys.push(serde_json::from_str::<String>(&rest[..=end]).ok()?);
            rest = &rest[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let key = &rest[..end];
            if key.is_empty() || key.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            keys.push(key.to_string());
            rest = &rest[end..];
        }
    }
    (!keys.is_empty()).then_some(keys)
}

/// Index of the quote closing the string literal that `s` starts with.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// What a path reaches in a row.
#[derive(Debug, PartialEq)]
pub enum Reached<'a> {
    /// The raw JSON text of the value (never `null`).
    Value(&'a str),
    /// A missing key or a `null` on the way: jq's `null`.
    Null,
}

/// Follows `keys` through `row`. Indexing something other than an object or null fails, as
/// in jq; a row that is not JSON fails.
pub fn follow<'a>(row: &'a str, keys: &[String]) -> Result<Reached<'a>, String> {
    let mut cur: &'a str = row;
    for key in keys {
        let t = cur.trim_start();
        if t.starts_with("null") {
            return Ok(Reached::Null);
        }
        if !t.starts_with('{') {
            let kind = match t.as_bytes().first() {
                Some(b'[') => "array",
                Some(b'"') => "string",
                Some(b't' | b'f') => "boolean",
                _ => "number",
            };
            return Err(format!("cannot index {kind} with \"{key}\""));
        }
        let mut de = serde_json::Deserializer::from_str(t);
        match Find(key).deserialize(&mut de).map_err(|e| e.to_string())? {
            Some(v) => cur = v.get(),
            None => return Ok(Reached::Null),
        }
    }
    if cur.trim() == "null" {
        Ok(Reached::Null)
    } else {
        Ok(Reached::Value(cur))
    }
}

/// The top-level entries of an object row, in order (duplicates included), each value as its
/// raw text; `None` if the row is not a valid JSON object (serde_json's reading).
pub fn entries(row: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    let mut de = serde_json::Deserializer::from_str(row);
    let entries = Entries.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(entries)
}

/// `row` cut down to the top-level `fields` it has (in its order, duplicates kept, so that
/// a parse sees the same values); `None` if the row is not a valid JSON object.
pub fn trim(row: &str, fields: &BTreeSet<String>) -> Option<String> {
    Some(trimmed(&entries(row)?, fields))
}

/// The object of the `entries` whose keys are among `fields`, as JSON text.
pub fn trimmed(entries: &[(Cow<'_, str>, &RawValue)], fields: &BTreeSet<String>) -> String {
    let mut out = String::from("{");
    for (key, value) in entries.iter().filter(|(k, _)| fields.contains(k.as_ref())) {
        if out.len() > 1 {
            out.push(',');
        }
        pick_compat::json::write_str(key, &mut out);
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    out
}

struct Entries;

impl<'de> DeserializeSeed<'de> for Entries {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Key(k)) = map.next_key()? {
            out.push((k, map.next_value::<&'de RawValue>()?));
        }
        Ok(out)
    }
}

/// Finds one key of an object, skimming past every other value.
struct Find<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(Key(k)) = map.next_key()? {
            // The last of duplicate keys wins, as in jq.
            if k == self.0 {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A key, borrowed from the row unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_recognised() {
        assert_eq!(parse_path(".score"), Some(vec!["score".to_string()]));
        assert_eq!(
            parse_path(r#" .metadata."fw_pp_ref".score "#),
            Some(vec!["metadata".into(), "fw_pp_ref".into(), "score".into()])
        );
        assert_eq!(parse_path(r#"."a\"b""#), Some(vec!["a\"b".to_string()]));
        for not in [".", ".a | .b", ".a[0]", ".a?", "{a: .a}", ".1a", ". a", ""] {
            assert_eq!(parse_path(not), None, "{not}");
        }
    }

    #[test]
    fn following_matches_jq() {
        let row = r#"{"a": {"b": 1.0, "s": "x\u00e9", "n": null}, "a\"q": 2, "dup": 1, "dup": 3}"#;
        let f = |p: &str| follow(row, &parse_path(p).unwrap());
        assert_eq!(f(".a.b"), Ok(Reached::Value("1.0")));
        assert_eq!(f(".a.s"), Ok(Reached::Value(r#""x\u00e9""#)));
        assert_eq!(f(".a.n"), Ok(Reached::Null));
        assert_eq!(f(".a.n.deeper"), Ok(Reached::Null));
        assert_eq!(f(".missing.x"), Ok(Reached::Null));
        assert_eq!(f(r#"."a\"q""#), Ok(Reached::Value("2")));
        assert_eq!(f(".dup"), Ok(Reached::Value("3")));
        assert!(f(".a.b.c").unwrap_err().contains("cannot index number"));
        assert!(follow("{\"a\": ", &["a".to_string()]).is_err());
    }
}

//! Editing a JSON object's text in place: `set` puts a value at a path of keys, copying every
//! other member through as its original text (a 20 KB document gains a small metadata object
//! without its text being parsed or re-escaped).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::{JsonOut, write_str};

/// A JSON object's members, keys unescaped, values as their raw text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `json` with `value` (JSON text) at `keys`, the objects on the way created where absent or
/// `null`. `None` where a key on the way holds something else (a string, a number, a list):
/// that is the row's data, and it is never overwritten.
pub fn set(json: &str, keys: &[&str], value: &str) -> Result<Option<String>, serde_json::Error> {
    let mut out = String::with_capacity(json.len() + value.len() + 32);
    Ok(set_into(json, keys, value, &mut out)?.then_some(out))
}

/// Appends the edited object; false where a key on the way holds a non-object.
fn set_into(
    json: &str,
    keys: &[&str],
    value: &str,
    out: &mut String,
) -> Result<bool, serde_json::Error> {
    let Some((&key, rest)) = keys.split_first() else {
        out.push_str(value);
        return Ok(true);
    };
    let members: Members = serde_json::from_str(json)?;
    let mut done = false;
    out.push('{');
    for (i, (k, v)) in members.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_key(k, out);
        if k == key && !done {
            done = true;
            let child = v.get().trim();
            let placed = if rest.is_empty() || child == "null" {
                set_into("{}", rest, value, out)?
            } else if child.starts_with('{') {
                set_into(child, rest, value, out)?
            } else {
                false
            };
            if !placed {
                return Ok(false);
            }
        } else {
            out.push_str(v.get());
        }
    }
    if !done {
        if !members.0.is_empty() {
            out.push(',');
        }
        push_key(key, out);
        set_into("{}", rest, value, out)?;
    }
    out.push('}');
    Ok(true)
}

/// Whether the JSON object `json` has a top-level member `key` (whatever its value).
pub fn has_key(json: &str, key: &str) -> Result<bool, serde_json::Error> {
    let members: Members = serde_json::from_str(json)?;
    Ok(members.0.iter().any(|(k, _)| k == key))
}

/// `json` with `value` at top-level `key` (replaced in place, else appended) and without the
/// members named in `remove`; other members keep their text.
pub fn replace(
    json: &str,
    key: &str,
    value: &str,
    remove: &[&str],
) -> Result<String, serde_json::Error> {
    let members: Members = serde_json::from_str(json)?;
    let mut out = String::with_capacity(json.len() + value.len() + 32);
    let mut done = false;
    out.push('{');
    for (k, v) in &members.0 {
        if remove.contains(&k.as_ref()) || (done && k == key) {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        push_key(k, &mut out);
        if k == key {
            done = true;
            out.push_str(value);
        } else {
            out.push_str(v.get());
        }
    }
    if !done {
        if out.len() > 1 {
            out.push(',');
        }
        push_key(key, &mut out);
        out.push_str(value);
    }
    out.push('}');
    Ok(out)
}

/// `"key":`
pub fn push_key(key: &str, out: &mut impl JsonOut) {
    write_str(key, out);
    out.push_text(":");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_sets_a_key_and_drops_others() {
        let row = r#"{"a": 1, "b_error": {"x": 1}, "b": 2, "c": "é"}"#;
        assert_eq!(
            replace(row, "b", r#"{"s":3}"#, &["b_error"]).unwrap(),
            r#"{"a":1,"b":{"s":3},"c":"é"}"#
        );
        assert_eq!(
            replace(r#"{"a": 1}"#, "b", "2", &["a"]).unwrap(),
            r#"{"b":2}"#
        );
        assert!(has_key(row, "b_error").unwrap());
        assert!(!has_key(row, "d").unwrap());
        assert!(has_key("[1]", "a").is_err());
    }
}

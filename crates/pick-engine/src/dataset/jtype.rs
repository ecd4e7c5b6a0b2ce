//! The type lattice used to infer a table schema from JSON rows (and to merge it with the
//! schemas of Parquet shards). Anything that disagrees falls back to `Json`: the value kept as
//! its JSON text, marked in the Arrow field metadata so writers emit it as JSON again.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema};

/// Integers up to this magnitude convert to f64 exactly.
pub const MAX_EXACT_FLOAT_INT: u64 = 1 << 53;

pub use crate::format::{JSON_META_KEY, is_json_field};

/// The type of one JSON value, read without building the value (no strings copied).
pub struct TypeOf(pub JType);

impl<'de> serde::Deserialize<'de> for TypeOf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypeOf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<TypeOf, E> {
                Ok(TypeOf(JType::Null))
            }
            fn visit_bool<E>(self, _: bool) -> Result<TypeOf, E> {
                Ok(TypeOf(JType::Bool))
            }
            fn visit_i64<E>(self, v: i64) -> Result<TypeOf, E> {
                Ok(TypeOf(if v.unsigned_abs() > MAX_EXACT_FLOAT_INT {
                    JType::BigInt
                } else {
                    JType::Int
                }))
            }
            fn visit_u64<E>(self, v: u64) -> Result<TypeOf, E> {
                Ok(TypeOf(if v > i64::MAX as u64 {
                    JType::UInt
                } else if v > MAX_EXACT_FLOAT_INT {
                    JType::BigInt
                } else {
                    JType::Int
                }))
            }
            fn visit_f64<E>(self, _: f64) -> Result<TypeOf, E> {
                Ok(TypeOf(JType::Float))
            }
            fn visit_str<E>(self, _: &str) -> Result<TypeOf, E> {
                Ok(TypeOf(JType::Str))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TypeOf, A::Error> {
                let mut t = JType::Null;
                while let Some(TypeOf(item)) = seq.next_element()? {
                    t = t.merge(item);
                }
                Ok(TypeOf(JType::List(Box::new(t))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypeOf, A::Error> {
                let mut t = JType::Struct(vec![]);
                while let Some(key) = map.next_key::<String>()? {
                    let TypeOf(value) = map.next_value()?;
                    t = t.merge(JType::Struct(vec![(key, value)]));
                }
                Ok(TypeOf(t))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JType {
    /// Only nulls (or nothing) seen so far.
    Null,
    Bool,
    Int,
    /// An integer a float cannot hold exactly (|n| > 2^53): it never merges into `Float`.
    BigInt,
    /// An integer above `i64::MAX` (and within `u64`).
    UInt,
    Float,
    Str,
    List(Box<JType>),
    /// Fields in order of first appearance.
    Struct(Vec<(String, JType)>),
    Json,
    /// An Arrow type from a Parquet shard with no JSON counterpart (timestamps, binary, ...).
    Native(DataType),
}

impl JType {
    /// The least type holding values of both.
    pub fn merge(self, other: JType) -> JType {
        use JType::*;
        match (self, other) {
            (Null, t) | (t, Null) => t,
            (a, b) if a == b => a,
            (Int, Float) | (Float, Int) => Float,
            (Int, BigInt) | (BigInt, Int) => BigInt,
            (List(a), List(b)) => List(Box::new(a.merge(*b))),
            (Struct(mut a), Struct(b)) => {
                for (name, tb) in b {
                    match a.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, ta)) => {
                            let t = std::mem::replace(ta, Null);
                            *ta = t.merge(tb);
                        }
                        None => a.push((name, tb)),
                    }
                }
                Struct(a)
            }
            _ => Json,
        }
    }

    pub fn to_arrow(&self) -> DataType {
        match self {
            JType::Bool => DataType::Boolean,
            JType::Int | JType::BigInt => DataType::Int64,
            JType::UInt => DataType::UInt64,
            JType::Float => DataType::Float64,
            JType::Str | JType::Null | JType::Json => DataType::Utf8,
            JType::List(t) => DataType::List(Arc::new(t.to_field("item"))),
            JType::Struct(fields) if fields.is_empty() => DataType::Utf8,
            JType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| t.to_field(n))
                    .collect::<Fields>(),
            ),
            JType::Native(dt) => dt.clone(),
        }
    }

    /// A nullable Arrow field; JSON-text columns carry the metadata mark.
    pub fn to_field(&self, name: &str) -> Field {
        let field = Field::new(name, self.to_arrow(), true);
        if self.is_json_text() {
            json_field(field)
        } else {
            field
        }
    }

    fn is_json_text(&self) -> bool {
        matches!(self, JType::Json | JType::Null)
            || matches!(self, JType::Struct(f) if f.is_empty())
    }

    /// The lattice element of an Arrow field (from a Parquet shard or a pick-written schema).
    pub fn from_field(field: &Field) -> JType {
        if is_json_field(field) {
            return JType::Json;
        }
        match field.data_type() {
            DataType::Null => JType::Null,
            DataType::Boolean => JType::Bool,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => JType::Int,
            DataType::UInt64 => JType::UInt,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => JType::Float,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => JType::Str,
            DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
                JType::List(Box::new(JType::from_field(f)))
            }
            DataType::Struct(fields) => JType::Struct(
                fields
                    .iter()
                    .map(|f| (f.name().clone(), JType::from_field(f)))
                    .collect(),
            ),
            other => JType::Native(other.clone()),
        }
    }
}

pub fn json_field(field: Field) -> Field {
    field.with_metadata(HashMap::from([(
        JSON_META_KEY.to_string(),
        "true".to_string(),
    )]))
}

/// The Arrow schema of a row type (a `Struct` of top-level fields).
pub fn schema_of(row: &[(String, JType)]) -> Schema {
    Schema::new(row.iter().map(|(n, t)| t.to_field(n)).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn t(v: Value) -> JType {
        serde_json::from_value::<TypeOf>(v).unwrap().0
    }

    #[test]
    fn merge_rules() {
        assert_eq!(t(json!(1)).merge(t(json!(2.5))), JType::Float);
        assert_eq!(t(json!(1)).merge(t(json!(u64::MAX))), JType::Json);
        assert_eq!(t(json!(1.5)).merge(t(json!(u64::MAX))), JType::Json);
        assert_eq!(t(json!(1.5)).merge(t(json!(1i64 << 60))), JType::Json);
        assert_eq!(t(json!(1)).merge(t(json!(1i64 << 60))), JType::BigInt);
        assert_eq!(t(json!(1)).merge(t(json!("a"))), JType::Json);
        assert_eq!(t(json!(null)).merge(t(json!("a"))), JType::Str);
        assert_eq!(
            t(json!({"a": 1})).merge(t(json!({"b": "x", "a": null}))),
            JType::Struct(vec![("a".into(), JType::Int), ("b".into(), JType::Str)])
        );
        assert_eq!(
            t(json!([1, 2])).merge(t(json!([]))),
            JType::List(Box::new(JType::Int))
        );
        assert_eq!(t(json!([1, "a"])), JType::List(Box::new(JType::Json)));
    }

    #[test]
    fn json_text_fields_are_marked() {
        let f = JType::Null.to_field("x");
        assert!(is_json_field(&f));
        assert_eq!(f.data_type(), &DataType::Utf8);
        assert!(!is_json_field(&JType::Str.to_field("x")));
        assert!(is_json_field(&JType::Struct(vec![]).to_field("x")));
    }
}

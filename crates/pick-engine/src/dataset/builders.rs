//! Arrow column builders fed with raw JSON values, one per table column, typed by the schema.
//! A value that does not fit its column is reported (with the field path) instead of being
//! coerced or dropped.

use std::sync::Arc;

use arrow::array::NullBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListArray, StringBuilder, StructArray,
    UInt64Builder, new_null_array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use serde_json::value::RawValue;

use crate::dataset::json_value::{array_items, for_each_entry, unescape_into};
use crate::dataset::jtype::{MAX_EXACT_FLOAT_INT, is_json_field};

/// Position lookup for object keys; linear for the short field lists rows usually have.
#[derive(Debug, Clone)]
pub struct FieldIndex {
    names: Vec<String>,
    map: Option<std::collections::HashMap<String, usize>>,
}

impl FieldIndex {
    pub fn new(names: Vec<String>) -> Self {
        let map = (names.len() > 12).then(|| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect()
        });
        FieldIndex { names, map }
    }

    pub fn get(&self, key: &str) -> Option<usize> {
        match &self.map {
            Some(m) => m.get(key).copied(),
            None => self.names.iter().position(|n| n == key),
        }
    }
}

pub enum ColBuilder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    UInt(UInt64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    /// Any JSON value kept as its text.
    Json(StringBuilder),
    List {
        item: FieldRef,
        offsets: Vec<i32>,
        validity: NullBufferBuilder,
        child: Box<ColBuilder>,
    },
    Struct {
        fields: Fields,
        index: FieldIndex,
        children: Vec<ColBuilder>,
        validity: NullBufferBuilder,
    },
    /// Arrow types JSON cannot produce (from Parquet shards): only nulls can be appended.
    Other {
        data_type: DataType,
        len: usize,
    },
}

/// A value that does not fit its column: the dotted path and what was wrong.
pub struct Mismatch {
    pub path: Vec<String>,
    pub message: String,
}

impl Mismatch {
    fn new(message: impl Into<String>) -> Self {
        Mismatch {
            path: vec![],
            message: message.into(),
        }
    }

    pub fn within(mut self, name: &str) -> Self {
        self.path.push(name.to_string());
        self
    }

    pub fn describe(&self) -> String {
        if self.path.is_empty() {
            return self.message.clone();
        }
        let path: Vec<&str> = self.path.iter().rev().map(String::as_str).collect();
        format!("field `{}`: {}", path.join("."), self.message)
    }
}

fn found(raw: &str) -> String {
    let mut s: String = raw.chars().take(40).collect();
    if s.len() < raw.len() {
        s.push('…');
    }
    s
}

impl ColBuilder {
    pub fn new(field: &Field) -> ColBuilder {
        if is_json_field(field) {
            return ColBuilder::Json(StringBuilder::new());
        }
        match field.data_type() {
            DataType::Boolean => ColBuilder::Bool(BooleanBuilder::new()),
            DataType::Int64 => ColBuilder::Int(Int64Builder::new()),
            DataType::UInt64 => ColBuilder::UInt(UInt64Builder::new()),
            DataType::Float64 => ColBuilder::Float(Float64Builder::new()),
            DataType::Utf8 => ColBuilder::Str(StringBuilder::new()),
            DataType::List(item) => ColBuilder::List {
                item: Arc::clone(item),
                offsets: vec![0],
                validity: NullBufferBuilder::new(0),
                child: Box::new(ColBuilder::new(item)),
            },
            DataType::Struct(fields) => ColBuilder::Struct {
                fields: fields.clone(),
                index: FieldIndex::new(fields.iter().map(|f| f.name().clone()).collect()),
                children: fields.iter().map(|f| ColBuilder::new(f)).collect(),
                validity: NullBufferBuilder::new(0),
            },
            other => ColBuilder::Other {
                data_type: other.clone(),
                len: 0,
            },
        }
    }

    pub fn append_null(&mut self) {
        match self {
            ColBuilder::Bool(b) => b.append_null(),
            ColBuilder::Int(b) => b.append_null(),
            ColBuilder::UInt(b) => b.append_null(),
            ColBuilder::Float(b) => b.append_null(),
            ColBuilder::Str(b) | ColBuilder::Json(b) => b.append_null(),
            ColBuilder::List {
                offsets, validity, ..
            } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                validity.append_null();
            }
            ColBuilder::Struct {
                children, validity, ..
            } => {
                children.iter_mut().for_each(ColBuilder::append_null);
                validity.append_null();
            }
            ColBuilder::Other { len, .. } => *len += 1,
        }
    }

    /// Appends one raw JSON value. On error nothing is guaranteed about this builder's
    /// state: callers rebuild the batch (see `decode`).
    pub fn append(&mut self, raw: &RawValue) -> Result<(), Mismatch> {
        let text = raw.get();
        if text == "null" {
            self.append_null();
            return Ok(());
        }
        match self {
            ColBuilder::Bool(b) => match text {
                "true" => b.append_value(true),
                "false" => b.append_value(false),
                _ => {
                    return Err(Mismatch::new(format!(
                        "expected a boolean, found {}",
                        found(text)
                    )));
                }
            },
            ColBuilder::Int(b) => match text.parse::<i64>() {
                Ok(v) => b.append_value(v),
                Err(_) => {
                    return Err(Mismatch::new(format!(
                        "expected an integer, found {}",
                        found(text)
                    )));
                }
            },
            ColBuilder::UInt(b) => match text.parse::<u64>() {
                Ok(v) => b.append_value(v),
                Err(_) => {
                    return Err(Mismatch::new(format!(
                        "expected an unsigned integer, found {}",
                        found(text)
                    )));
                }
            },
            ColBuilder::Float(b) => {
                let first = text.as_bytes()[0];
                // An integer literal too big for f64 would silently lose digits.
                let inexact = text.len() > 15
                    && !text.contains(['.', 'e', 'E'])
                    && text
                        .parse::<i128>()
                        .is_ok_and(|i| i.unsigned_abs() > MAX_EXACT_FLOAT_INT as u128);
                match text.parse::<f64>() {
                    Ok(_) if inexact => {
                        return Err(Mismatch::new(format!(
                            "the integer {} does not fit a float column exactly",
                            found(text)
                        )));
                    }
                    Ok(v) if first == b'-' || first.is_ascii_digit() => b.append_value(v),
                    _ => {
                        return Err(Mismatch::new(format!(
                            "expected a number, found {}",
                            found(text)
                        )));
                    }
                }
            }
            ColBuilder::Str(b) => {
                if !text.starts_with('"') {
                    return Err(Mismatch::new(format!(
                        "expected a string, found {}",
                        found(text)
                    )));
                }
                unescape_into(text, b).map_err(Mismatch::new)?;
                b.append_value("");
            }
            ColBuilder::Json(b) => b.append_value(text),
            ColBuilder::List {
                offsets,
                validity,
                child,
                ..
            } => {
                if !text.starts_with('[') {
                    return Err(Mismatch::new(format!(
                        "expected an array, found {}",
                        found(text)
                    )));
                }
                let items = array_items(text).map_err(Mismatch::new)?;
                for item in &items {
                    child.append(item).map_err(|m| m.within("[]"))?;
                }
                let end = *offsets.last().unwrap_or(&0) as usize + items.len();
                let end = i32::try_from(end)
                    .map_err(|_| Mismatch::new("list column exceeds 2^31 values in one batch"))?;
                offsets.push(end);
                validity.append_non_null();
            }
            ColBuilder::Struct {
                fields,
                index,
                children,
                validity,
            } => {
                let mut slots: Vec<Option<&RawValue>> = vec![None; children.len()];
                let mut unknown = None;
                for_each_entry(text, |key, value| {
                    match index.get(&key) {
                        Some(i) => slots[i] = Some(value),
                        None => unknown = unknown.take().or(Some(key.into_owned())),
                    }
                    Ok(())
                })
                .map_err(|e| {
                    if text.starts_with('{') {
                        Mismatch::new(e)
                    } else {
                        Mismatch::new(format!("expected an object, found {}", found(text)))
                    }
                })?;
                if let Some(key) = unknown {
                    return Err(Mismatch::new(format!(
                        "has a field `{key}` the schema does not know"
                    )));
                }
                for ((child, slot), field) in children.iter_mut().zip(slots).zip(fields.iter()) {
                    match slot {
                        Some(v) => child.append(v).map_err(|m| m.within(field.name()))?,
                        None => child.append_null(),
                    }
                }
                validity.append_non_null();
            }
            ColBuilder::Other { data_type, .. } => {
                return Err(Mismatch::new(format!(
                    "a {data_type} column cannot hold the JSON value {}",
                    found(text)
                )));
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Bool(b) => Arc::new(b.finish()),
            ColBuilder::Int(b) => Arc::new(b.finish()),
            ColBuilder::UInt(b) => Arc::new(b.finish()),
            ColBuilder::Float(b) => Arc::new(b.finish()),
            ColBuilder::Str(b) | ColBuilder::Json(b) => Arc::new(b.finish()),
            ColBuilder::List {
                item,
                offsets,
                validity,
                child,
            } => {
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::new(
                    Arc::clone(item),
                    offsets,
                    child.finish(),
                    validity.finish(),
                ))
            }
            ColBuilder::Struct {
                fields,
                children,
                validity,
                ..
            } => {
                let arrays: Vec<ArrayRef> = children.iter_mut().map(ColBuilder::finish).collect();
                let nulls = validity.finish();
                let len = arrays.first().map(|a| a.len()).unwrap_or(0);
                debug_assert!(nulls.as_ref().is_none_or(|n| n.len() == len));
                Arc::new(StructArray::new(fields.clone(), arrays, nulls))
            }
            ColBuilder::Other { data_type, len } => {
                let array = new_null_array(data_type, *len);
                *len = 0;
                array
            }
        }
    }
}

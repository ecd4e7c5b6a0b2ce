//! Making a Parquet shard's columns fit the table schema (which may be wider, or have turned
//! a column into JSON text because shards disagree on its type).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, ListArray, StringBuilder, StructArray, new_null_array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};

use crate::dataset::jtype::is_json_field;
use crate::error::Result;
use crate::write::json_rows::encoder;

pub fn conform(array: &ArrayRef, from: &Field, to: &Field) -> Result<ArrayRef> {
    if is_json_field(to) {
        if is_json_field(from) {
            return Ok(cast(array, &DataType::Utf8)?);
        }
        return to_json_text(array, from);
    }
    if array.data_type() == to.data_type() {
        return Ok(Arc::clone(array));
    }
    match (array.data_type(), to.data_type()) {
        (DataType::Struct(_), DataType::Struct(target)) => {
            let s = array.as_struct();
            let mut children = Vec::with_capacity(target.len());
            for t in target.iter() {
                children.push(match s.fields().iter().position(|f| f.name() == t.name()) {
                    Some(i) => conform(s.column(i), &s.fields()[i], t)?,
                    None => new_null_array(t.data_type(), s.len()),
                });
            }
            Ok(Arc::new(StructArray::new(
                target.clone(),
                children,
                s.nulls().cloned(),
            )))
        }
        (DataType::List(_) | DataType::LargeList(_), DataType::List(item)) => {
            let list = cast(
                array,
                &DataType::List(Arc::new(Field::new("item", list_item_type(array), true))),
            )?;
            let list = list.as_list::<i32>();
            let from_item = match array.data_type() {
                DataType::List(f) | DataType::LargeList(f) => f.as_ref().clone(),
                _ => unreachable!(),
            };
            let values = conform(list.values(), &from_item, item)?;
            Ok(Arc::new(ListArray::new(
                Arc::clone(item),
                list.offsets().clone(),
                values,
                list.nulls().cloned(),
            )))
        }
        (_, target) => Ok(cast(array, target)?),
    }
}

fn list_item_type(array: &ArrayRef) -> DataType {
    match array.data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        other => other.clone(),
    }
}

fn to_json_text(array: &ArrayRef, from: &Field) -> Result<ArrayRef> {
    let enc = encoder(from, array.as_ref())?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 8);
    let mut buf = Vec::new();
    for i in 0..array.len() {
        if enc.is_null(i) {
            out.append_null();
        } else {
            buf.clear();
            enc.encode(i, &mut buf);
            out.append_value(std::str::from_utf8(&buf).expect("encoders write UTF-8"));
        }
    }
    Ok(Arc::new(out.finish()))
}

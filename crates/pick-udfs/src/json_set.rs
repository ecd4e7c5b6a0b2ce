//! `json_set(row, value, key, ...)`: the JSON object `row` with `value` at the path of `key`s,
//! replacing what was there in place (its key keeps its position) or appended, creating the
//! objects on the way (where absent or null). Where a key on the way holds another kind of
//! value (a string, a number, a list) the result is NULL: the row's data is never replaced.
//! Every other field is copied through as its original JSON text, so a
//! 20 KB document gains a small metadata object without its text being parsed or re-escaped.
//! Values: a map (as a JSON object, keys in map order), text (a JSON string), numbers, booleans,
//! NULL (JSON null); text inside maps must be plain `Utf8`.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, MapArray, StringBuilder};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_compat::json::{write_float, write_float32, write_str};
use pick_compat::json_edit::{push_key, set};

/// Row `i` of `array` as JSON text.
fn value_json(array: &ArrayRef, i: usize, out: &mut String) -> Result<()> {
    if array.is_null(i) {
        out.push_str("null");
        return Ok(());
    }
    match array.data_type() {
        DataType::Map(..) => {
            let map: &MapArray = array.as_map();
            let entries = map.value(i);
            let keys = arrow::compute::cast(entries.column(0), &DataType::Utf8)?;
            let keys = keys.as_string::<i32>();
            let values = entries.column(1);
            out.push('{');
            for j in 0..entries.len() {
                if j > 0 {
                    out.push(',');
                }
                push_key(keys.value(j), out);
                value_json(values, j, out)?;
            }
            out.push('}');
        }
        DataType::Float32 => {
            write_float32(array.as_primitive::<Float32Type>().value(i), out);
        }
        DataType::Float64 => {
            write_float(array.as_primitive::<Float64Type>().value(i), out);
        }
        DataType::Int32 => write!(out, "{}", array.as_primitive::<Int32Type>().value(i))
            .expect("writing to a String"),
        DataType::Int64 => write!(out, "{}", array.as_primitive::<Int64Type>().value(i))
            .expect("writing to a String"),
        DataType::Boolean => out.push_str(if array.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Utf8 => write_str(array.as_string::<i32>().value(i), out),
        other => return exec_err!("json_set: cannot write a {other} value as JSON"),
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonSet {
    signature: Signature,
}

impl JsonSet {
    pub fn new() -> Self {
        JsonSet {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for JsonSet {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for JsonSet {
    fn name(&self) -> &str {
        "json_set"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() < 3 {
            return exec_err!("json_set(row, value, key, ...) takes a row, a value and keys");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let rows = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let rows = rows.as_string::<i32>();
        let mut values = args.args[1].to_array(n)?;
        if matches!(values.data_type(), DataType::LargeUtf8 | DataType::Utf8View) {
            values = arrow::compute::cast(&values, &DataType::Utf8)?;
        }
        let keys = args.args[2..]
            .iter()
            .map(|k| Ok(arrow::compute::cast(&k.to_array(n)?, &DataType::Utf8)?))
            .collect::<Result<Vec<_>>>()?;
        let mut out = StringBuilder::with_capacity(n, rows.value_data().len() + n * 64);
        let mut value = String::new();
        let mut path: Vec<&str> = Vec::with_capacity(keys.len());
        for i in 0..n {
            if rows.is_null(i) {
                out.append_null();
                continue;
            }
            value.clear();
            value_json(&values, i, &mut value)?;
            path.clear();
            for k in &keys {
                let k = k.as_string::<i32>();
                if k.is_null(i) {
                    return exec_err!("json_set: a NULL key");
                }
                path.push(k.value(i));
            }
            match set(rows.value(i), &path, &value) {
                Ok(Some(row)) => out.append_value(row),
                // A key on the way holds a value of the row's own: NULL, never overwritten.
                Ok(None) => out.append_null(),
                Err(e) => return exec_err!("json_set: row {}: {e}", i + 1),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    use super::set;

    fn set_ok(row: &str, keys: &[&str], value: &str) -> String {
        set(row, keys, value).unwrap().expect("placed")
    }

    #[test]
    fn sets_in_place_or_appends_keeping_other_text() {
        let row =
            r#"{"id":"a","text":"x\u00e9 \"q\"","metadata":{"other":1,"clf":{"old":2}},"n":1.50}"#;
        assert_eq!(
            set_ok(row, &["metadata", "clf"], r#"{"__label__pos":0.5}"#),
            r#"{"id":"a","text":"x\u00e9 \"q\"","metadata":{"other":1,"clf":{"__label__pos":0.5}},"n":1.50}"#
        );
        assert_eq!(
            set_ok(r#"{"id":1}"#, &["metadata", "clf"], "2"),
            r#"{"id":1,"metadata":{"clf":2}}"#
        );
        assert_eq!(
            set_ok(r#"{"metadata":null}"#, &["metadata", "c"], "2"),
            r#"{"metadata":{"c":2}}"#
        );
        assert_eq!(set_ok("{}", &["a"], "[1]"), r#"{"a":[1]}"#);
        assert!(set("[1]", &["a"], "1").is_err());
    }

    #[test]
    fn a_value_of_the_row_is_never_replaced_by_an_object() {
        for metadata in [r#""note""#, "3", "[1]", "true"] {
            let row = format!(r#"{{"id":1,"metadata":{metadata}}}"#);
            assert_eq!(set(&row, &["metadata", "clf"], "2").unwrap(), None, "{row}");
        }
        // The last key's own value is what is set, whatever it held.
        assert_eq!(
            set_ok(r#"{"metadata":{"clf":"old"}}"#, &["metadata", "clf"], "2"),
            r#"{"metadata":{"clf":2}}"#
        );
    }
}

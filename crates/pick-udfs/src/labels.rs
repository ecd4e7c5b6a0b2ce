//! `normalize_label(label)`: bonepick's label normalisation (spec §2.7): drop a leading
//! `__label__`, turn each run of Python whitespace into `_`, lowercase, strip.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use arrow::datatypes::Float64Type;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use pick_compat::pyfmt::float_repr;
use pick_text::labels::normalize_label;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizeLabel {
    signature: Signature,
}

impl NormalizeLabel {
    pub fn new() -> Self {
        NormalizeLabel {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for NormalizeLabel {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for NormalizeLabel {
    fn name(&self) -> &str {
        "normalize_label"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        let json_text = args.arg_fields[0]
            .metadata()
            .get("pick.json")
            .is_some_and(|v| v == "true");
        let labels = if json_text {
            python_str_of_json(&values)?
        } else {
            python_str(&values)?
        };
        let mut out = StringBuilder::with_capacity(n, n * 8);
        for (i, label) in labels.into_iter().enumerate() {
            match label {
                Some(l) if !values.is_null(i) => out.append_value(normalize_label(&l)),
                _ => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// Python's `str()` of the values of a JSON-text column (a field whose rows disagree on type).
fn python_str_of_json(values: &ArrayRef) -> Result<Vec<Option<String>>> {
    let text = arrow::compute::cast(values, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    Ok((0..text.len())
        .map(|i| {
            if text.is_null(i) {
                return None;
            }
            Some(
                match serde_json::from_str::<serde_json::Value>(text.value(i)) {
                    Ok(serde_json::Value::String(s)) => s,
                    Ok(serde_json::Value::Bool(b)) => if b { "True" } else { "False" }.to_string(),
                    Ok(serde_json::Value::Number(num)) if num.is_f64() => {
                        let mut s = String::new();
                        float_repr(num.as_f64().unwrap_or(f64::NAN), &mut s);
                        s
                    }
                    Ok(other) => other.to_string(),
                    Err(_) => text.value(i).to_string(),
                },
            )
        })
        .collect())
}

/// Python's `str()` of each value: `True`, `4`, `4.0`, `1e-05`; other types as Arrow prints them.
fn python_str(values: &ArrayRef) -> Result<Vec<Option<String>>> {
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    match values.data_type() {
        DataType::Boolean => {
            let b = values.as_boolean();
            out.extend((0..n).map(|i| Some(if b.value(i) { "True" } else { "False" }.to_string())));
        }
        DataType::Float64 | DataType::Float32 | DataType::Float16 => {
            let f = arrow::compute::cast(values, &DataType::Float64)?;
            let f = f.as_primitive::<Float64Type>();
            out.extend((0..n).map(|i| {
                let mut s = String::new();
                float_repr(f.value(i), &mut s);
                Some(s)
            }));
        }
        _ => {
            let s = arrow::compute::cast(values, &DataType::Utf8)?;
            let s = s.as_string::<i32>();
            out.extend((0..n).map(|i| (!s.is_null(i)).then(|| s.value(i).to_string())));
        }
    }
    Ok(out)
}

//! `require_value(value, what, _file, _row)`: the value itself, or an error naming the file and
//! row when it is missing. Commands wrap the fields a row must have in it, so a row without its
//! text is reported where it is instead of silently passing through.

use arrow::array::{Array, AsArray};
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RequireValue {
    signature: Signature,
}

impl RequireValue {
    pub fn new() -> Self {
        RequireValue {
            signature: Signature::any(4, Volatility::Immutable),
        }
    }
}

impl Default for RequireValue {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for RequireValue {
    fn name(&self) -> &str {
        "require_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    /// The value's own field, metadata included (a JSON-text column stays one).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(
            args.arg_fields[0].as_ref().clone().with_name(self.name()),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        if values.null_count() == 0 {
            return Ok(ColumnarValue::Array(values));
        }
        let Some(i) = (0..n).find(|&i| values.is_null(i)) else {
            return Ok(ColumnarValue::Array(values));
        };
        let what = match &args.args[1] {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            ) => s.clone(),
            _ => "value".to_string(),
        };
        let file = arrow::compute::cast(&args.args[2].to_array(n)?, &DataType::Utf8)?;
        let row = arrow::compute::cast(&args.args[3].to_array(n)?, &DataType::UInt64)?;
        let file = file.as_string::<i32>();
        let row = row.as_primitive::<arrow::datatypes::UInt64Type>();
        let file = if file.is_null(i) { "?" } else { file.value(i) };
        exec_err!("{file}: row {}: no {what}", row.value(i) + 1)
    }
}

//! `normalize_label(label)`: bonepick's label normalisation (spec §2.7): drop a leading
//! `__label__`, turn each run of Python whitespace into `_`, lowercase, strip.

use std::sync::Arc;

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::pyfmt::is_py_space;

pub fn normalize_label(label: &str) -> String {
    let label = label.strip_prefix("__label__").unwrap_or(label);
    let mut out = String::with_capacity(label.len());
    let mut in_space = false;
    for c in label.chars() {
        if is_py_space(c) {
            if !in_space {
                out.push('_');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let lower = out.to_lowercase();
    lower.trim_matches(is_py_space).to_string()
}

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
        let labels = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let labels = labels.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(n, n * 8);
        for i in 0..n {
            if labels.is_null(i) {
                out.append_null();
            } else {
                out.append_value(normalize_label(labels.value(i)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_label;

    #[test]
    fn like_bonepick() {
        assert_eq!(normalize_label("Very Good"), "very_good");
        assert_eq!(normalize_label("__label__POS"), "pos");
        assert_eq!(normalize_label("True"), "true");
        assert_eq!(normalize_label("a \t\x1c b"), "a_b");
        assert_eq!(normalize_label("İ"), "i\u{307}");
    }
}

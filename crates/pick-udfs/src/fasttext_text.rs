//! `fasttext_text(text)`: a normalized text made safe for one fastText training line. As
//! bonepick does, every `\b__label__(\S+)\b` (Python's regex classes) becomes its captured part,
//! so a document cannot smuggle labels in; unlike bonepick (B8), line breaks become spaces, so
//! one row is always one line whatever the normalizer.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_text::fasttext_line::fasttext_text;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FasttextText {
    signature: Signature,
}

impl FasttextText {
    pub fn new() -> Self {
        FasttextText {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for FasttextText {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FasttextText {
    fn name(&self) -> &str {
        "fasttext_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let texts = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(n, texts.value_data().len());
        for i in 0..n {
            if texts.is_null(i) {
                out.append_null();
            } else {
                out.append_value(fasttext_text(texts.value(i)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

//! `normalize(text, name)` and `token_count(text [, tokenizer])` as SQL functions.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Builder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use pick_text::Normalizer;
use pick_text::tokenizer::bundled;

fn literal<'a>(f: &str, what: &str, arg: &'a ColumnarValue) -> Result<&'a str> {
    match arg {
        ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Ok(s),
        _ => exec_err!("{f}(): the {what} must be a string literal"),
    }
}

fn text_type(f: &str, t: &DataType) -> Result<()> {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => Ok(()),
        other => plan_err!("{f}() takes text, not {other}"),
    }
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Normalize {
    signature: Signature,
}

impl Normalize {
    pub fn new() -> Self {
        Normalize {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for Normalize {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for Normalize {
    fn name(&self) -> &str {
        "normalize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        text_type(self.name(), &arg_types[0])?;
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let normalizer: Normalizer = literal("normalize", "normalizer name", &args.args[1])?
            .parse()
            .map_err(external)?;
        let texts = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(n, texts.value_data().len() + n);
        let mut buf = String::new();
        for i in 0..n {
            if texts.is_null(i) {
                out.append_null();
            } else {
                buf.clear();
                normalizer.normalize_into(texts.value(i), &mut buf);
                out.append_value(&buf);
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TokenCount {
    signature: Signature,
}

impl TokenCount {
    pub fn new() -> Self {
        TokenCount {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for TokenCount {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for TokenCount {
    fn name(&self) -> &str {
        "token_count"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !(1..=2).contains(&arg_types.len()) {
            return plan_err!("token_count(text [, tokenizer]) takes one or two arguments");
        }
        text_type(self.name(), &arg_types[0])?;
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let tokenizer = match args.args.get(1) {
            Some(arg) => {
                bundled::load(literal("token_count", "tokenizer", arg)?).map_err(external)?
            }
            None => bundled::dolma2().clone(),
        };
        let texts = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let mut out = Int64Builder::with_capacity(n);
        let mut ids = Vec::new();
        for i in 0..n {
            if texts.is_null(i) {
                out.append_null();
            } else {
                ids.clear();
                tokenizer.encode(texts.value(i), &mut ids);
                out.append_value(ids.len() as i64);
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

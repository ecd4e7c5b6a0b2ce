//! jq expressions (jaq) over JSON rows, with bonepick's semantics: the first output wins,
//! and for labels no output or `null` is an error; labels read as Python's `str()` of the
//! value (integral numbers as ints, `True`/`False`, Python reprs for lists and dicts).
//!
//! ```sql
//! SELECT jq(_json, '.metadata.code_quality.score') FROM s;
//! SELECT label(_json, 'if .metadata.code_quality.score < 3 then "neg" else "pos" end') FROM s;
//! ```

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_jq::{CompileError, EvalError, Program};

/// Which of the two functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// `jq(json, expr)`: the first output as JSON text; NULL for no output or null.
    Json,
    /// `label(json, expr)`: the first output as a bonepick label; no output or null fails.
    Label,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JqFunction {
    output: Output,
    signature: Signature,
}

impl JqFunction {
    pub fn jq() -> Self {
        JqFunction {
            output: Output::Json,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    pub fn label() -> Self {
        JqFunction {
            output: Output::Label,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

/// As text: a task's error reaches a cluster's client as its message alone.
fn compile_error(e: CompileError) -> DataFusionError {
    DataFusionError::Execution(e.to_string())
}

impl ScalarUDFImpl for JqFunction {
    fn name(&self) -> &str {
        match self.output {
            Output::Json => "jq",
            Output::Label => "label",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => {
                Ok(DataType::Utf8)
            }
            other => plan_err!(
                "{}() reads JSON text (such as the _json column), not {other}",
                self.name()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let expr = match &args.args[1] {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(e))
                | ScalarValue::Utf8View(Some(e))
                | ScalarValue::LargeUtf8(Some(e)),
            ) => e.clone(),
            _ => return exec_err!("{}(): the expression must be a string literal", self.name()),
        };
        // Programs are not Send (jaq values are reference counted), so each batch compiles
        // its own; that costs microseconds against thousands of rows.
        let program = Program::compile(&expr).map_err(compile_error)?;
        let rows = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let rows = rows.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(n, n * 8);
        for i in 0..n {
            if rows.is_null(i) {
                out.append_null();
                continue;
            }
            let row = rows.value(i);
            let result = match self.output {
                Output::Json => program.json(row),
                Output::Label => program.label(row),
            };
            match (self.output, result) {
                (_, Ok(v)) => out.append_value(v),
                (Output::Json, Err(EvalError::NoOutput | EvalError::Null)) => out.append_null(),
                (_, Err(e)) => {
                    let shown: String = row.chars().take(80).collect();
                    return exec_err!("{}(`{expr}`): {e} on the row {shown}", self.name());
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

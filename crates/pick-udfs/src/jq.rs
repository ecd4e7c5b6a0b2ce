//! jq expressions (jaq) over JSON rows, with bonepick's semantics: the first output wins,
//! and for labels no output or `null` is an error; labels read as Python's `str()` of the
//! value (integral numbers as ints, `True`/`False`, Python reprs for lists and dicts).
//!
//! ```sql
//! SELECT jq(_json, '.metadata.code_quality.score') FROM s;
//! SELECT label(_json, 'if .metadata.code_quality.score < 3 then "neg" else "pos" end') FROM s;
//! SELECT jq_merge(_json, '{text: .text}', '{score: (if .score < 3 then "neg" else "pos" end)}') FROM s;
//! ```

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_jq::merge::Merge;
use pick_jq::{CompileError, EvalError, Program};

/// Which of the three functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// `jq(json, expr)`: the first output as JSON text; NULL for no output or null.
    Json,
    /// `label(json, expr)`: the first output as a bonepick label; no output or null fails.
    Label,
    /// `jq_merge(json, t, l)`: `{**T(row), **L(row)}`, a transform's row, as JSON text; NULL
    /// where either gives no output.
    Merge,
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

    pub fn merge() -> Self {
        JqFunction {
            output: Output::Merge,
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

/// One row's JSON text to the function's answer.
type RowFn = dyn Fn(&str) -> std::result::Result<String, EvalError>;

/// As text: a task's error reaches a cluster's client as its message alone.
fn compile_error(e: CompileError) -> DataFusionError {
    DataFusionError::Execution(e.to_string())
}

impl ScalarUDFImpl for JqFunction {
    fn name(&self) -> &str {
        match self.output {
            Output::Json => "jq",
            Output::Label => "label",
            Output::Merge => "jq_merge",
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
        let mut exprs = Vec::new();
        for arg in &args.args[1..] {
            match arg {
                ColumnarValue::Scalar(
                    ScalarValue::Utf8(Some(e))
                    | ScalarValue::Utf8View(Some(e))
                    | ScalarValue::LargeUtf8(Some(e)),
                ) => exprs.push(e.as_str()),
                _ => {
                    return exec_err!("{}(): the expressions must be string literals", self.name());
                }
            }
        }
        // Programs are not Send (jaq values are reference counted), so each batch compiles
        // its own; that costs microseconds against thousands of rows.
        let eval: Box<RowFn> = match self.output {
            Output::Json => {
                let p = Program::compile(exprs[0]).map_err(compile_error)?;
                Box::new(move |row| p.json(row))
            }
            Output::Label => {
                let p = Program::compile(exprs[0]).map_err(compile_error)?;
                Box::new(move |row| p.label(row))
            }
            Output::Merge => {
                let m = Merge::compile(exprs[0], exprs[1]).map_err(compile_error)?;
                Box::new(move |row| m.json(row))
            }
        };
        let rows = arrow::compute::cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let rows = rows.as_string::<i32>();
        // Rows rebuilt whole are about as long as they were.
        let bytes = match self.output {
            Output::Merge => rows.value_data().len(),
            _ => n * 8,
        };
        let mut out = StringBuilder::with_capacity(n, bytes);
        for i in 0..n {
            if rows.is_null(i) {
                out.append_null();
                continue;
            }
            let row = rows.value(i);
            match (self.output, eval(row)) {
                (_, Ok(v)) => out.append_value(v),
                (Output::Json | Output::Merge, Err(EvalError::NoOutput | EvalError::Null)) => {
                    out.append_null()
                }
                (_, Err(e)) => {
                    let shown: String = row.chars().take(80).collect();
                    let expr = exprs.join("`, `");
                    return exec_err!("{}(`{expr}`): {e} on the row {shown}", self.name());
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

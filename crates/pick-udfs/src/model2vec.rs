//! `model2vec_embed(model, text)`: a text's Model2Vec embedding as a fixed-size list of
//! float32, encoded as model2vec 0.10 does. `model` is a model folder, given as a constant (its
//! dimension is the list's size); the model is loaded once per process.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeListBuilder, Float32Builder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_model2vec::{StaticModel, shared};

fn model(path: &str) -> Result<Arc<StaticModel>> {
    match shared(Path::new(path)) {
        Ok(m) => Ok(m),
        Err(e) => exec_err!("{e}"),
    }
}

fn item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Float32, true))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Model2VecEmbed {
    signature: Signature,
}

impl Model2VecEmbed {
    pub fn new() -> Self {
        Model2VecEmbed {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for Model2VecEmbed {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for Model2VecEmbed {
    fn name(&self) -> &str {
        "model2vec_embed"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        plan_err!("model2vec_embed: the return type depends on the model")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let path = match args.scalar_arguments.first() {
            Some(Some(ScalarValue::Utf8(Some(p))))
            | Some(Some(ScalarValue::Utf8View(Some(p))))
            | Some(Some(ScalarValue::LargeUtf8(Some(p)))) => p,
            _ => {
                return plan_err!(
                    "model2vec_embed(model, text): the model must be a constant path"
                );
            }
        };
        let dim = model(path)?.dim() as i32;
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::FixedSizeList(item(), dim),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let path = match &args.args[0] {
            ColumnarValue::Scalar(s) => match s.try_as_str() {
                Some(Some(p)) => p.to_string(),
                _ => return exec_err!("model2vec_embed: the model must be a constant path"),
            },
            ColumnarValue::Array(_) => {
                return exec_err!("model2vec_embed: the model must be a constant path");
            }
        };
        let model = model(&path)?;
        let texts = arrow::compute::cast(&args.args[1].to_array(n)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let dim = model.dim();
        let mut out = FixedSizeListBuilder::new(Float32Builder::with_capacity(n * dim), dim as i32)
            .with_field(item());
        for i in 0..n {
            if texts.is_null(i) {
                out.values().append_nulls(dim);
                out.append(false);
                continue;
            }
            match model.encode(texts.value(i)) {
                Ok(v) => {
                    out.values().append_slice(&v);
                    out.append(true);
                }
                Err(e) => return exec_err!("model2vec_embed: {}: {e}", model.path.display()),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

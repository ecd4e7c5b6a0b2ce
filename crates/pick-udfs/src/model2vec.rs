//! Model2Vec in SQL; `model` is a model folder given as a constant (the result's type depends on
//! it), loaded once per process and shared by all threads.
//! - `model2vec_embed(model, text)`: the text's embedding, a fixed-size list of float32, as
//!   model2vec 0.10's `encode` computes it;
//! - `model2vec_predict(model, text)`: a pipeline's class → probability map, or a regressor's
//!   value (float32);
//! - `model2vec_score(model, text, label)`: one class's probability.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListBuilder, Float32Builder, MapBuilder, StringBuilder,
};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_model2vec::{StaticModel, shared};

fn model(path: &str) -> Result<Arc<StaticModel>> {
    let local = match crate::models::local(path) {
        Ok(p) => p,
        Err(e) => return exec_err!("{e}"),
    };
    match shared(&local) {
        Ok(m) => Ok(m),
        Err(e) => exec_err!("{e}"),
    }
}

/// The model named by a constant first argument, at planning time. `None` while that argument
/// is not a literal yet: pick plans its statements with every value as a bound parameter (`$1`)
/// and binds them afterwards, and binding plans the types again with the literal (execution
/// refuses a model that is still not a constant).
fn planned(name: &str, args: &ReturnFieldArgs) -> Result<Option<Arc<StaticModel>>> {
    match args.scalar_arguments.first() {
        Some(Some(ScalarValue::Utf8(Some(p))))
        | Some(Some(ScalarValue::Utf8View(Some(p))))
        | Some(Some(ScalarValue::LargeUtf8(Some(p)))) => model(p).map(Some),
        Some(None) => Ok(None),
        _ => plan_err!("{name}: the model must be a constant path"),
    }
}

/// The model named by a constant first argument, at execution.
fn executed(name: &str, arg: &ColumnarValue) -> Result<Arc<StaticModel>> {
    match arg {
        ColumnarValue::Scalar(s) => match s.try_as_str() {
            Some(Some(p)) => model(p),
            _ => exec_err!("{name}: the model must be a constant path"),
        },
        ColumnarValue::Array(_) => exec_err!("{name}: the model must be a constant path"),
    }
}

/// A pipeline's classes, or the error for a folder without a classifier head.
fn classes<'m>(name: &str, m: &'m StaticModel) -> Result<Option<&'m [String]>> {
    match &m.head {
        None => exec_err!(
            "{name}: {} has no head (head.safetensors): it embeds, it does not predict",
            m.path.display()
        ),
        Some(h) => Ok(h.classes.as_deref()),
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
        // Provisional until the model path is bound (see `planned`).
        let dim = planned(self.name(), &args)?.map_or(1, |m| m.dim()) as i32;
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::FixedSizeList(item(), dim),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let model = executed(self.name(), &args.args[0])?;
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

/// The map type `model2vec_predict` gives for a classifier.
fn map_type() -> DataType {
    MapBuilder::new(None, StringBuilder::new(), Float32Builder::new())
        .finish()
        .data_type()
        .clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Model2VecPredict {
    signature: Signature,
}

impl Model2VecPredict {
    pub fn new() -> Self {
        Model2VecPredict {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for Model2VecPredict {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for Model2VecPredict {
    fn name(&self) -> &str {
        "model2vec_predict"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        plan_err!("model2vec_predict: the return type depends on the model")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = match planned(self.name(), &args)? {
            // Provisional until the model path is bound (see `planned`).
            None => map_type(),
            Some(m) => match classes(self.name(), &m)? {
                Some(_) => map_type(),
                None => DataType::Float32,
            },
        };
        Ok(Arc::new(Field::new(self.name(), t, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let model = executed(self.name(), &args.args[0])?;
        let classes = classes(self.name(), &model)?;
        let texts = arrow::compute::cast(&args.args[1].to_array(n)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let predict = |i: usize| match model.predict(texts.value(i)) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => unreachable!("classes() checked the head"),
            Err(e) => exec_err!("{}: {}: {e}", self.name(), model.path.display()),
        };
        match classes {
            Some(classes) => {
                let mut order: Vec<usize> = (0..classes.len()).collect();
                order.sort_by(|&a, &b| classes[a].cmp(&classes[b]));
                let mut out = MapBuilder::new(None, StringBuilder::new(), Float32Builder::new());
                for i in 0..n {
                    if texts.is_null(i) {
                        out.append(false)?;
                        continue;
                    }
                    let p = predict(i)?;
                    for &c in &order {
                        out.keys().append_value(&classes[c]);
                        out.values().append_value(p[c] as f32);
                    }
                    out.append(true)?;
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
            }
            None => {
                let mut out = Float32Builder::with_capacity(n);
                for i in 0..n {
                    if texts.is_null(i) {
                        out.append_null();
                    } else {
                        out.append_value(predict(i)?[0] as f32);
                    }
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Model2VecScore {
    signature: Signature,
}

impl Model2VecScore {
    pub fn new() -> Self {
        Model2VecScore {
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

impl Default for Model2VecScore {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for Model2VecScore {
    fn name(&self) -> &str {
        "model2vec_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let model = executed(self.name(), &args.args[0])?;
        let Some(classes) = classes(self.name(), &model)? else {
            return exec_err!(
                "{}: {} is a regressor: use model2vec_predict for its value",
                self.name(),
                model.path.display()
            );
        };
        let texts = arrow::compute::cast(&args.args[1].to_array(n)?, &DataType::Utf8)?;
        let labels = arrow::compute::cast(&args.args[2].to_array(n)?, &DataType::Utf8)?;
        let (texts, labels) = (texts.as_string::<i32>(), labels.as_string::<i32>());
        let mut out = Float32Builder::with_capacity(n);
        for i in 0..n {
            if texts.is_null(i) || labels.is_null(i) {
                out.append_null();
                continue;
            }
            let Some(c) = classes.iter().position(|c| c == labels.value(i)) else {
                return exec_err!(
                    "{}: no class {:?} in {} (classes: {})",
                    self.name(),
                    labels.value(i),
                    model.path.display(),
                    classes.join(", ")
                );
            };
            match model.predict(texts.value(i)) {
                Ok(Some(p)) => out.append_value(p[c] as f32),
                Ok(None) => unreachable!("classes() checked the head"),
                Err(e) => return exec_err!("{}: {}: {e}", self.name(), model.path.display()),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

//! `fasttext_predict(model, text)`: a map from every label (with its `__label__` prefix) to its
//! probability; `fasttext_score(model, text, label)`: one label's probability (the label with or
//! without its prefix). `model` is a `.bin`/`.ftz` path or a directory holding `model.bin`.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float32Builder, MapBuilder, StringArray, StringBuilder,
};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use pick_fasttext::{Model, Scratch, shared};

fn utf8(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(array, &DataType::Utf8)?)
}

/// Rows' models, loading each path once and keeping the last one at hand.
struct Models {
    last: Option<(String, Arc<Model>)>,
}

impl Models {
    fn get(&mut self, path: &str) -> Result<Arc<Model>> {
        if let Some((p, m)) = &self.last
            && p == path
        {
            return Ok(Arc::clone(m));
        }
        let model =
            match crate::models::local(path).and_then(|p| shared(&p).map_err(|e| e.to_string())) {
                Ok(m) => m,
                Err(e) => return exec_err!("{e}"),
            };
        self.last = Some((path.to_string(), Arc::clone(&model)));
        Ok(model)
    }
}

/// The map type `fasttext_predict` returns.
pub fn predict_type() -> DataType {
    MapBuilder::new(None, StringBuilder::new(), Float32Builder::new())
        .finish()
        .data_type()
        .clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FasttextPredict {
    signature: Signature,
}

impl FasttextPredict {
    pub fn new() -> Self {
        FasttextPredict {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for FasttextPredict {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FasttextPredict {
    fn name(&self) -> &str {
        "fasttext_predict"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(predict_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let paths = utf8(&args.args[0].to_array(n)?)?;
        let texts = utf8(&args.args[1].to_array(n)?)?;
        let (paths, texts) = (paths.as_string::<i32>(), texts.as_string::<i32>());
        let mut models = Models { last: None };
        let mut scratch = Scratch::default();
        let mut out = MapBuilder::new(None, StringBuilder::new(), Float32Builder::new());
        let mut order: Vec<usize> = Vec::new();
        for i in 0..n {
            if paths.is_null(i) || texts.is_null(i) {
                out.append(false)?;
                continue;
            }
            let model = models.get(paths.value(i))?;
            match model.predict(texts.value(i).as_bytes(), &mut scratch) {
                None => out.append(false)?,
                Some(probs) => {
                    let labels = model.labels();
                    if order.len() != labels.len() {
                        order = (0..labels.len()).collect();
                        order.sort_by(|&a, &b| labels[a].cmp(&labels[b]));
                    }
                    for &l in &order {
                        out.keys().append_value(&labels[l]);
                        out.values().append_value(probs[l]);
                    }
                    out.append(true)?;
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FasttextScore {
    signature: Signature,
}

impl FasttextScore {
    pub fn new() -> Self {
        FasttextScore {
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

impl Default for FasttextScore {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FasttextScore {
    fn name(&self) -> &str {
        "fasttext_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let paths = utf8(&args.args[0].to_array(n)?)?;
        let texts = utf8(&args.args[1].to_array(n)?)?;
        let labels = utf8(&args.args[2].to_array(n)?)?;
        let (paths, texts, labels): (&StringArray, &StringArray, &StringArray) = (
            paths.as_string::<i32>(),
            texts.as_string::<i32>(),
            labels.as_string::<i32>(),
        );
        let mut models = Models { last: None };
        let mut scratch = Scratch::default();
        let mut out = Float32Builder::with_capacity(n);
        let mut last_label: Option<(usize, String, usize)> = None;
        for i in 0..n {
            if paths.is_null(i) || texts.is_null(i) || labels.is_null(i) {
                out.append_null();
                continue;
            }
            let model = models.get(paths.value(i))?;
            let key = Arc::as_ptr(&model) as usize;
            let label = labels.value(i);
            let index = match &last_label {
                Some((k, l, idx)) if *k == key && l == label => *idx,
                _ => {
                    let Some(idx) = model.label_index(label) else {
                        return exec_err!(
                            "{}: no label {label:?} (labels: {})",
                            model.path.display(),
                            model.labels().join(", ")
                        );
                    };
                    last_label = Some((key, label.to_string(), idx));
                    idx
                }
            };
            match model.predict(texts.value(i).as_bytes(), &mut scratch) {
                None => out.append_null(),
                Some(probs) => out.append_value(probs[index]),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

//! Making a Parquet or Arrow shard's columns fit the table schema (which may be wider, or
//! have turned a column into JSON text because shards disagree on its type): `conform` on
//! arrays, and `ConformExpr`, the same as a DataFusion expression, which `parquet_scan`'s
//! adapter puts wherever a file's column type is not the table's.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, ListArray, StringBuilder, StructArray, new_null_array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};

use std::fmt;
use std::hash::Hash;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;

use crate::dataset::jtype::is_json_field;
use crate::error::Result;
use crate::format::json_rows::encoder;

pub fn conform(array: &ArrayRef, from: &Field, to: &Field) -> Result<ArrayRef> {
    if is_json_field(to) {
        if is_json_field(from) {
            return Ok(cast(array, &DataType::Utf8)?);
        }
        return to_json_text(array, from);
    }
    if array.data_type() == to.data_type() {
        return Ok(Arc::clone(array));
    }
    match (array.data_type(), to.data_type()) {
        (DataType::Struct(_), DataType::Struct(target)) => {
            let s = array.as_struct();
            let mut children = Vec::with_capacity(target.len());
            for t in target.iter() {
                children.push(match s.fields().iter().position(|f| f.name() == t.name()) {
                    Some(i) => conform(s.column(i), &s.fields()[i], t)?,
                    None => new_null_array(t.data_type(), s.len()),
                });
            }
            Ok(Arc::new(StructArray::new(
                target.clone(),
                children,
                s.nulls().cloned(),
            )))
        }
        (DataType::List(_) | DataType::LargeList(_), DataType::List(item)) => {
            let list = cast(
                array,
                &DataType::List(Arc::new(Field::new("item", list_item_type(array), true))),
            )?;
            let list = list.as_list::<i32>();
            let from_item = match array.data_type() {
                DataType::List(f) | DataType::LargeList(f) => f.as_ref().clone(),
                _ => unreachable!(),
            };
            let values = conform(list.values(), &from_item, item)?;
            Ok(Arc::new(ListArray::new(
                Arc::clone(item),
                list.offsets().clone(),
                values,
                list.nulls().cloned(),
            )))
        }
        (_, target) => Ok(cast(array, target)?),
    }
}

fn list_item_type(array: &ArrayRef) -> DataType {
    match array.data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        other => other.clone(),
    }
}

fn to_json_text(array: &ArrayRef, from: &Field) -> Result<ArrayRef> {
    let enc = encoder(from, array.as_ref())?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 8);
    let mut buf = Vec::new();
    for i in 0..array.len() {
        if enc.is_null(i) {
            out.append_null();
        } else {
            buf.clear();
            enc.encode(i, &mut buf);
            out.append_value(std::str::from_utf8(&buf).expect("encoders write UTF-8"));
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `conform` as a physical expression: a file's column (`from`) made to fit the table's
/// field (`to`). DataFusion's own cast differs where pick's scan rules do: JSON text for
/// disagreeing types, nulls for missing struct fields, nulls (not errors) where a value
/// does not fit.
#[derive(Debug, Eq)]
pub struct ConformExpr {
    input: Arc<dyn PhysicalExpr>,
    from: Field,
    to: Field,
}

// By hand: derived `PartialEq` and `Hash` cannot see through `Arc<dyn PhysicalExpr>`
// (rust#78808).
impl PartialEq for ConformExpr {
    fn eq(&self, other: &Self) -> bool {
        self.input.eq(&other.input) && self.from == other.from && self.to == other.to
    }
}

impl Hash for ConformExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.from.hash(state);
        self.to.hash(state);
    }
}

impl ConformExpr {
    pub fn new(input: Arc<dyn PhysicalExpr>, from: Field, to: Field) -> ConformExpr {
        ConformExpr { input, from, to }
    }
}

impl fmt::Display for ConformExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conform({} AS {})", self.input, self.to.data_type())
    }
}

impl PhysicalExpr for ConformExpr {
    fn data_type(&self, _input_schema: &Schema) -> DfResult<DataType> {
        Ok(self.to.data_type().clone())
    }

    fn nullable(&self, _input_schema: &Schema) -> DfResult<bool> {
        Ok(true)
    }

    fn evaluate(&self, batch: &RecordBatch) -> DfResult<ColumnarValue> {
        let array = self.input.evaluate(batch)?.into_array(batch.num_rows())?;
        conform(&array, &self.from, &self.to)
            .map(ColumnarValue::Array)
            .map_err(crate::error::PickError::into_datafusion)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DfResult<Arc<dyn PhysicalExpr>> {
        let input = children.into_iter().next().expect("one child");
        Ok(Arc::new(ConformExpr::new(
            input,
            self.from.clone(),
            self.to.clone(),
        )))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conform(")?;
        self.input.fmt_sql(f)?;
        write!(f, " AS {})", self.to.data_type())
    }
}

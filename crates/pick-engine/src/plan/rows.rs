//! Expressions over a dataset's rows that several pipelines use: a value every row must have
//! (an error naming file and row otherwise), a jq value, a label as bonepick reads it.

use crate::dataset::Dataset;
use crate::error::{PickError, Result};
use crate::plan::{Params, ident};

/// `require_value(expr, 'what', '<root>/' || _file, _row)`: a row where `expr` is NULL is an
/// error naming its file and row.
pub fn required_value(p: &mut Params, dataset: &Dataset, expr: &str, what: &str) -> String {
    let what = p.str(what);
    let root = p.str(format!("{}/", dataset.root.display()));
    format!("require_value({expr}, {what}, {root} || _file, _row)")
}

/// `jq(_json, expr)` as JSON text, required: a row where the expression gives nothing (or
/// null) is an error naming its file and row.
pub fn required_jq(p: &mut Params, dataset: &Dataset, expr: &str, what: &str) -> String {
    let jq = format!("jq(_json, {})", p.str(expr));
    required_value(p, dataset, &jq, what)
}

/// The same, read as bonepick reads a label: Python's `str()` of the value.
pub fn required_label(p: &mut Params, dataset: &Dataset, expr: &str, what: &str) -> String {
    format!("label({}, '.')", required_jq(p, dataset, expr, what))
}

/// A top-level field every row must have.
pub fn required(p: &mut Params, dataset: &Dataset, field: &str) -> String {
    required_value(p, dataset, &ident(field), &format!("field {field:?}"))
}

/// The dataset's top-level fields (its columns without the virtual ones).
pub fn fields(dataset: &Dataset) -> Vec<&str> {
    (0..dataset.layout.data_fields)
        .map(|i| dataset.layout.schema.field(i).name().as_str())
        .collect()
}

/// Fails unless `field` is a top-level field of the dataset.
pub fn check_field(dataset: &Dataset, field: &str, flag: &str) -> Result<()> {
    let names = fields(dataset);
    if names.contains(&field) {
        return Ok(());
    }
    Err(PickError::Usage(format!(
        "{}: no field {field:?} (set it with {flag}); fields: {}",
        dataset.root.display(),
        names.join(", ")
    )))
}

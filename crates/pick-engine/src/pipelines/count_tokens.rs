//! `pick count-tokens`: tokens of one text expression summed over datasets (bonepick §7.7).

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use pick_text::tokenizer::bundled;
use serde::Serialize;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::plan::Params;
use crate::plan::rows::{fields, required, required_label};
use crate::session::Engine;
use crate::session::Exec;

#[derive(Debug, Clone)]
pub struct CountTokensParams {
    pub datasets: Vec<String>,
    /// A bundled tokenizer name or a tokenizer.json path.
    pub tokenizer: String,
    /// jq expression for the text of a row.
    pub expression: String,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Where the counting query runs.
    pub exec: Exec,
}

#[derive(Debug, Serialize)]
pub struct CountTokensReport {
    pub files: usize,
    pub tokens: i64,
    pub bytes: u64,
}

/// The SQL for the text an expression selects: a plain `.field` of text is read as a column,
/// anything else goes through jq on the row.
fn text_sql(params: &mut Params, dataset: &Dataset, expression: &str) -> String {
    let field = expression.trim().strip_prefix('.').filter(|f| {
        !f.is_empty()
            && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !f.starts_with(|c: char| c.is_ascii_digit())
    });
    if let Some(field) = field
        && let Ok(f) = dataset.layout.schema.field_with_name(field)
        && f.data_type().is_string()
        && fields(dataset).contains(&field)
    {
        return required(params, dataset, field);
    }
    required_label(params, dataset, expression, "text")
}

pub async fn run(p: &CountTokensParams, observer: &dyn Observer) -> Result<CountTokensReport> {
    bundled::load(&p.tokenizer).map_err(|e| PickError::Usage(e.to_string()))?;
    let mut report = CountTokensReport {
        files: 0,
        tokens: 0,
        bytes: 0,
    };
    for dir in &p.datasets {
        let dataset = Dataset::open(dir, p.read.clone())?;
        let size: u64 = dataset.shards.iter().map(|s| s.size).sum();
        observer.note(&format!(
            "Found {} files in {dir} ({})",
            dataset.shards.len(),
            crate::units::human_bytes(size as f64)
        ));
        let mut params = Params::default();
        let text = text_sql(&mut params, &dataset, &p.expression);
        let tokenizer = params.str(&p.tokenizer);
        let query = params.query(format!(
            "SELECT sum(token_count({text}, {tokenizer})) FROM t"
        ));
        observer.statement(&query.display());
        report.files += dataset.shards.len();
        report.bytes += size;
        let engine = Engine::open(dataset.options.clone(), p.partitions, &p.exec).await?;
        engine.register_dataset("t", dataset)?;
        let batches = {
            let _watch = crate::ops::watch::scan(&engine, observer.progress(size, "count"));
            engine.query(&query).await?.collect().await?
        };
        report.tokens += batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
            .sum::<i64>();
    }
    Ok(report)
}

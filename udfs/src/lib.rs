//! pick's SQL functions. Each function is a plain Rust kernel plus a thin DataFusion
//! wrapper in its own module; `register_all` is the one list of what exists.

pub mod aggregates;
pub mod fasttext;
pub mod fasttext_text;
pub mod jq;
pub mod jq_path;
pub mod json_set;
pub mod labels;
pub mod metrics;
pub mod pyfmt;
pub mod require;
pub mod seeded_random;
pub mod text;
pub mod tokenizer;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every scalar function pick adds to SQL.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(seeded_random::SeededRandom::new()),
        ScalarUDF::from(jq::JqFunction::jq()),
        ScalarUDF::from(jq::JqFunction::label()),
        ScalarUDF::from(labels::NormalizeLabel::new()),
        ScalarUDF::from(text::sql::Normalize::new()),
        ScalarUDF::from(require::RequireValue::new()),
        ScalarUDF::from(text::sql::TokenCount::new()),
        ScalarUDF::from(fasttext_text::FasttextText::new()),
        ScalarUDF::from(fasttext::FasttextPredict::new()),
        ScalarUDF::from(fasttext::FasttextScore::new()),
        ScalarUDF::from(json_set::JsonSet::new()),
    ]
}

/// Registers all of pick's functions with a DataFusion session.
pub fn register_all(ctx: &SessionContext) {
    for f in scalar_functions() {
        ctx.register_udf(f);
    }
    for f in aggregates::aggregate_functions() {
        ctx.register_udaf(f);
    }
}

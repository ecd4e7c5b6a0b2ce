//! pick's SQL functions: thin DataFusion wrappers over the kernels in `pick-text`, `pick-jq`,
//! `pick-fasttext`, `pick-model2vec`, `pick-metrics` and `pick-compat`, one module per function (the metric
//! aggregates share one accumulator). `register_all` is the one list of what exists.

pub mod aggregates;
pub mod fasttext;
pub mod fasttext_text;
pub mod jq;
pub mod json_set;
pub mod labels;
pub mod model2vec;
pub mod models;
pub mod require;
pub mod seeded_random;
pub mod text_sql;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every scalar function pick adds to SQL.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(seeded_random::SeededRandom::new()),
        ScalarUDF::from(jq::JqFunction::jq()),
        ScalarUDF::from(jq::JqFunction::label()),
        ScalarUDF::from(jq::JqFunction::merge()),
        ScalarUDF::from(labels::NormalizeLabel::new()),
        ScalarUDF::from(text_sql::Normalize::new()),
        ScalarUDF::from(require::RequireValue::new()),
        ScalarUDF::from(text_sql::TokenCount::new()),
        ScalarUDF::from(fasttext_text::FasttextText::new()),
        ScalarUDF::from(fasttext::FasttextPredict::new()),
        ScalarUDF::from(fasttext::FasttextScore::new()),
        ScalarUDF::from(json_set::JsonSet::new()),
        ScalarUDF::from(model2vec::Model2VecEmbed::new()),
        ScalarUDF::from(model2vec::Model2VecPredict::new()),
        ScalarUDF::from(model2vec::Model2VecScore::new()),
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

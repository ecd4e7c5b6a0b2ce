//! Query results as a terminal table.

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use pick_engine::Result;
use pick_engine::pipelines::eval_fasttext::EvalResult;

/// Longest cell text shown in a terminal table; the rest is cut with `…`.
const MAX_CELL_CHARS: usize = 80;

/// Renders batches as a terminal table: at most `max_rows` rows, then a count of the rest.
pub fn render_table(batches: &[RecordBatch], max_rows: usize) -> Result<String> {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    let Some(first) = batches.first() else {
        return Ok("(0 rows)".to_string());
    };
    if let Some(plans) = explain_text(batches) {
        return Ok(plans);
    }
    table.set_header(first.schema().fields().iter().map(|f| f.name().clone()));
    let options = FormatOptions::default().with_null("NULL");
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut shown = 0;
    'batches: for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            if shown == max_rows {
                break 'batches;
            }
            table.add_row(formatters.iter().map(|f| cell(&f.value(row).to_string())));
            shown += 1;
        }
    }
    let mut out = table.to_string();
    if total > shown {
        out.push_str(&format!(
            "\n({total} rows, {shown} shown; use -o FILE or --max-rows for all)"
        ));
    } else {
        out.push_str(&format!(
            "\n({total} row{})",
            if total == 1 { "" } else { "s" }
        ));
    }
    Ok(out)
}

/// EXPLAIN results print as their plans, whole, rather than as a table of cut cells.
fn explain_text(batches: &[RecordBatch]) -> Option<String> {
    let schema = batches.first()?.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if names != ["plan_type", "plan"] {
        return None;
    }
    let mut out = String::new();
    for batch in batches {
        let kinds = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()?;
        let plans = batch
            .column(1)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()?;
        for i in 0..batch.num_rows() {
            out.push_str(&format!("{}:\n{}\n\n", kinds.value(i), plans.value(i)));
        }
    }
    Some(out.trim_end().to_string())
}

fn cell(text: &str) -> String {
    let one_line = text
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    if one_line.chars().count() > MAX_CELL_CHARS {
        let cut: String = one_line.chars().take(MAX_CELL_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// The results as a terminal table, with the macro averages last.
pub fn classification_table(r: &EvalResult) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["class", "precision", "recall", "f1", "support", "auc"]);
    let f = |v: f64| format!("{v:.4}");
    let auc = |v: Option<f64>| v.map_or("-".to_string(), f);
    for c in &r.classes {
        t.add_row([
            c.class.clone(),
            f(c.precision),
            f(c.recall),
            f(c.f1),
            c.support.to_string(),
            auc(c.auc),
        ]);
    }
    let total: u64 = r.classes.iter().map(|c| c.support).sum();
    t.add_row([
        "macro".to_string(),
        f(r.macro_precision),
        f(r.macro_recall),
        f(r.macro_f1),
        total.to_string(),
        auc(r.macro_auc),
    ]);
    t
}

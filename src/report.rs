//! What users see: result tables, progress bars, resource figures.

use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Result;

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

/// A byte-counting progress bar on stderr; hidden when stderr is not a terminal or `quiet`.
pub fn progress(total_bytes: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `1234567` as `1,234,567`, the way bonepick's reports print counts.
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(-1234), "-1,234");
    }
}

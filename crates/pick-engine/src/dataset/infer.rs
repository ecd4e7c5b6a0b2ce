//! Schema inference: the table schema is the merge (see `jtype`) of the first rows of every
//! JSON shard and the schemas of every Parquet shard.

use std::sync::Arc;

use arrow::datatypes::Schema;

use crate::dataset::discover::{Shard, ShardFormat};
use crate::dataset::jtype::{JType, TypeOf, schema_of};
use crate::dataset::lines::{Chunker, is_blank, lines};
use crate::error::{PickError, Result};

/// Rows of each JSON shard read to infer the schema, unless told otherwise: enough to see
/// every field of typical annotated corpora, few enough that inference costs a few percent
/// of a scan.
pub const DEFAULT_INFER_ROWS: u64 = 1_000;

/// How many rows of each JSON shard inference reads; `None` reads them all.
#[derive(Debug, Clone, Copy)]
pub struct InferRows(pub Option<u64>);

impl Default for InferRows {
    fn default() -> Self {
        InferRows(Some(DEFAULT_INFER_ROWS))
    }
}

impl InferRows {
    pub fn describe(self) -> String {
        match self.0 {
            Some(n) => format!(
                "the schema was inferred from the first {n} rows of each shard; \
                 --infer-rows 0 reads them all, --skip-bad-rows leaves such rows out"
            ),
            None => "the schema was inferred from every row".to_string(),
        }
    }
}

/// The schema of `shards`: each shard's rows (up to `rows` of them) merged. A row that is not a
/// JSON object is an error naming its file and line, as the scan reports it, unless
/// `skip_bad` (then the scan counts it).
pub fn infer_schema(shards: &[Arc<Shard>], rows: InferRows, skip_bad: bool) -> Result<Schema> {
    // Shards in a store are read at the speed of request latency, not of the cores.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let remote = shards.iter().any(|s| s.object.is_some());
    let threads = if remote { cores.max(16) } else { cores }.min(shards.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    /// Each thread's shards: (shard index, row type).
    type Found = Vec<(usize, Vec<(String, JType)>)>;
    let results: Vec<Result<Found>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(shard) = shards.get(i) else { break };
                        out.push((i, infer_shard(shard, rows, skip_bad)?));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("inference thread"))
            .collect()
    });
    let mut per_shard = Vec::new();
    for r in results {
        per_shard.extend(r?);
    }
    // Merge in shard order so column order is the same on every run.
    per_shard.sort_by_key(|(i, _)| *i);
    let merged = per_shard
        .into_iter()
        .fold(JType::Struct(vec![]), |acc, (_, row)| {
            acc.merge(JType::Struct(row))
        });
    let JType::Struct(fields) = merged else {
        unreachable!("rows merge to a struct")
    };
    Ok(schema_of(&fields))
}

fn infer_shard(
    shard: &Arc<Shard>,
    rows: InferRows,
    skip_bad: bool,
) -> Result<Vec<(String, JType)>> {
    match shard.format {
        ShardFormat::Parquet => Ok(crate::dataset::source::parquet_schema(shard)?
            .fields()
            .iter()
            .map(|f| (f.name().clone(), JType::from_field(f)))
            .collect()),
        ShardFormat::Arrow => Ok(crate::dataset::source::arrow_batches(shard)?
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), JType::from_field(f)))
            .collect()),
        ShardFormat::JsonLines(codec) => {
            let mut chunker = Chunker::new(Arc::clone(shard), codec)?;
            let mut row_type = JType::Struct(vec![]);
            let mut seen = 0u64;
            'chunks: while let Some(chunk) = chunker.next_chunk()? {
                for (line_no, line) in lines(&chunk.data, chunk.first_line) {
                    if rows.0.is_some_and(|limit| seen >= limit) {
                        break 'chunks;
                    }
                    if is_blank(line) {
                        continue;
                    }
                    seen += 1;
                    let typed = std::str::from_utf8(line)
                        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
                        .and_then(|text| type_of_row(text.trim_ascii()));
                    match typed {
                        Ok(t @ JType::Struct(_)) => row_type = row_type.merge(t),
                        Ok(_) | Err(_) if skip_bad => {}
                        Ok(_) => {
                            return Err(PickError::BadRow {
                                file: shard.rel.clone(),
                                line: line_no,
                                message: "expected a JSON object".into(),
                            });
                        }
                        Err(message) => {
                            return Err(PickError::BadRow {
                                file: shard.rel.clone(),
                                line: line_no,
                                message,
                            });
                        }
                    }
                }
            }
            match row_type {
                JType::Struct(fields) => Ok(fields),
                _ => Ok(vec![]),
            }
        }
    }
}

/// The JSON type of a row. serde_json refuses lone UTF-16 surrogate escapes, which the scan reads
/// as U+FFFD; for their type it is enough to read every surrogate escape as `\ufffd`.
fn type_of_row(text: &str) -> std::result::Result<JType, String> {
    match serde_json::from_str::<TypeOf>(text) {
        Ok(TypeOf(t)) => Ok(t),
        Err(e) if text.contains("\\u") => {
            serde_json::from_str::<TypeOf>(&without_surrogate_escapes(text))
                .map(|t| t.0)
                .map_err(|_| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
    // serde_json counts lines inside the row; the row's own line is in the error's place.
    .map_err(|m| match m.rsplit_once(" at line 1 column ") {
        Some((what, col)) => format!("{what} at column {col}"),
        None => m,
    })
}

fn without_surrogate_escapes(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        // All six bytes ASCII (`\uDxxx` with four hex digits), so the cut after them falls
        // between characters; a malformed escape is left for the JSON parser to report.
        let is_surrogate = b[i + 1] == b'u'
            && b.len() >= i + 6
            && matches!(b[i + 2], b'd' | b'D')
            && matches!(b[i + 3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            && b[i + 4].is_ascii_hexdigit()
            && b[i + 5].is_ascii_hexdigit();
        if is_surrogate {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 2;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod surrogate_tests {
    #[test]
    fn surrogate_escapes_are_masked_for_typing_only() {
        let row = r#"{"a":"x\ud800y\\ud800 \uDC00\u00e9"}"#;
        assert_eq!(
            super::without_surrogate_escapes(row),
            r#"{"a":"x\ufffdy\\ud800 \ufffd\u00e9"}"#
        );
        assert!(super::type_of_row(row).is_ok());
        // A cut escape before a multi-byte character (found by fuzzing: a panic).
        let cut = "{\"\\udc0\u{ec00}0\": 1}";
        assert_eq!(super::without_surrogate_escapes(cut), cut);
    }
}

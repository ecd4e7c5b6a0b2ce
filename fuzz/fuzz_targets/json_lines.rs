//! The JSON-lines reader: the bytes are one shard's file (plain, or zstd/gzip when they start
//! with that format's magic number); the schema is inferred from it, then every chunk is decoded
//! with that schema, as a scan does.
//!
//! Errors are expected (they are how bad rows are reported); a panic is a bug. Checked always:
//! a decoded batch has one row per non-blank line, less the rows `--skip-bad-rows` counted.
//! And: when inference read every row without complaint, decoding
//! with that schema succeeds (the schema is the merge of every row's type, so every row fits).

#![no_main]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use pick_engine::dataset::decode::{Projection, TableLayout, decode_chunk};
use pick_engine::dataset::infer::{InferRows, infer_schema};
use pick_engine::dataset::lines::{Chunker, LineChunk, is_blank, lines};
use pick_engine::dataset::{Codec, Shard, ShardFormat};

/// Chunks read per input at most (4 MiB each): a small compressed input can expand a lot.
const MAX_CHUNKS: usize = 16;

/// A directory of this process's own (libFuzzer's `-fork`/`-jobs` run several processes).
fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pick-fuzz-json-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
        dir
    })
}

fn non_blank_lines(chunk: &LineChunk) -> u64 {
    lines(&chunk.data, chunk.first_line)
        .filter(|(_, line)| !is_blank(line))
        .count() as u64
}

fuzz_target!(|data: &[u8]| {
    let (codec, name) = if data.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        (Codec::Zstd, "shard.jsonl.zst")
    } else if data.starts_with(&[0x1F, 0x8B]) {
        (Codec::Gzip, "shard.jsonl.gz")
    } else {
        (Codec::Plain, "shard.jsonl")
    };
    let path = scratch_dir().join(name);
    std::fs::write(&path, data).expect("write the shard");
    let shard = Arc::new(Shard {
        path,
        rel: format!("train/{name}"),
        split: Some("train".to_string()),
        format: ShardFormat::JsonLines(codec),
        size: data.len() as u64,
    });
    let shards = vec![Arc::clone(&shard)];

    // The schemas a scan could run with: inferred from every row (strictly, or leaving bad rows
    // out when there are some), and from the first two rows only (later rows may not fit).
    let mut schemas = Vec::new();
    match infer_schema(&shards, InferRows(None), false) {
        Ok(schema) => schemas.push((schema, InferRows(None), true)),
        Err(_) => {
            if let Ok(schema) = infer_schema(&shards, InferRows(None), true) {
                schemas.push((schema, InferRows(None), false));
            }
        }
    }
    if let Ok(schema) = infer_schema(&shards, InferRows(Some(2)), true) {
        schemas.push((schema, InferRows(Some(2)), false));
    }
    if schemas.is_empty() {
        return;
    }

    // The chunks, read once and decoded under every schema and projection.
    let Ok(mut chunker) = Chunker::new(Arc::clone(&shard), codec) else {
        return;
    };
    let mut chunks = Vec::new();
    while chunks.len() < MAX_CHUNKS {
        match chunker.next_chunk() {
            Ok(Some(chunk)) => chunks.push(chunk),
            Ok(None) | Err(_) => break,
        }
    }

    for (schema, rows, all_rows_fit) in schemas {
        let layout = TableLayout::new(schema, rows.describe());
        let width = layout.schema.fields().len();
        // Every column, and the virtual columns alone (rows are then checked, not parsed).
        let every: Vec<usize> = (0..width).collect();
        let virtual_only: Vec<usize> = (layout.data_fields..width).collect();
        for indices in [&every, &virtual_only] {
            let Ok(projection) = Projection::new(&layout, Some(indices)) else {
                continue;
            };
            for skip_bad in [false, true] {
                let bad = AtomicU64::new(0);
                for chunk in &chunks {
                    let before = bad.load(Ordering::Relaxed);
                    match decode_chunk(&layout, &projection, chunk, skip_bad, &bad) {
                        Ok(batch) => {
                            let skipped = bad.load(Ordering::Relaxed) - before;
                            let want = non_blank_lines(chunk);
                            assert_eq!(
                                batch.num_rows() as u64 + skipped,
                                want,
                                "a batch of {} rows with {skipped} skipped, for {want} non-blank \
                                 lines (skip_bad {skip_bad}, columns {indices:?})",
                                batch.num_rows(),
                            );
                            assert_eq!(batch.num_columns(), indices.len());
                            if !skip_bad {
                                assert_eq!(skipped, 0, "rows skipped without skip_bad");
                            }
                        }
                        Err(e) => {
                            if all_rows_fit {
                                panic!(
                                    "inference read every row without complaint, but decoding \
                                     with its schema failed (skip_bad {skip_bad}, columns \
                                     {indices:?}): {e}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
});

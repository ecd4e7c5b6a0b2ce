//! `cargo bench --bench scan`: pick's scan throughput on data-samples (JSON lines and a
//! Parquet copy) through the library. For the comparison with DuckDB and Polars on a 2 GB
//! corpus run `bash benches/scan.sh`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::TryStreamExt;
use pick_engine::pipelines::export::{ExportParams, run as export};
use pick_engine::write::OutputFormat;
use pick_engine::{Engine, Silent};

const QUERIES: &[(&str, &str)] = &[
    ("count(*)", "SELECT count(*) FROM t"),
    (
        "filter nested",
        "SELECT count(*) FROM t WHERE t.metadata.code_quality.score >= 4",
    ),
    (
        "group by",
        "SELECT t.metadata.code_quality.score, count(*) FROM t GROUP BY 1",
    ),
];

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data-samples");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let parquet = tempfile::tempdir().expect("temp dir");
    rt.block_on(export(
        &ExportParams {
            input: root.to_string(),
            output: parquet.path().to_path_buf(),
            format: OutputFormat::Parquet,
            filter: None,
            columns: vec![],
            partitions: 0,
            read: Default::default(),
            overwrite: false,
            exec: Default::default(),
        },
        &Silent,
    ))
    .expect("export");
    let parquet_dir = parquet.path().to_string_lossy().to_string();
    println!("| format | query | rows/s | MB/s of JSON text |\n|---|---|---:|---:|");
    let mut text_bytes = 0u64;
    for (format, dir) in [("jsonl.zst", root), ("parquet", parquet_dir.as_str())] {
        for (name, sql) in QUERIES {
            let mut best = f64::MAX;
            let mut rows = 0;
            for _ in 0..5 {
                let engine = Engine::new(Default::default(), 0).expect("engine");
                let table = engine.register("t", dir).expect("register");
                let started = Instant::now();
                rt.block_on(async {
                    let df = engine.sql(sql).await.expect("plan");
                    let _: Vec<_> = df
                        .execute_stream()
                        .await
                        .expect("run")
                        .try_collect()
                        .await
                        .expect("rows");
                });
                best = best.min(started.elapsed().as_secs_f64());
                let stats = &table.dataset().stats;
                rows = stats.rows.load(Ordering::Relaxed);
                if format == "jsonl.zst" {
                    text_bytes = stats.decoded_bytes.load(Ordering::Relaxed);
                }
            }
            println!(
                "| {format} | {name} | {:.0} | {:.0} |",
                rows as f64 / best,
                text_bytes as f64 / 1e6 / best
            );
        }
    }
}

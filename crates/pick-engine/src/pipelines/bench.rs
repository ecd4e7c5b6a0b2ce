//! `pick bench scan`: scan throughput over a dataset and its Parquet copy, each query in a
//! fresh process (so peak RSS is per query), beside DuckDB and Polars on the same files.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::plan::ident;
use crate::session::Engine;
use crate::write::write_file;

#[derive(Debug, Clone)]
pub struct ScanParams {
    /// Dataset of JSON-lines shards.
    pub dir: String,
    /// Its Parquet copy; made in a temporary directory if absent.
    pub parquet: Option<PathBuf>,
    /// Nested numeric field (dotted path) the filter and GROUP BY use.
    pub field: String,
    pub runs: usize,
    /// Python with duckdb and polars, to run the peers.
    pub python: Option<PathBuf>,
    pub peers_script: PathBuf,
    pub json: Option<PathBuf>,
    /// The pick executable each measurement runs (`pick bench query`).
    pub exe: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct ScanReport {
    pub rows: Vec<Row>,
    /// The JSON text's size, for MB/s as text.
    pub text_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub seconds: f64,
    pub peak_rss: u64,
    pub result: String,
    #[serde(default)]
    pub rows_scanned: u64,
    #[serde(default)]
    pub stored_bytes: u64,
    #[serde(default)]
    pub decoded_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub format: String,
    pub query: String,
    pub pick: Measurement,
    pub duckdb: Option<Measurement>,
    pub polars: Option<Measurement>,
}

/// One timed query over the dataset at `path` (registered as `t`), in this process.
pub async fn query(path: &str, sql: &str) -> Result<Measurement> {
    let engine = Engine::new(Default::default(), 0)?;
    let started = Instant::now();
    engine.register("t", path)?;
    let df = engine.sql(sql).await?;
    let batches: Vec<_> = df.execute_stream().await?.try_collect().await?;
    let seconds = started.elapsed().as_secs_f64();
    let result = arrow::util::pretty::pretty_format_batches(&batches)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let (_, ds) = engine.datasets().pop().expect("registered");
    let m = Measurement {
        seconds,
        peak_rss: crate::units::peak_rss_bytes().unwrap_or(0),
        result: canonical_result(&result),
        rows_scanned: ds.stats.rows.load(Ordering::Relaxed),
        stored_bytes: ds.stats.stored_bytes.load(Ordering::Relaxed),
        decoded_bytes: ds.stats.decoded_bytes.load(Ordering::Relaxed),
    };
    Ok(m)
}

/// Query results as sorted "a|b" lines, so engines can be compared whatever their output.
fn canonical_result(table: &str) -> String {
    let mut lines: Vec<String> = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    lines.sort();
    lines.join(";")
}

fn queries(field: &str) -> Vec<(&'static str, String)> {
    // The dotted path as quoted identifiers: the user's text names fields, it is not SQL.
    let field = field.split('.').map(ident).collect::<Vec<_>>().join(".");
    vec![
        ("count(*)", "SELECT count(*) FROM t".to_string()),
        (
            "filter nested",
            format!("SELECT count(*) FROM t WHERE t.{field} >= 4"),
        ),
        (
            "group by",
            format!("SELECT t.{field} AS k, count(*) AS n FROM t GROUP BY 1"),
        ),
    ]
}

fn run_child(cmd: &mut Command) -> Result<Measurement> {
    let out = cmd
        .output()
        .map_err(|e| PickError::Usage(format!("cannot run {:?}: {e}", cmd.get_program())))?;
    if !out.status.success() {
        return Err(PickError::Usage(format!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .map_err(|e| PickError::Usage(format!("bad measurement `{line}`: {e}")))
}

fn best(runs: usize, mut f: impl FnMut() -> Result<Measurement>) -> Result<Measurement> {
    let mut best: Option<Measurement> = None;
    for _ in 0..runs.max(1) {
        let m = f()?;
        best = Some(match best {
            Some(b) if b.seconds <= m.seconds => Measurement {
                peak_rss: b.peak_rss.max(m.peak_rss),
                ..b
            },
            Some(b) => Measurement {
                peak_rss: b.peak_rss.max(m.peak_rss),
                ..m
            },
            None => m,
        });
    }
    Ok(best.expect("at least one run"))
}

pub async fn scan(args: &ScanParams, observer: &dyn Observer) -> Result<ScanReport> {
    let exe = &args.exe;
    let parquet_dir = match &args.parquet {
        Some(p) => p.clone(),
        None => {
            let tmp =
                std::env::temp_dir().join(format!("pick-bench-parquet-{}", std::process::id()));
            // The copy is made by `pick export` itself, as a user would make it.
            let tmp_arg = tmp.to_string_lossy();
            let status = Command::new(exe)
                .args(["export", "-q", "-i", &args.dir, "-o", &tmp_arg])
                .status()
                .map_err(|e| PickError::Usage(format!("cannot run {}: {e}", exe.display())))?;
            if !status.success() {
                return Err(PickError::Failed(format!(
                    "pick export -i {} -o {tmp_arg} failed",
                    args.dir
                )));
            }
            tmp
        }
    };
    let parquet = parquet_dir.to_string_lossy().to_string();
    let mut rows = Vec::new();
    let mut text_bytes = 0u64;
    for (format, path) in [
        ("jsonl.zst", args.dir.as_str()),
        ("parquet", parquet.as_str()),
    ] {
        for (name, sql) in queries(&args.field) {
            observer.note(&format!("pick {format} {name} ..."));
            let pick = best(args.runs, || {
                run_child(Command::new(exe).args(["bench", "query", "--path", path, "--sql", &sql]))
            })?;
            if format == "jsonl.zst" {
                text_bytes = pick.decoded_bytes.max(text_bytes);
            }
            let peer = |engine: &str| -> Result<Option<Measurement>> {
                let Some(py) = &args.python else {
                    return Ok(None);
                };
                if format != "jsonl.zst" {
                    return Ok(None);
                }
                observer.note(&format!("{engine} {format} {name} ..."));
                best(args.runs, || {
                    run_child(Command::new(py).arg(&args.peers_script).args([
                        "--engine",
                        engine,
                        "--dir",
                        path,
                        "--query",
                        name,
                        "--field",
                        &args.field,
                    ]))
                })
                .map(Some)
            };
            let duckdb = peer("duckdb")?;
            let polars = peer("polars")?;
            for (peer_name, m) in [("duckdb", &duckdb), ("polars", &polars)] {
                if let Some(m) = m
                    && m.result != pick.result
                {
                    observer.note(&format!(
                        "warning: {peer_name} disagrees on {name}: pick {} vs {peer_name} {}",
                        pick.result, m.result
                    ));
                }
            }
            rows.push(Row {
                format: format.to_string(),
                query: name.to_string(),
                pick,
                duckdb,
                polars,
            });
        }
    }
    if args.parquet.is_none() {
        let _ = std::fs::remove_dir_all(&parquet_dir);
    }
    if let Some(path) = &args.json {
        write_file(path, pick_compat::json::to_string_pretty(&rows).as_bytes())?;
    }
    Ok(ScanReport { rows, text_bytes })
}

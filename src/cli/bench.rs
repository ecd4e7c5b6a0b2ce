//! `pick bench scan`: scan throughput over a dataset and its Parquet copy, each query in a
//! fresh process (so peak RSS is per query), beside DuckDB and Polars on the same files.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::cli::ReadArgs;
use crate::cli::export::{ExportArgs, ExportFormat};
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::report::human_bytes;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// count(*), a filter on a nested field, and a GROUP BY, over JSON lines and Parquet.
    Scan(ScanArgs),
    /// One timed query in this process (what `bench scan` runs per measurement).
    #[command(hide = true)]
    Query(QueryArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Dataset of JSON-lines shards.
    pub dir: String,

    /// Its Parquet copy; made with `pick export` into a temporary directory if absent.
    #[arg(long, value_name = "DIR")]
    pub parquet: Option<PathBuf>,

    /// Nested numeric field the filter and GROUP BY use, as a dotted path.
    #[arg(long, default_value = "metadata.code_quality.score")]
    pub field: String,

    /// Runs per measurement; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,

    /// Python with duckdb and polars installed, to run the peers.
    #[arg(long, value_name = "PYTHON")]
    pub python: Option<PathBuf>,

    /// The peer script (benches/scan_peers.py).
    #[arg(long, value_name = "FILE", default_value = "benches/scan_peers.py")]
    pub peers_script: PathBuf,

    /// Write the measurements as JSON here too.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[arg(long)]
    pub path: String,
    #[arg(long)]
    pub sql: String,
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
struct Row {
    format: String,
    query: String,
    pick: Measurement,
    duckdb: Option<Measurement>,
    polars: Option<Measurement>,
}

pub async fn run(cmd: BenchCommand, quiet: bool) -> Result<()> {
    match cmd {
        BenchCommand::Query(args) => query(args).await,
        BenchCommand::Scan(args) => scan(args, quiet).await,
    }
}

async fn query(args: QueryArgs) -> Result<()> {
    let engine = Engine::new(Default::default(), 0);
    let started = Instant::now();
    engine.register("t", &args.path)?;
    let df = engine.sql(&args.sql).await?;
    let batches: Vec<_> = df.execute_stream().await?.try_collect().await?;
    let seconds = started.elapsed().as_secs_f64();
    let result = arrow::util::pretty::pretty_format_batches(&batches)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let (_, ds) = engine.datasets().pop().expect("registered");
    let m = Measurement {
        seconds,
        peak_rss: crate::report::peak_rss_bytes().unwrap_or(0),
        result: canonical_result(&result),
        rows_scanned: ds.stats.rows.load(Ordering::Relaxed),
        stored_bytes: ds.stats.stored_bytes.load(Ordering::Relaxed),
        decoded_bytes: ds.stats.decoded_bytes.load(Ordering::Relaxed),
    };
    println!("{}", serde_json::to_string(&m).expect("serialisable"));
    Ok(())
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

async fn scan(args: ScanArgs, quiet: bool) -> Result<()> {
    let exe = std::env::current_exe().map_err(|e| PickError::io("current executable", e))?;
    let parquet_dir = match &args.parquet {
        Some(p) => p.clone(),
        None => {
            let tmp =
                std::env::temp_dir().join(format!("pick-bench-parquet-{}", std::process::id()));
            crate::cli::export::run(
                ExportArgs {
                    input: args.dir.clone(),
                    output: tmp.clone(),
                    format: ExportFormat::Parquet,
                    filter: None,
                    columns: vec![],
                    read: ReadArgs {
                        skip_bad_rows: false,
                        infer_rows: crate::dataset::infer::DEFAULT_INFER_ROWS,
                    },
                },
                quiet,
            )
            .await?;
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
            if !quiet {
                eprintln!("pick {format} {name} ...");
            }
            let pick = best(args.runs, || {
                run_child(
                    Command::new(&exe).args(["bench", "query", "--path", path, "--sql", &sql]),
                )
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
                if !quiet {
                    eprintln!("{engine} {format} {name} ...");
                }
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
                    eprintln!(
                        "warning: {peer_name} disagrees on {name}: pick {} vs {peer_name} {}",
                        pick.result, m.result
                    );
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
    println!("{}", markdown(&rows, text_bytes));
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&rows).expect("serialisable"),
        )
        .map_err(|e| PickError::io(path, e))?;
    }
    Ok(())
}

fn markdown(rows: &[Row], text_bytes: u64) -> String {
    let mut out = String::from(
        "| format | query | rows | pick s | rows/s | MB/s stored | MB/s as JSON text | pick peak RSS | DuckDB s (RSS) | Polars s (RSS) | pick vs DuckDB | pick vs Polars |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mb = |bytes: u64, s: f64| bytes as f64 / 1e6 / s;
    for r in rows {
        let p = &r.pick;
        let peer = |m: &Option<Measurement>| {
            m.as_ref().map_or("-".into(), |m| {
                format!("{:.3} ({})", m.seconds, human_bytes(m.peak_rss as f64))
            })
        };
        let ratio = |m: &Option<Measurement>| {
            m.as_ref()
                .map_or("-".into(), |m| format!("{:.2}x", m.seconds / p.seconds))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} |\n",
            r.format,
            r.query,
            p.rows_scanned,
            p.seconds,
            p.rows_scanned as f64 / p.seconds,
            mb(p.stored_bytes, p.seconds),
            mb(text_bytes, p.seconds),
            human_bytes(p.peak_rss as f64),
            peer(&r.duckdb),
            peer(&r.polars),
            ratio(&r.duckdb),
            ratio(&r.polars),
        ));
    }
    out
}

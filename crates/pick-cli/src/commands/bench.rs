//! `pick bench scan`: scan throughput over a dataset and its Parquet copy, beside DuckDB and
//! Polars on the same files.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use pick_engine::pipelines::bench::{Measurement, Row, ScanParams, query, scan};
use pick_engine::units::human_bytes;
use pick_engine::{PickError, Result};

use crate::args::Globals;
use crate::output::Out;

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
    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 3)]
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

pub async fn run(cmd: BenchCommand, g: Globals) -> Result<()> {
    match cmd {
        BenchCommand::Query(args) => {
            let m = query(&args.path, &args.sql).await?;
            Out.line(pick_compat::json::to_string(&m))
        }
        BenchCommand::Scan(args) => {
            let exe =
                std::env::current_exe().map_err(|e| PickError::io("current executable", e))?;
            let params = ScanParams {
                dir: args.dir,
                parquet: args.parquet,
                field: args.field,
                runs: args.runs,
                python: args.python,
                peers_script: args.peers_script,
                json: args.json,
                exe,
            };
            let r = scan(&params, &g.observer(false)).await?;
            Out.line(markdown(&r.rows, r.text_bytes))
        }
    }
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

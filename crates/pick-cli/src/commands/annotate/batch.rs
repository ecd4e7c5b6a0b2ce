//! `pick batch-annotate-submit` / `batch-annotate-retrieve`: annotation through the OpenAI
//! Batch API (bonepick §8.5), with exactly `--limit-rows` requests (B24), a resumable
//! retrieve, and failed or expired requests kept as failures.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::batch_annotate::{RetrieveParams, SubmitParams, retrieve, submit};

use crate::args::Globals;
use crate::commands::annotate::{EndpointArgs, RowsArgs};
use crate::output::{Out, Terminal};

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Directory for the batch's files (rows, requests, manifest.json); must be new or empty,
    /// and on this machine (not a URL).
    #[arg(short = 'b', long = "batch-dir", value_name = "DIR", value_parser = crate::flags::local_path)]
    pub batch_dir: PathBuf,

    /// Requests per batch.
    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 50_000, value_name = "N")]
    pub annotation_batch_size: u64,

    /// Accepted for bonepick's command lines.
    #[arg(value_parser = crate::flags::py_int::<usize>, short = 'p', long = "num-proc", hide = true)]
    pub num_proc: Option<usize>,

    /// Orders the input files before `--limit-rows` takes rows.
    #[arg(value_parser = crate::flags::py_int::<i64>, long, default_value_t = 0)]
    pub seed: i64,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub rows: RowsArgs,

    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

#[derive(Debug, Args)]
pub struct RetrieveArgs {
    /// The directory `batch-annotate-submit` wrote (on this machine).
    #[arg(short = 'b', long = "batch-dir", value_name = "DIR", value_parser = crate::flags::local_path)]
    pub batch_dir: PathBuf,

    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Seconds to wait for unfinished batches before giving up (exit 1, results kept).
    #[arg(value_parser = crate::flags::py_float, long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Seconds between polls.
    #[arg(value_parser = crate::flags::py_float, long, default_value_t = 10.0, value_name = "SECONDS")]
    pub poll_interval: f64,

    /// Accepted for bonepick's command lines: failed and expired batches never stop pick;
    /// their rows are written with the reason under `<prompt>_error`.
    #[arg(long, hide = true)]
    pub skip_failed_batches: bool,

    /// Write now: rows of batches still running are recorded as failed.
    #[arg(long)]
    pub skip_in_progress: bool,

    #[arg(value_parser = crate::flags::py_int::<usize>, short = 'p', long = "num-proc", hide = true)]
    pub num_proc: Option<usize>,

    /// Replace the output directory if it is not empty.
    #[arg(long)]
    pub overwrite: bool,

    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

fn backoff() -> Duration {
    std::env::var("PICK_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

pub async fn run_submit(args: SubmitArgs, g: Globals) -> Result<()> {
    let params = SubmitParams {
        rows: args.rows.spec(None),
        batch_dir: args.batch_dir,
        endpoint: args.endpoint.endpoint(),
        batch_size: args.annotation_batch_size,
        seed: args.seed,
        backoff: backoff(),
    };
    let observer = Terminal {
        quiet: g.quiet,
        show_sql: false,
    };
    let r = submit(&params, &observer).await?;
    if args.json {
        return Out.line(pick_compat::json::to_string_pretty(&r));
    }
    if !g.quiet {
        eprintln!(
            "{} requests from {} rows of {} files in {} batches under {} ({} already annotated, {} past --limit-rows)",
            r.requests,
            r.rows,
            r.files,
            r.batches.len(),
            r.batch_dir.display(),
            r.already_annotated,
            r.over_limit
        );
    }
    Ok(())
}

pub async fn run_retrieve(args: RetrieveArgs, g: Globals) -> Result<()> {
    let params = RetrieveParams {
        batch_dir: args.batch_dir,
        output: args.output,
        endpoint: args.endpoint.endpoint(),
        timeout: args.timeout.map(|t| Duration::from_secs_f64(t.max(0.0))),
        poll_every: Duration::from_secs_f64(args.poll_interval.max(0.01)),
        skip_in_progress: args.skip_in_progress,
        overwrite: args.overwrite,
        backoff: backoff(),
    };
    let observer = Terminal {
        quiet: g.quiet,
        show_sql: false,
    };
    let r = retrieve(&params, &observer).await?;
    if args.json {
        return Out.line(pick_compat::json::to_string_pretty(&r));
    }
    if !g.quiet {
        eprintln!(
            "wrote {} rows of {} files to {}: {} answered, {} failed, {} passed through",
            r.rows,
            r.files,
            r.output.display(),
            r.answered,
            r.failed,
            r.passed_through
        );
    }
    Ok(())
}

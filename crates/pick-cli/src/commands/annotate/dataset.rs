//! `pick annotate-dataset`: every row gains `<prompt>: <answer>` from an LLM (bonepick §8.2),
//! streamed through any OpenAI-compatible endpoint with a cache of answers.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::annotate::{AnnotateParams, AnnotateReport, run, show_prompt};
use pick_llm::client::Limits;

use crate::args::Globals;
use crate::commands::annotate::{EndpointArgs, RowsArgs, default_cache_dir};
use crate::output::Out;

/// OpenAI's service tiers (`standard`, the name on its pricing page, is sent as `default`);
/// other names pass through for gateways that have their own.
fn parse_tier(s: &str) -> std::result::Result<String, String> {
    match s {
        "standard" => Ok("default".into()),
        "" => Err("an empty service tier".into()),
        other => Ok(other.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct AnnotateArgs {
    /// Directory to write the annotated rows to.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Directory of the answer cache, a SQLite file on this machine (not a URL) [default, and
    /// with no DIR: the user cache directory, pick/annotate].
    #[arg(short = 'c', long = "cache-location", value_name = "DIR", value_parser = crate::flags::local_path)]
    pub cache_location: Option<Option<PathBuf>>,

    /// `auto`, `default` (or `standard`), `flex`, `priority`, ...: price and latency, not the
    /// answer (not part of the cache key).
    #[arg(short = 'e', long = "service-tier", value_parser = parse_tier, value_name = "TIER")]
    pub service_tier: Option<String>,

    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 10_000, value_name = "N")]
    pub max_requests_per_minute: u64,

    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 100_000_000, value_name = "N")]
    pub max_tokens_per_minute: u64,

    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 1000, value_name = "N")]
    pub max_concurrent_requests: usize,

    /// Accepted for bonepick's command lines; pick streams rows instead of sending waves.
    #[arg(value_parser = crate::flags::py_int::<u64>, long, hide = true)]
    pub annotation_batch_size: Option<u64>,

    #[arg(
        long = "show-progress",
        overrides_with = "show_no_progress",
        hide = true
    )]
    pub show_progress: bool,
    /// No progress bar.
    #[arg(long = "show-no-progress")]
    pub show_no_progress: bool,

    /// Neither read nor write the answer cache.
    #[arg(long = "disable-cache", overrides_with = "enable_cache")]
    pub disable_cache: bool,
    #[arg(long = "enable-cache", hide = true)]
    pub enable_cache: bool,

    /// Seconds one request may take, the whole answer read (long reasoning outputs need minutes).
    #[arg(value_parser = crate::flags::py_float, long, default_value_t = 600.0, value_name = "SECONDS")]
    pub request_timeout: f64,

    /// Tries per row before it is recorded as failed (429, 5xx, timeouts, invalid answers).
    #[arg(value_parser = crate::flags::py_int::<u32>, long, default_value_t = 5, value_name = "N")]
    pub max_attempts: u32,

    /// Dollars per million prompt and completion tokens, for the cost line: `IN,OUT`.
    #[arg(long, value_name = "IN,OUT", value_parser = parse_prices)]
    pub price_per_mtok: Option<(f64, f64)>,

    /// Print the messages of the first row to annotate, send nothing, write nothing.
    #[arg(long)]
    pub show_prompt: bool,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub rows: RowsArgs,

    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

fn parse_prices(s: &str) -> std::result::Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?}: give two prices, IN,OUT (dollars per million tokens)"))?;
    Ok((crate::flags::py_float(a)?, crate::flags::py_float(b)?))
}

/// The hidden knob tests use to keep retries fast (milliseconds of the first backoff).
fn backoff() -> Duration {
    std::env::var("PICK_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

pub async fn run_command(args: AnnotateArgs, g: Globals) -> Result<()> {
    let quiet = g.quiet || args.show_no_progress;
    let params = AnnotateParams {
        rows: args.rows.spec(args.service_tier.clone()),
        output: args.output.clone(),
        endpoint: args.endpoint.endpoint(),
        limits: Limits {
            max_concurrent: args.max_concurrent_requests.max(1),
            requests_per_minute: args.max_requests_per_minute,
            tokens_per_minute: args.max_tokens_per_minute,
            timeout: Duration::from_secs_f64(args.request_timeout.max(0.001)),
            max_attempts: args.max_attempts.max(1),
            backoff: backoff(),
        },
        cache: (!args.disable_cache).then(|| {
            args.cache_location
                .clone()
                .flatten()
                .unwrap_or_else(default_cache_dir)
        }),
        prices: args.price_per_mtok,
        overwrite: args.overwrite,
    };
    if args.show_prompt {
        let text = pick_engine::pipelines::annotate::first_input(&params).await?;
        for (role, content) in show_prompt(&params, &text)? {
            Out.line(format!("===== {role} ====="))?;
            Out.line(content)?;
        }
        return Ok(());
    }
    let observer = crate::output::Terminal {
        quiet,
        show_sql: false,
    };
    let report = run(&params, &observer).await?;
    if args.json {
        return Out.line(pick_compat::json::to_string_pretty(&report));
    }
    if !g.quiet {
        print_report(&report);
    }
    Ok(())
}

fn print_report(r: &AnnotateReport) {
    eprintln!(
        "annotated {} rows of {} files to {} in {:.1}s: {} answered, {} from the cache, {} failed",
        r.rows,
        r.files,
        r.output.display(),
        r.elapsed_seconds,
        r.answered,
        r.cached,
        r.failed
    );
    if r.already_annotated > 0 {
        eprintln!("{} rows already had an answer", r.already_annotated);
    }
    if r.over_limit > 0 {
        eprintln!(
            "{} rows past --limit-rows written without one",
            r.over_limit
        );
    }
    eprintln!(
        "{} requests ({} retries); tokens: {} prompt, {} completion ({} reasoning){}",
        r.requests,
        r.retries,
        r.prompt_tokens,
        r.completion_tokens,
        r.reasoning_tokens,
        r.cost.map_or(String::new(), |c| format!("; cost ${c:.4}"))
    );
    if r.failed > 0 {
        eprintln!(
            "failed rows carry the reason under `{}`; run again to retry them",
            pick_engine::pipelines::annotate::error_key(&r.task)
        );
    }
}

//! `pick annotate-dataset`: every row gains `<prompt>: <answer>` from an LLM (bonepick §8.2),
//! streamed through any OpenAI-compatible endpoint with a cache of answers.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use pick_engine::Result;
use pick_engine::pipelines::annotate::{AnnotateParams, AnnotateReport, run, show_prompt};
use pick_llm::client::{Endpoint, Limits};
use pick_llm::request::Settings;

use crate::args::{Globals, ReadArgs};
use crate::commands::annotate::{EndpointArgs, PromptArgs, default_cache_dir};
use crate::output::Out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Text,
    Conversation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

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
    /// Dataset to annotate (repeat for several; each file keeps its relative path).
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// Directory to write the annotated rows to.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// The model, as the endpoint names it.
    #[arg(
        short = 'm',
        long = "model-name",
        default_value = "gpt-5.2",
        value_name = "NAME"
    )]
    pub model: String,

    /// jq: the text to annotate, or a list of `{role, content}` turns.
    #[arg(
        short = 'i',
        long = "input-field-expression",
        default_value = ".text",
        value_name = "JQ"
    )]
    pub input: String,

    /// What the input expression gives (a list of turns is read as a conversation either way).
    #[arg(short = 'f', long = "input-field-format", value_enum, default_value_t = InputFormat::Text)]
    pub input_format: InputFormat,

    #[arg(short = 'r', long = "reasoning-effort", value_enum)]
    pub reasoning_effort: Option<ReasoningEffort>,

    /// Directory of the answer cache [default, and with no DIR: the user cache directory,
    /// pick/annotate].
    #[arg(short = 'c', long = "cache-location", value_name = "DIR")]
    pub cache_location: Option<Option<PathBuf>>,

    /// `auto`, `default` (or `standard`), `flex`, `priority`, ...: price and latency, not the
    /// answer (not part of the cache key).
    #[arg(short = 'e', long = "service-tier", value_parser = parse_tier, value_name = "TIER")]
    pub service_tier: Option<String>,

    /// Annotate rows that already carry the prompt's key too (answers still come from the
    /// cache when they are there; --disable-cache asks again).
    #[arg(long = "reprocess-all-rows", overrides_with = "process_missing_rows")]
    pub reprocess_all_rows: bool,
    #[arg(long = "process-missing-rows", hide = true)]
    pub process_missing_rows: bool,

    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 10_000, value_name = "N")]
    pub max_requests_per_minute: u64,

    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 100_000_000, value_name = "N")]
    pub max_tokens_per_minute: u64,

    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 1000, value_name = "N")]
    pub max_concurrent_requests: usize,

    /// Characters of each input given to the prompt (longer ones are cut, and the prompt says
    /// how much was cut).
    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 100_000, value_name = "N")]
    pub max_text_length: usize,

    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 16_384, value_name = "N")]
    pub max_new_tokens: u64,

    /// Annotate at most this many rows (counted over all files, cached answers included);
    /// later rows are written without an answer, so every file is whole.
    #[arg(value_parser = crate::flags::py_int::<u64>, long, value_name = "N")]
    pub limit_rows: Option<u64>,

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

    /// Sampling temperature (the endpoint's default when not given).
    #[arg(value_parser = crate::flags::py_float, long, value_name = "T")]
    pub temperature: Option<f64>,

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
    pub endpoint: EndpointArgs,

    #[command(flatten)]
    pub prompts: PromptArgs,

    #[command(flatten)]
    pub read: ReadArgs,
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
    let lower = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
    let params = AnnotateParams {
        inputs: args.datasets.clone(),
        output: args.output.clone(),
        input_expression: args.input.clone(),
        task: args.prompts.task.clone(),
        system: args.prompts.system.clone(),
        prompt_dirs: args.prompts.prompt_dirs.clone(),
        settings: Settings {
            model: args.model.clone(),
            max_new_tokens: args.max_new_tokens,
            reasoning_effort: args.reasoning_effort.map(|r| lower(&r)),
            service_tier: args.service_tier.clone(),
            temperature: args.temperature,
        },
        endpoint: Endpoint {
            base_url: args.endpoint.base_url.clone(),
            api_key: args.endpoint.api_key.clone(),
        },
        limits: Limits {
            max_concurrent: args.max_concurrent_requests.max(1),
            requests_per_minute: args.max_requests_per_minute,
            tokens_per_minute: args.max_tokens_per_minute,
            timeout: Duration::from_secs_f64(args.request_timeout.max(0.001)),
            max_attempts: args.max_attempts.max(1),
            backoff: backoff(),
        },
        max_text_length: args.max_text_length,
        limit_rows: args.limit_rows,
        reprocess_all_rows: args.reprocess_all_rows,
        cache: (!args.disable_cache).then(|| {
            args.cache_location
                .clone()
                .flatten()
                .unwrap_or_else(default_cache_dir)
        }),
        prices: args.price_per_mtok,
        read: args.read.options(),
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

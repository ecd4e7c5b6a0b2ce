//! LLM annotation: `annotate-dataset` (streamed requests), `batch-annotate-submit` and
//! `batch-annotate-retrieve` (the Batch API), and `list-prompts`.

pub mod batch;
pub mod dataset;
pub mod prompts;

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_engine::ops::llm_rows::RowsSpec;
use pick_llm::client::Endpoint;
use pick_llm::request::Settings;

use crate::args::ReadArgs;

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

/// Which rows are annotated and how their requests are made: what `annotate-dataset` and
/// `batch-annotate-submit` share.
#[derive(Debug, Args)]
pub struct RowsArgs {
    /// Dataset to annotate (repeat for several; each file keeps its relative path).
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

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

    /// Annotate rows that already carry the prompt's key too (answers still come from the
    /// cache when they are there; --disable-cache asks again).
    #[arg(long = "reprocess-all-rows", overrides_with = "process_missing_rows")]
    pub reprocess_all_rows: bool,
    #[arg(long = "process-missing-rows", hide = true)]
    pub process_missing_rows: bool,

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

    /// Sampling temperature (the endpoint's default when not given).
    #[arg(value_parser = crate::flags::py_float, long, value_name = "T")]
    pub temperature: Option<f64>,

    #[command(flatten)]
    pub prompts: PromptArgs,

    #[command(flatten)]
    pub read: ReadArgs,
}

impl RowsArgs {
    pub fn spec(&self, service_tier: Option<String>) -> RowsSpec {
        RowsSpec {
            inputs: self.datasets.clone(),
            input_expression: self.input.clone(),
            task: self.prompts.task.clone(),
            system: self.prompts.system.clone(),
            prompt_dirs: self.prompts.prompt_dirs.clone(),
            settings: Settings {
                model: self.model.clone(),
                max_new_tokens: self.max_new_tokens,
                reasoning_effort: self
                    .reasoning_effort
                    .map(|r| format!("{r:?}").to_lowercase()),
                service_tier,
                temperature: self.temperature,
            },
            max_text_length: self.max_text_length,
            limit_rows: self.limit_rows,
            reprocess_all_rows: self.reprocess_all_rows,
            read: self.read.options(),
        }
    }
}

/// Where requests go. The key is read from the flag or the environment and sent only as the
/// `Authorization` header: never printed, cached or written.
#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// The OpenAI-compatible API's base URL (OpenAI, vLLM, SGLang, llama.cpp, Ollama, a gateway).
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1",
        value_name = "URL"
    )]
    pub base_url: String,

    /// The API key [env: OPENAI_API_KEY].
    #[arg(
        long,
        env = "OPENAI_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
}

impl EndpointArgs {
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            base_url: self.base_url.clone(),
            api_key: self.api_key.clone(),
        }
    }
}

/// Which prompts: the task (required), an optional system prompt, extra prompt directories.
#[derive(Debug, Clone, Args)]
pub struct PromptArgs {
    /// The task prompt (see list-prompts task).
    #[arg(short = 'T', long = "annotation-task-prompt", value_name = "NAME")]
    pub task: String,

    /// The system prompt (see list-prompts system).
    #[arg(short = 'S', long = "annotation-system-prompt", value_name = "NAME")]
    pub system: Option<String>,

    /// A directory of your own prompts (`system/NAME.jinja`, `task/NAME.jinja` with
    /// `task/NAME.schema.json`); repeat for several. Your names override shipped ones.
    #[arg(long = "prompt-dir", value_name = "DIR")]
    pub prompt_dirs: Vec<PathBuf>,
}

/// `$XDG_CACHE_HOME/pick/annotate`, else `~/.cache/pick/annotate`.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("pick").join("annotate")
}

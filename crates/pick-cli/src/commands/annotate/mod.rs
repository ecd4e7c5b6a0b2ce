//! LLM annotation: `annotate-dataset` (streamed requests), `batch-annotate-submit` and
//! `batch-annotate-retrieve` (the Batch API), and `list-prompts`.

pub mod batch;
pub mod dataset;
pub mod prompts;

use std::path::PathBuf;

use clap::Args;

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

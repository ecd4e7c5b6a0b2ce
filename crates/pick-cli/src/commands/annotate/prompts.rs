//! `pick list-prompts task|system`: the prompts annotation can use (bonepick §8.3), shipped and
//! from `--prompt-dir`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_engine::{PickError, Result};
use pick_llm::prompt::{Kind, Library, Origin};

use crate::args::Globals;
use crate::output::Out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptKind {
    Task,
    System,
}

#[derive(Debug, Args)]
pub struct ListPromptsArgs {
    #[arg(value_enum)]
    pub kind: PromptKind,

    /// Also list the prompts of this directory (repeat for several).
    #[arg(long = "prompt-dir", value_name = "DIR")]
    pub prompt_dirs: Vec<PathBuf>,
}

pub fn run(args: ListPromptsArgs, _g: Globals) -> Result<()> {
    let library = Library::load(&args.prompt_dirs).map_err(|e| PickError::Usage(e.to_string()))?;
    let kind = match args.kind {
        PromptKind::Task => Kind::Task,
        PromptKind::System => Kind::System,
    };
    Out.line(format!("Available {} prompts:", kind.dir()))?;
    for name in library.names(kind) {
        let prompt = library.get(kind, name).expect("listed");
        let from = match &prompt.origin {
            Origin::Shipped => String::new(),
            Origin::File(p) => format!("  ({})", p.display()),
        };
        Out.line(format!("- {name}{from}"))?;
    }
    Ok(())
}

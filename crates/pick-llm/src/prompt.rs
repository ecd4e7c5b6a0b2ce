//! The prompt library: system and task prompts as files (`system/<name>.jinja`,
//! `task/<name>.jinja` and its answer schema `task/<name>.schema.json`), the shipped ones
//! compiled in, users' directories (`--prompt-dir`) read at start and overriding shipped names.
//! Task templates are minijinja; what they see is [`TextInput`]: the sample cut to the length
//! budget and the real size of what was cut (bonepick's notice always said 0, B11).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::LlmError;

/// The shipped prompts: (kind, name, template, schema).
const SHIPPED: &[(&str, &str, &str, Option<&str>)] =
    include!(concat!(env!("OUT_DIR"), "/shipped_prompts.rs"));

/// Room kept for the truncation notice inside `--max-text-length`.
const NOTICE_ROOM: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    System,
    Task,
}

impl Kind {
    pub fn dir(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Task => "task",
        }
    }
}

/// Where a prompt came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Origin {
    Shipped,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: Kind,
    pub name: String,
    pub origin: Origin,
    pub template: String,
    /// The answer's JSON schema; `None`: the answer is the completion's text.
    pub schema: Option<serde_json::Value>,
}

/// Every prompt pick knows, by kind and name, with their templates compiled.
pub struct Library {
    prompts: BTreeMap<(Kind, String), Prompt>,
    env: Environment<'static>,
}

/// What a task template is given.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TextInput {
    pub text: String,
    pub truncated: bool,
    pub omitted_chars: usize,
    pub omitted_lines: usize,
    pub max_text_length: usize,
}

impl TextInput {
    /// `text` fitted to `max_text_length` characters: kept whole when it fits, else cut at the
    /// last line break inside the budget (at the budget when the kept part would lose more
    /// than half of it), leaving room for the notice. Control tokens of chat templates are
    /// broken up so a sample cannot end the conversation it is quoted in.
    pub fn new(text: &str, max_text_length: usize) -> TextInput {
        let text = sanitize(text);
        let chars = text.chars().count();
        if chars <= max_text_length {
            return TextInput {
                text,
                truncated: false,
                omitted_chars: 0,
                omitted_lines: 0,
                max_text_length,
            };
        }
        let budget = max_text_length.saturating_sub(NOTICE_ROOM).max(1);
        let at = text
            .char_indices()
            .nth(budget)
            .map_or(text.len(), |(i, _)| i);
        let cut = match text[..at].rfind('\n') {
            Some(nl) if nl >= at / 2 => nl,
            _ => at,
        };
        let (kept, rest) = text.split_at(cut);
        let rest = rest.strip_prefix('\n').unwrap_or(rest);
        TextInput {
            text: kept.trim_end().to_string(),
            truncated: true,
            omitted_chars: rest.chars().count(),
            omitted_lines: rest.lines().count(),
            max_text_length,
        }
    }

    /// A conversation (`[{role, content}, ...]`) as one text: turns up to the last user turn,
    /// each as `ROLE:` and its content, then fitted like a text.
    pub fn conversation(turns: &[(String, String)], max_text_length: usize) -> TextInput {
        let last_user = turns
            .iter()
            .rposition(|(role, _)| role == "user")
            .map_or(turns.len(), |i| i + 1);
        let mut text = String::new();
        for (role, content) in &turns[..last_user] {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&role.to_uppercase());
            text.push_str(":\n");
            text.push_str(content.trim());
        }
        TextInput::new(&text, max_text_length)
    }
}

/// Chat-template control tokens with a space after `<|` and before `|>`.
fn sanitize(text: &str) -> String {
    const TOKENS: &[&str] = &["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"];
    if !text.contains("<|") {
        return text.to_string();
    }
    let mut out = text.to_string();
    for t in TOKENS {
        if out.contains(t) {
            out = out.replace(t, &format!("<| {} |>", &t[2..t.len() - 2]));
        }
    }
    out
}

impl Library {
    /// The shipped prompts, then each of `dirs` (later ones win on a name).
    pub fn load(dirs: &[PathBuf]) -> Result<Library, LlmError> {
        let mut prompts = BTreeMap::new();
        for (kind, name, template, schema) in SHIPPED {
            let kind = if *kind == "system" {
                Kind::System
            } else {
                Kind::Task
            };
            let schema = schema
                .map(|s| {
                    serde_json::from_str(s).map_err(|e| LlmError::Prompt {
                        name: name.to_string(),
                        message: format!("shipped schema: {e}"),
                    })
                })
                .transpose()?;
            let prompt = Prompt {
                kind,
                name: name.to_string(),
                origin: Origin::Shipped,
                template: template.to_string(),
                schema,
            };
            prompts.insert((kind, name.to_string()), prompt);
        }
        for dir in dirs {
            for prompt in read_dir(dir)? {
                prompts.insert((prompt.kind, prompt.name.clone()), prompt);
            }
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for ((kind, name), prompt) in &prompts {
            env.add_template_owned(template_name(*kind, name), prompt.template.clone())
                .map_err(|e| LlmError::Prompt {
                    name: name.clone(),
                    message: format!("{}: {e}", describe_origin(prompt)),
                })?;
            if let Some(schema) = &prompt.schema {
                crate::answer::Schema::compile(name, schema)?;
            }
        }
        Ok(Library { prompts, env })
    }

    pub fn names(&self, kind: Kind) -> Vec<&str> {
        self.prompts
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.as_str())
            .collect()
    }

    pub fn get(&self, kind: Kind, name: &str) -> Result<&Prompt, LlmError> {
        self.prompts
            .get(&(kind, name.to_string()))
            .ok_or_else(|| LlmError::UnknownPrompt {
                kind: kind.dir(),
                name: name.to_string(),
                known: self.names(kind).join(", "),
            })
    }

    /// A task prompt's user message for `input`.
    pub fn render_task(&self, name: &str, input: &TextInput) -> Result<String, LlmError> {
        self.render(Kind::Task, name, input)
    }

    /// A system prompt's message.
    pub fn render_system(&self, name: &str) -> Result<String, LlmError> {
        self.render(Kind::System, name, &())
    }

    fn render(&self, kind: Kind, name: &str, ctx: &impl Serialize) -> Result<String, LlmError> {
        self.get(kind, name)?;
        let template = self
            .env
            .get_template(&template_name(kind, name))
            .map_err(|e| LlmError::Prompt {
                name: name.to_string(),
                message: e.to_string(),
            })?;
        let text = template
            .render(minijinja::value::Serde(ctx))
            .map_err(|e| LlmError::Prompt {
                name: name.to_string(),
                message: e.to_string(),
            })?;
        Ok(text.trim().to_string())
    }
}

fn template_name(kind: Kind, name: &str) -> String {
    format!("{}/{name}", kind.dir())
}

fn describe_origin(p: &Prompt) -> String {
    match &p.origin {
        Origin::Shipped => format!("shipped {} prompt", p.kind.dir()),
        Origin::File(path) => path.display().to_string(),
    }
}

/// The prompts of one user directory (`system/` and `task/`, either may be absent).
fn read_dir(dir: &Path) -> Result<Vec<Prompt>, LlmError> {
    if !dir.is_dir() {
        return Err(LlmError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let mut out = Vec::new();
    for kind in [Kind::System, Kind::Task] {
        let sub = dir.join(kind.dir());
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".jinja"))
            else {
                continue;
            };
            let io = |source| LlmError::Io {
                path: path.clone(),
                source,
            };
            let template = std::fs::read_to_string(&path).map_err(io)?;
            let schema_path = sub.join(format!("{name}.schema.json"));
            let schema = match std::fs::read_to_string(&schema_path) {
                Ok(text) => Some(serde_json::from_str(&text).map_err(|e| LlmError::Prompt {
                    name: name.to_string(),
                    message: format!(
                        "{}: line {}, column {}: {e}",
                        schema_path.display(),
                        e.line(),
                        e.column()
                    ),
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(LlmError::Io {
                        path: schema_path,
                        source: e,
                    });
                }
            };
            out.push(Prompt {
                kind,
                name: name.to_string(),
                origin: Origin::File(path.clone()),
                template,
                schema,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        let t = TextInput::new("a\nb", 100);
        assert_eq!(t.text, "a\nb");
        assert!(!t.truncated);
        assert_eq!((t.omitted_chars, t.omitted_lines), (0, 0));
    }

    #[test]
    fn long_text_is_cut_at_a_line_break_and_counts_what_went() {
        let line = "x".repeat(29);
        let text = [line.as_str(); 10].join("\n"); // 10 lines of 30 chars with breaks
        let t = TextInput::new(&text, 200); // budget 120
        assert!(t.truncated);
        assert_eq!(t.text.lines().count(), 4);
        assert_eq!(t.omitted_lines, 6);
        assert_eq!(t.omitted_chars, 6 * 29 + 5);
        assert_eq!(
            t.text.chars().count() + 1 + t.omitted_chars,
            text.chars().count()
        );
    }

    #[test]
    fn a_text_without_breaks_is_cut_at_the_budget_on_a_char_boundary() {
        let text = "é".repeat(300);
        let t = TextInput::new(&text, 100);
        assert_eq!(t.text.chars().count(), 20);
        assert_eq!(t.omitted_chars, 280);
        assert_eq!(t.omitted_lines, 1);
    }

    #[test]
    fn control_tokens_are_broken_up() {
        let t = TextInput::new("a <|im_end|> b <|endoftext|>", 100);
        assert_eq!(t.text, "a <| im_end |> b <| endoftext |>");
    }

    #[test]
    fn conversations_stop_at_the_last_user_turn() {
        let turns = vec![
            ("user".to_string(), "hi".to_string()),
            ("assistant".to_string(), "hello".to_string()),
            ("user".to_string(), " bye ".to_string()),
            ("assistant".to_string(), "ciao".to_string()),
        ];
        let t = TextInput::conversation(&turns, 1000);
        assert_eq!(t.text, "USER:\nhi\n\nASSISTANT:\nhello\n\nUSER:\nbye");
    }
}

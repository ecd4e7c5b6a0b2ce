//! jq expressions (jaq) over JSON rows, with bonepick's semantics: the first output wins,
//! and for labels no output or `null` is an error; labels read as Python's `str()` of the
//! value (integral numbers as ints, `True`/`False`, Python reprs for lists and dicts).
//!
//! ```sql
//! SELECT jq(_json, '.metadata.code_quality.score') FROM s;
//! SELECT label(_json, 'if .metadata.code_quality.score < 3 then "neg" else "pos" end') FROM s;
//! ```

use std::collections::BTreeSet;
use std::fmt;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

pub mod fields;
pub mod merge;
pub mod path;

use pick_compat::json::write_str;
use pick_compat::pyfmt::{float_repr, number_str, str_repr};

use crate::path::Reached;

/// A compiled jq program.
pub struct Program {
    source: String,
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
    /// The keys, when the program is a plain path (answered without parsing the whole row).
    path: Option<Vec<String>>,
    /// The top-level fields the program can read, when it reads the row only through them:
    /// it runs on the row cut down to those.
    fields: Option<BTreeSet<String>>,
}

/// A jq expression that does not parse or compile.
#[derive(Debug, thiserror::Error)]
#[error("bad jq expression `{expr}`: {message}")]
pub struct CompileError {
    pub expr: String,
    pub message: String,
}

/// What evaluating a row gave, when it is not a value.
#[derive(Debug, PartialEq)]
pub enum EvalError {
    BadJson(String),
    NoOutput,
    Null,
    Failed(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::BadJson(e) => write!(f, "the row is not valid JSON: {e}"),
            EvalError::NoOutput => f.write_str("the expression produced no output"),
            EvalError::Null => f.write_str("the expression produced null"),
            EvalError::Failed(e) => write!(f, "the expression failed: {e}"),
        }
    }
}

/// An empty expression is the identity, as in bonepick.
pub(crate) fn or_identity(expr: &str) -> &str {
    if expr.trim().is_empty() { "." } else { expr }
}

impl Program {
    /// Compiles `expr` (`or_identity`).
    pub fn compile(expr: &str) -> Result<Program, CompileError> {
        let code = or_identity(expr);
        let err = |message: String| CompileError {
            expr: expr.to_string(),
            message,
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errs| err(describe_load_errors(&errs)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let names: Vec<String> = errs
                    .iter()
                    .flat_map(|(_, es)| es.iter().map(|(name, what)| format!("{what:?} `{name}`")))
                    .collect();
                err(format!("undefined {}", names.join(", ")))
            })?;
        let path = crate::path::parse_path(code);
        Ok(Program {
            source: expr.to_string(),
            filter,
            fields: if path.is_none() {
                crate::fields::read_fields(code)
            } else {
                None
            },
            path,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first output of the program on the JSON text `row`.
    pub fn first(&self, row: &str) -> Result<Val, EvalError> {
        if let Some(keys) = &self.path {
            return match crate::path::follow(row, keys).map_err(path_error)? {
                Reached::Null => Err(EvalError::Null),
                Reached::Value(raw) => parse(raw),
            };
        }
        let trimmed = self
            .fields
            .as_ref()
            .and_then(|fields| crate::path::trim(row, fields));
        self.run(parse(trimmed.as_deref().unwrap_or(row))?)
    }

    /// The top-level fields the program reads, if it reads the row only through them.
    pub fn fields(&self) -> Option<&BTreeSet<String>> {
        self.fields.as_ref()
    }

    /// The first output of the program on a parsed input.
    pub fn run(&self, input: Val) -> Result<Val, EvalError> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        // Not jaq's `unwrap_valr`: on `halt` it ends the process, here it fails the row.
        let mut outputs = self.filter.id.run((ctx, input)).map(|v| {
            v.map_err(|e| match e.get_err() {
                Ok(e) => e.to_string(),
                Err(e) => match e.get_halt() {
                    Ok(code) => format!("the program halted (exit code {code})"),
                    Err(_) => "the program broke out of its label".to_string(),
                },
            })
        });
        match outputs.next() {
            None => Err(EvalError::NoOutput),
            Some(Err(e)) => Err(EvalError::Failed(e)),
            Some(Ok(Val::Null)) => Err(EvalError::Null),
            Some(Ok(v)) => Ok(v),
        }
    }

    /// The first output as JSON text. What a path reaches is copied from the row as it is
    /// (the same value; escapes and number spellings as the row wrote them).
    pub fn json(&self, row: &str) -> Result<String, EvalError> {
        if let Some(keys) = &self.path {
            return match crate::path::follow(row, keys).map_err(path_error)? {
                Reached::Null => Err(EvalError::Null),
                Reached::Value(raw) => Ok(raw.trim().to_string()),
            };
        }
        self.first(row).map(|v| json_text(&v))
    }

    /// The label bonepick would read from `row`: Python's `str()` of the first output.
    pub fn label(&self, row: &str) -> Result<String, EvalError> {
        let v = self.first(row)?;
        let mut out = String::new();
        python_str(&v, &mut out, false);
        Ok(out)
    }
}

/// The jq path of a top-level field: `.name` for an identifier, `."odd name"` otherwise.
pub fn field_path(field: &str) -> String {
    let plain = field
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!(".{field}")
    } else {
        format!(".{}", serde_json::Value::String(field.to_string()))
    }
}

fn parse(text: &str) -> Result<Val, EvalError> {
    jaq_json::read::parse_single(text.as_bytes()).map_err(|e| EvalError::BadJson(format!("{e:?}")))
}

/// A path that could not be followed: bad JSON, or indexing a non-object (as jq reports it).
fn path_error(message: String) -> EvalError {
    if message.starts_with("cannot index") {
        EvalError::Failed(message)
    } else {
        EvalError::BadJson(message)
    }
}

fn describe_load_errors<P>(errs: &jaq_core::load::Errors<&str, P>) -> String {
    use jaq_core::load::Error;
    let mut parts = Vec::new();
    for (_, e) in errs {
        match e {
            Error::Io(v) => parts.extend(v.iter().map(|(p, m)| format!("cannot load {p}: {m}"))),
            Error::Lex(v) => parts.extend(v.iter().map(|(expect, at)| {
                format!(
                    "expected {} at `{}`",
                    expect.as_str(),
                    at.chars().take(20).collect::<String>()
                )
            })),
            Error::Parse(v) => parts.extend(v.iter().map(|(expect, at)| {
                let at = if at.is_empty() {
                    "the end".to_string()
                } else {
                    format!("`{}`", at.chars().take(20).collect::<String>())
                };
                format!("expected {} at {at}", expect.as_str())
            })),
        }
    }
    parts.join("; ")
}

/// Python's `str()` (top level) or `repr()` (inside lists and dicts) of a jq value.
pub fn python_str(v: &Val, out: &mut String, nested: bool) {
    match v {
        Val::Null => out.push_str("None"),
        Val::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Val::Num(n) => {
            let text = n.to_string();
            match text.parse::<i128>() {
                Ok(_) if !text.contains(['.', 'e', 'E']) => out.push_str(&text),
                _ => match text.parse::<f64>() {
                    Ok(f) => number_str(f, out),
                    Err(_) => out.push_str(&text),
                },
            }
        }
        Val::TStr(b) | Val::BStr(b) => {
            let s = String::from_utf8_lossy(b);
            if nested {
                str_repr(&s, out)
            } else {
                out.push_str(&s)
            }
        }
        Val::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_str(item, out, true);
            }
            out.push(']');
        }
        Val::Obj(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_str(k, out, true);
                out.push_str(": ");
                python_str(item, out, true);
            }
            out.push('}');
        }
    }
}

/// JSON text of a jq value. Written by hand: jaq's `Display` goes through `fmt` and UTF-8
/// chunking per string, which was most of a transform's time on long texts.
pub fn json_text(v: &Val) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

pub(crate) fn write_json(v: &Val, out: &mut String) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => {
            let text = n.to_string();
            match text.parse::<f64>() {
                Ok(f) if !f.is_finite() => out.push_str("null"),
                Ok(f) if text.contains(['.', 'e', 'E']) && text.parse::<i128>().is_err() => {
                    float_repr(f, out)
                }
                _ => out.push_str(&text),
            }
        }
        Val::TStr(b) | Val::BStr(b) => write_str(&utf8(b), out),
        Val::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Val::Obj(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match k {
                    Val::TStr(b) | Val::BStr(b) => write_str(&utf8(b), out),
                    other => write_str(&json_text(other), out),
                }
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A jq string as text; invalid UTF-8 (only a byte string can hold it) as replacement
/// characters. The strict check first: `from_utf8_lossy` walks chunk by chunk.
fn utf8(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(expr: &str, row: &str) -> Result<String, EvalError> {
        Program::compile(expr).unwrap().label(row)
    }

    #[test]
    fn halting_fails_the_row_and_the_process_goes_on() {
        for expr in ["halt", r#""bye" | halt_error"#, "label $out | break $out"] {
            let e = label(expr, r#"{"a": 1}"#).unwrap_err();
            assert!(
                matches!(e, EvalError::Failed(_) | EvalError::NoOutput),
                "{expr}: {e:?}"
            );
        }
        let e = label("halt", "{}").unwrap_err();
        assert!(e.to_string().contains("halted"), "{e}");
    }

    #[test]
    fn field_paths_quote_odd_names() {
        assert_eq!(field_path("score"), ".score");
        assert_eq!(field_path("__label__pos"), ".__label__pos");
        assert_eq!(field_path("fw pp"), ".\"fw pp\"");
    }

    #[test]
    fn worklog_expressions() {
        let row = r#"{"metadata": {"fw_pp_ref": {"score": 2}, "code_quality": {"__label__pos": 0.75}}, "claude_rubric_code": {"score": 4}}"#;
        assert_eq!(
            label(
                r#"{score: (if .metadata."fw_pp_ref".score < 3 then "neg" else "pos" end)}"#,
                row
            )
            .unwrap(),
            "{'score': 'neg'}"
        );
        assert_eq!(
            label(
                r#"(if .claude_rubric_code.score < 3 then "neg" else "pos" end)"#,
                row
            )
            .unwrap(),
            "pos"
        );
        assert_eq!(
            label(".metadata.code_quality.__label__pos", row).unwrap(),
            "0.75"
        );
    }

    #[test]
    fn python_str_of_values() {
        assert_eq!(label(".x", r#"{"x": 2.0}"#).unwrap(), "2");
        assert_eq!(
            label(".x", r#"{"x": 1e20}"#).unwrap(),
            "100000000000000000000"
        );
        assert_eq!(label(".x * 2", r#"{"x": 1.5}"#).unwrap(), "3");
        assert_eq!(label(".x", r#"{"x": 1e-05}"#).unwrap(), "1e-05");
        assert_eq!(label(".x", r#"{"x": true}"#).unwrap(), "True");
        assert_eq!(
            label(".x", r#"{"x": [1, "a", null, 2.5]}"#).unwrap(),
            "[1, 'a', None, 2.5]"
        );
        assert_eq!(label(r#""bin\(.x)""#, r#"{"x": 2.0}"#).unwrap(), "bin2.0");
        assert_eq!(label(".", r#"{"a": 1}"#).unwrap(), "{'a': 1}");
        assert_eq!(label("", r#"{"a": 1}"#).unwrap(), "{'a': 1}");
    }

    #[test]
    fn operators_bonepick_users_rely_on() {
        let row = r#"{"a": null, "b": 3, "xs": [3, 9, 4], "s": "héllo"}"#;
        assert_eq!(label(".a // .b", row).unwrap(), "3");
        assert_eq!(label(".xs | max", row).unwrap(), "9");
        assert_eq!(label(".xs | min", row).unwrap(), "3");
        assert_eq!(label(".s | length", row).unwrap(), "5");
        assert_eq!(label(".b % 2", row).unwrap(), "1");
        assert_eq!(label("(.b | exp) > 20", row).unwrap(), "True");
    }

    #[test]
    fn no_output_and_null_are_errors() {
        assert_eq!(label(".missing", r#"{"a": 1}"#), Err(EvalError::Null));
        assert_eq!(label("empty", r#"{"a": 1}"#), Err(EvalError::NoOutput));
        assert!(matches!(label(".a", "{bad"), Err(EvalError::BadJson(_))));
    }

    #[test]
    fn bad_expressions_show_themselves() {
        let e = Program::compile(".a | ").err().unwrap();
        assert!(
            e.to_string().starts_with("bad jq expression `.a | `: "),
            "{e}"
        );
        let e = Program::compile("nosuchfn(1)").err().unwrap();
        assert!(e.to_string().contains("nosuchfn"), "{e}");
    }

    #[test]
    fn json_text_round_trips() {
        let row = r#"{"x": "a\"b\\c\nd\u0001\u001fé\ud83d\ude00", "n": 2.5, "i": 3, "z": null, "t": true}"#;
        let p =
            Program::compile(r#"{x: .x, arr: [.n, .i, .z, .t, {"k\n": .x}], big: 1e300}"#).unwrap();
        let got: serde_json::Value =
            serde_json::from_str(&json_text(&p.first(row).unwrap())).unwrap();
        let x = "a\"b\\c\nd\u{1}\u{1f}é😀";
        let want =
            serde_json::json!({"x": x, "arr": [2.5, 3, null, true, {"k\n": x}], "big": 1e300});
        assert_eq!(got, want);
    }
}

//! YAML reports laid out as bonepick's PyYAML dumps are (block style, two-space indent, list
//! items at their key's indent, floats as Python's `repr`), so tools reading bonepick's result
//! files read pick's.

use std::sync::LazyLock;

use regex::Regex;

use crate::pyfmt::float_repr;

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn map(entries: impl IntoIterator<Item = (&'static str, Yaml)>) -> Yaml {
        Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    pub fn opt(v: Option<f64>) -> Yaml {
        v.map_or(Yaml::Null, Yaml::Float)
    }

    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map(_) | Yaml::List(_) if !is_empty_collection(self) => block(self, 0, &mut out),
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
        out
    }
}

fn is_empty_collection(v: &Yaml) -> bool {
    matches!(v, Yaml::Map(m) if m.is_empty()) || matches!(v, Yaml::List(l) if l.is_empty())
}

fn block(v: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Yaml::Map(entries) => {
            for (k, val) in entries {
                out.push_str(&pad);
                let key = string_text(k);
                if key.chars().count() > LONG_KEY {
                    // An implicit key is at most 1024 characters; PyYAML writes long ones
                    // explicitly, as `? key` with the value on the next line.
                    out.push_str("? ");
                    out.push_str(&key);
                    out.push('\n');
                    out.push_str(&pad);
                } else {
                    out.push_str(&key);
                }
                out.push(':');
                match val {
                    Yaml::Map(_) if !is_empty_collection(val) => {
                        out.push('\n');
                        block(val, indent + 2, out);
                    }
                    Yaml::List(_) if !is_empty_collection(val) => {
                        out.push('\n');
                        block(val, indent, out);
                    }
                    scalar => {
                        out.push(' ');
                        out.push_str(&scalar_text(scalar));
                        out.push('\n');
                    }
                }
            }
        }
        Yaml::List(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Yaml::Map(_) if !is_empty_collection(item) => {
                        // The first key goes on the dash's line, the rest under it.
                        let mut inner = String::new();
                        block(item, indent + 2, &mut inner);
                        out.push_str(inner.trim_start_matches(' '));
                    }
                    Yaml::List(_) if !is_empty_collection(item) => {
                        let mut inner = String::new();
                        block(item, indent + 2, &mut inner);
                        out.push_str(inner.trim_start_matches(' '));
                    }
                    scalar => {
                        out.push_str(&scalar_text(scalar));
                        out.push('\n');
                    }
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(v: &Yaml) -> String {
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => if *b { "true" } else { "false" }.into(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) if f.is_nan() => ".nan".into(),
        Yaml::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Yaml::Float(f) => {
            let mut s = String::new();
            float_repr(*f, &mut s);
            // PyYAML writes `1e-05` as `1.0e-05` so that it reads back as a float.
            if !s.contains('.') && s.contains('e') {
                s = s.replacen('e', ".0e", 1);
            }
            s
        }
        Yaml::Str(s) => string_text(s),
        Yaml::Map(_) => "{}".into(),
        Yaml::List(_) => "[]".into(),
    }
}

/// What PyYAML's resolver (YAML 1.1) reads as something other than a string when it is
/// written plain: its int, float, timestamp, merge and value patterns. Booleans and nulls are
/// checked by `string_text`.
static IMPLICIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // int
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
        // float
        r"|^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        // timestamp
        r"|^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?",
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        // merge, value
        r"|^(?:<<|=)$",
    ))
    .expect("PyYAML's resolver patterns compile")
});

/// Keys longer than this are written as explicit `? key` entries, as PyYAML writes them.
const LONG_KEY: usize = 128;

/// Characters YAML cannot hold as they are (outside its printable set), or reads as line
/// breaks or a byte-order mark: only a double-quoted scalar's escapes can carry them.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

/// `s` as a YAML double-quoted scalar, escaping what `needs_escape` names, `"` and `\`.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) <= 0xFF => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A plain scalar when it would read back as the same string, else single-quoted (or
/// double-quoted, when it holds characters only an escape can carry).
fn string_text(s: &str) -> String {
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    );
    let numeric = s.parse::<f64>().is_ok() || IMPLICIT.is_match(s);
    let special = s.starts_with([
        ' ', '!', '&', '*', '[', ']', '{', '}', '|', '>', '\'', '"', '%', '@', '`', '#', ',', '?',
        ':', '-',
    ]) || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        // Document markers.
        || s.starts_with("---")
        || s.starts_with("...")
        || s.chars().any(needs_escape);
    if reserved || numeric || special {
        if s.chars().any(needs_escape) {
            double_quoted(s)
        } else {
            format!("'{}'", s.replace('\'', "''"))
        }
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_pyyaml() {
        let doc = Yaml::map([
            ("dataset_dirs", Yaml::List(vec![Yaml::str("a/b")])),
            ("total_samples", Yaml::Int(3)),
            (
                "auc_metrics",
                Yaml::map([("macro_auc", Yaml::Float(0.5)), ("ordinal_auc", Yaml::Null)]),
            ),
            (
                "unique_labels",
                Yaml::List(vec![Yaml::str("0"), Yaml::str("x y")]),
            ),
            (
                "bins",
                Yaml::List(vec![Yaml::map([
                    ("bin_start", Yaml::Float(0.30000000000000004)),
                    ("count", Yaml::Int(2)),
                ])]),
            ),
            ("tiny", Yaml::Float(1e-5)),
            ("empty", Yaml::List(vec![])),
        ]);
        assert_eq!(
            doc.to_text(),
            "dataset_dirs:\n- a/b\ntotal_samples: 3\nauc_metrics:\n  macro_auc: 0.5\n  ordinal_auc: null\n\
             unique_labels:\n- '0'\n- x y\nbins:\n- bin_start: 0.30000000000000004\n  count: 2\n\
             tiny: 1.0e-05\nempty: []\n"
        );
    }

    #[test]
    fn strings_pyyaml_would_read_as_other_types_are_quoted() {
        for s in [
            "2024-01-01",
            "2024-1-1 10:00:00",
            "1_000",
            "0x1F",
            "0b101",
            "017",
            "190:20:30",
            ".inf",
            "-.inf",
            ".nan",
            "<<",
            "=",
            "1.",
            ".5",
            "+3",
            "yes",
            "Off",
            "~",
            "",
        ] {
            let text = string_text(s);
            assert!(text.starts_with('\''), "{s:?} was written {text}");
        }
        for s in ["abc", "2024-01", "x_1", "a=b", "1.2.3"] {
            assert_eq!(string_text(s), s, "{s:?}");
        }
    }
}

#[cfg(test)]
mod fuzz_found {
    use super::*;

    #[test]
    fn characters_yaml_cannot_hold_plain_are_escaped() {
        assert_eq!(string_text("a\u{7f}b"), "\"a\\x7Fb\"");
        assert_eq!(string_text("a\u{85}b"), "\"a\\x85b\"");
        assert_eq!(string_text("\u{2028}"), "\"\\u2028\"");
        assert_eq!(string_text("\u{feff}x"), "\"\\uFEFFx\"");
        assert_eq!(string_text("q\"\\\n"), "\"q\\\"\\\\\\n\"");
    }

    #[test]
    fn document_markers_empty_collections_and_long_keys() {
        assert_eq!(Yaml::str("...").to_text(), "'...'\n");
        assert_eq!(Yaml::str("--- x").to_text(), "'--- x'\n");
        assert_eq!(Yaml::Map(vec![]).to_text(), "{}\n");
        assert_eq!(Yaml::List(vec![]).to_text(), "[]\n");
        let long = "k".repeat(200);
        let text = Yaml::Map(vec![(long.clone(), Yaml::Int(1))]).to_text();
        assert_eq!(text, format!("? {long}\n: 1\n"));
        // A list item's first key keeps its leading non-ASCII space.
        let text = Yaml::List(vec![Yaml::Map(vec![("\u{a0}k".into(), Yaml::Int(1))])]).to_text();
        assert_eq!(text, "- \u{a0}k: 1\n");
    }
}

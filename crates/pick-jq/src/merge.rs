//! `{**T(row), **L(row)}`: a transform's two jq programs, the first output of each (both
//! objects), merged with the second's keys winning, as one JSON text (bonepick §7.1).
//!
//! The answer is defined by one jq program over the whole row (`Merge::program`), and any
//! row the shortcuts below do not settle gets exactly that. The shortcuts exist because a
//! transform usually copies a long text through (`{text: .text}`) and computes a small label
//! from other fields: parsing and re-escaping the text was most of a transform's time.
//! - A program that builds an object from plain paths (`{text: .text, id: .meta.id}`) takes
//!   each value's raw text from the row; a string already written as pick writes strings
//!   (`pick_compat::json::write_str`) is copied as it is, anything else goes through jaq.
//! - Any other program runs on the row cut down to the fields it reads (`fields.rs`).

use std::borrow::Cow;
use std::collections::BTreeSet;

use jaq_core::load::parse::Term;
use jaq_core::path::{Opt, Part};
use jaq_json::Val;
use serde_json::value::RawValue;

use pick_compat::json::write_str;

use crate::path::{Reached, entries, follow, trimmed};
use crate::{CompileError, EvalError, Program, write_json};

pub struct Merge {
    text: Side,
    label: Side,
    /// The whole merge as one jq program: the definition, and the answer for every row the
    /// shortcuts leave.
    whole: Program,
    /// The fields the program sides read (the row is cut down to them); `None` if both sides
    /// are paths.
    trim: Option<BTreeSet<String>>,
}

/// How one side's object is computed on the fast path.
enum Side {
    /// `{key: .a.b, ...}`: distinct literal keys, each a plain path.
    Paths(Vec<(String, Vec<String>)>),
    /// Run by jaq on the trimmed row; `None` when the program sees the whole row.
    Program(Option<Program>),
}

/// The one jq program of a merge: the first output of each, both objects, merged.
pub fn program(text: &str, label: &str) -> String {
    let (text, label) = (crate::or_identity(text), crate::or_identity(label));
    format!(
        "first({text}) as $t | first({label}) as $l \
         | if ($t | type) != \"object\" then error(\"the text transform gave \\($t | type), not an object\") \
           elif ($l | type) != \"object\" then error(\"the label transform gave \\($l | type), not an object\") \
           else $t + $l end"
    )
}

impl Merge {
    pub fn compile(text: &str, label: &str) -> Result<Merge, CompileError> {
        let (text, label, whole) = (
            Side::compile(text)?,
            Side::compile(label)?,
            Program::compile(&program(text, label))?,
        );
        let mut trim: Option<BTreeSet<String>> = None;
        for side in [&text, &label] {
            if let Side::Program(Some(p)) = side {
                let fields = p.fields().expect("kept only when trimmable");
                trim.get_or_insert_default().extend(fields.iter().cloned());
            }
        }
        Ok(Merge {
            text,
            label,
            whole,
            trim,
        })
    }

    /// The merged object's JSON text.
    pub fn json(&self, row: &str) -> Result<String, EvalError> {
        match self.fast(row) {
            Some(out) => Ok(out),
            None => self.whole.json(row),
        }
    }

    /// The answer without parsing the whole row, or `None` where that is not certain (the
    /// row is not an object serde_json reads, a path fails, a side gives no object).
    fn fast(&self, row: &str) -> Option<String> {
        if matches!(self.text, Side::Program(None)) || matches!(self.label, Side::Program(None)) {
            return None;
        }
        let entries = entries(row)?;
        // One parse of the trimmed row serves both sides.
        let input = match &self.trim {
            None => None,
            Some(fields) => {
                let trimmed = trimmed(&entries, fields);
                Some(jaq_json::read::parse_single(trimmed.as_bytes()).ok()?)
            }
        };
        let mut merged = self.text.object(&entries, input.as_ref())?;
        for (key, value) in self.label.object(&entries, input.as_ref())? {
            match merged.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => merged.push((key, value)),
            }
        }
        let mut out = String::with_capacity(row.len() + 16);
        out.push('{');
        for (i, (key, value)) in merged.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(key, &mut out);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        Some(out)
    }
}

type Object<'r> = Vec<(Cow<'r, str>, Cow<'r, str>)>;

impl Side {
    fn compile(expr: &str) -> Result<Side, CompileError> {
        let code = crate::or_identity(expr);
        if let Some(paths) = jaq_core::load::parse(code, |p| p.term())
            .as_ref()
            .and_then(object_of_paths)
        {
            return Ok(Side::Paths(paths));
        }
        let program = Program::compile(expr)?;
        Ok(Side::Program(program.fields().is_some().then_some(program)))
    }

    /// This side's object as (key, JSON text) pairs in jq's order.
    fn object<'r>(
        &self,
        entries: &[(Cow<'r, str>, &'r RawValue)],
        input: Option<&Val>,
    ) -> Option<Object<'r>> {
        match self {
            Side::Paths(paths) => paths
                .iter()
                .map(|(key, path)| {
                    let value = match entries.iter().rev().find(|(k, _)| *k == path[0]) {
                        None => "null".into(),
                        Some((_, raw)) => match follow(raw.get(), &path[1..]).ok()? {
                            Reached::Null => "null".into(),
                            Reached::Value(raw) => value_text(raw.trim())?,
                        },
                    };
                    Some((Cow::Owned(key.clone()), value))
                })
                .collect(),
            Side::Program(program) => {
                let Ok(Val::Obj(map)) = program.as_ref()?.run(input?.clone()) else {
                    return None;
                };
                map.iter()
                    .map(|(k, v)| {
                        let Val::TStr(k) = k else { return None };
                        let mut text = String::new();
                        write_json(v, &mut text);
                        Some((
                            Cow::Owned(std::str::from_utf8(k).ok()?.to_string()),
                            text.into(),
                        ))
                    })
                    .collect()
            }
        }
    }
}

/// A value's JSON text as jaq would write it: a string already in that form is the row's
/// own text; anything else is parsed and written.
fn value_text(raw: &str) -> Option<Cow<'_, str>> {
    if raw.starts_with('"') && written_as_pick_writes(&raw[1..raw.len() - 1]) {
        return Some(Cow::Borrowed(raw));
    }
    let v = jaq_json::read::parse_single(raw.as_bytes()).ok()?;
    let mut text = String::new();
    write_json(&v, &mut text);
    Some(text.into())
}

/// Whether the inside of a valid JSON string literal is exactly what `write_str` writes for
/// the string it holds: its only escapes are the ones `write_str` uses. (A valid literal has
/// no raw control characters.)
fn written_as_pick_writes(inner: &str) -> bool {
    let b = inner.as_bytes();
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'\\', &b[i..]) {
        let e = i + at + 1;
        match b.get(e) {
            Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i = e + 1,
            Some(b'u') => {
                let Some(hex) = b.get(e + 1..e + 5) else {
                    return false;
                };
                let ok = hex.starts_with(b"00")
                    && matches!(hex[2], b'0' | b'1')
                    && hex[3].is_ascii_digit() | (b'a'..=b'f').contains(&hex[3])
                    && !matches!(&hex[2..], b"08" | b"09" | b"0a" | b"0c" | b"0d");
                if !ok {
                    return false;
                }
                i = e + 5;
            }
            _ => return false,
        }
    }
    true
}

/// `{key: .a.b, ...}` with distinct literal keys and plain paths (no `?`), as key and path.
fn object_of_paths(t: &Term<&str>) -> Option<Vec<(String, Vec<String>)>> {
    let Term::Obj(entries) = t else { return None };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in entries {
        let key = crate::fields::literal(k)?;
        let path = match v {
            None => vec![key.clone()],
            Some(Term::Path(base, path)) if matches!(**base, Term::Id) => path
                .0
                .iter()
                .map(|(part, opt)| match (part, opt) {
                    (Part::Index(i), Opt::Essential) => crate::fields::literal(i),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
            _ => return None,
        };
        if out.iter().any(|(k, _)| *k == key) {
            return None;
        }
        out.push((key, path));
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PROGRAMS: &[(&str, &str)] = &[
        (
            "{text: .text}",
            r#"{score: (if .score < 3 then "neg" else "pos" end)}"#,
        ),
        ("{text: .text}", "{score: .score}"),
        ("{text}", "{text: .meta.id, s: .score}"),
        ("{text: .text, id: .meta.id}", "{}"),
        (
            "{text: .text}",
            r#"{text: "over", s: (.meta.id // "none")}"#,
        ),
        (".", "{score: .score}"),
        ("{a: .text, b: .text}", "{}"),
        ("{x: .meta.deep.er}", r#"{score: (.score | tostring)}"#),
    ];

    fn same(row: &str) {
        for (t, l) in PROGRAMS {
            let m = Merge::compile(t, l).unwrap();
            let fast = m.fast(row);
            let whole = m.whole.json(row);
            if let Some(fast) = fast {
                assert_eq!(Ok(fast), whole, "{t} + {l} on {row}");
            }
            assert_eq!(m.json(row), whole, "{t} + {l} on {row}");
        }
    }

    #[test]
    fn rows_merge_as_the_one_program_merges_them() {
        for row in [
            r#"{"text": "plain", "score": 2}"#,
            r#"{"text": "a\"b\\c\nd\u0001\u001fé\u2028", "score": 4.0}"#,
            r#"{"text": "\u00e9\/\u001F\uD83D\uDE00", "score": 1e1}"#,
            r#"{"score": 3, "meta": {"id": [1, {"b": 2.50}], "deep": null}}"#,
            r#"{"text": 1.0, "text": "second", "score": -0}"#,
            r#"{"text": {"z": 1, "a": [true, null]}, "meta": 7}"#,
            r#"{"meta": {"deep": 5}}"#,
            r#"{}"#,
            r#"[1, 2]"#,
            r#""text""#,
            r#"{"text": "unterminated"#,
            r#"{"text": "x"} trailing"#,
        ] {
            same(row);
        }
    }

    #[test]
    fn rows_that_need_jq_take_it() {
        let m = Merge::compile("{text: .text}", "{score: .score}").unwrap();
        // A path through a number fails in jq; the error is jq's.
        let m2 = Merge::compile("{x: .text.y}", "{}").unwrap();
        assert!(m2.fast(r#"{"text": 3}"#).is_none());
        assert!(matches!(
            m2.json(r#"{"text": 3}"#),
            Err(EvalError::Failed(_))
        ));
        // Escapes pick would not write are decoded and written again.
        assert_eq!(
            m.json(r#"{"text": "caf\u00e9 \/", "score": 1.50}"#)
                .unwrap(),
            r#"{"text":"café /","score":1.5}"#
        );
        let bad = Merge::compile("{text: .text}", "3").unwrap();
        let e = bad.json(r#"{"text": "x"}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("the label transform gave number, not an object"),
            "{e}"
        );
    }

    /// A JSON string literal holding `chars`, each written raw or escaped in one of the
    /// ways JSON allows.
    fn literal(chars: &[(char, u8)]) -> String {
        let mut s = String::from("\"");
        for &(c, how) in chars {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\t' => Some("\\t"),
                '/' => Some("\\/"),
                _ => None,
            };
            let must_escape = matches!(c, '"' | '\\') || (c as u32) < 0x20;
            match (how % 3, short) {
                (0, _) if !must_escape => s.push(c),
                (1, Some(e)) => s.push_str(e),
                _ if (c as u32) > 0xffff => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        s.push_str(&format!("\\u{:04x}", u));
                    }
                }
                (2, _) => s.push_str(&format!("\\u{:04X}", c as u32)),
                _ => s.push_str(&format!("\\u{:04x}", c as u32)),
            }
        }
        s.push('"');
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn any_row_merges_as_the_one_program_merges_it(
            text in proptest::collection::vec(
                (prop::sample::select(vec!['a', ' ', '"', '\\', '\n', '\t', '/', '\u{1}', '\u{1f}', '\u{7f}', 'é', '\u{2028}', '😀']), any::<u8>()),
                0..12,
            ),
            score in prop::sample::select(vec!["1", "2.5", "3.0", "1e2", "-0", "null", "\"x\"", "[1]"]),
            order in any::<bool>(),
            with_meta in any::<bool>(),
        ) {
            let text = literal(&text);
            let meta = if with_meta { r#", "meta": {"id": "m", "deep": {"er": 1.0}}"# } else { "" };
            let row = if order {
                format!(r#"{{"text": {text}, "score": {score}{meta}}}"#)
            } else {
                format!(r#"{{"score": {score}{meta}, "text": {text}}}"#)
            };
            same(&row);
            // Valid object rows never need the whole-row parse for these.
            for (t, l) in &PROGRAMS[..5] {
                prop_assert!(Merge::compile(t, l).unwrap().fast(&row).is_some(), "{} + {} on {}", t, l, row);
            }
        }
    }
}

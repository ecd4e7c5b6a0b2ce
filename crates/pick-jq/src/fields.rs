//! Which top-level fields of its input row a program can see. A program that reads the row
//! only through named fields (`.score`, `.metadata.x`, `{text: .text}`) gives the same outputs
//! on a row cut down to those fields, and parsing that row skips the long texts a label
//! expression never looks at: on rows carrying 7 KB of text, parsing was most of the cost.
//!
//! The analysis is conservative, over jaq's own parse tree. A term evaluated on the row
//! itself may read it only as `.name...`; the identity `.`, `..`, `.[...]` other than a
//! literal key, calls (but for a few that do not look at their input), definitions and
//! assignments there make the answer "the whole row". Right of a `|` the input is no longer
//! the row (the left side never outputs the row itself, by the same rules), so anything goes.

use std::collections::BTreeSet;

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;

/// The top-level field names `code` can read, or `None` if it may see the whole row.
pub fn read_fields(code: &str) -> Option<BTreeSet<String>> {
    let term = jaq_core::load::parse(code, |p| p.term())?;
    let mut fields = BTreeSet::new();
    on_row(&term, &mut fields).then_some(fields)
}

/// The text of a string literal without interpolation or format.
pub(crate) fn literal(t: &Term<&str>) -> Option<String> {
    let Term::Str(None, parts) = t else {
        return None;
    };
    let mut s = String::new();
    for part in parts {
        match part {
            StrPart::Str(text) => s.push_str(text),
            StrPart::Char(c) => s.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(s)
}

/// Whether `t`, run on the row, reads it only through named fields (added to `fields`).
fn on_row(t: &Term<&str>, fields: &mut BTreeSet<String>) -> bool {
    match t {
        Term::Id | Term::Recurse | Term::Def(..) => false,
        Term::Num(_) | Term::Var(_) | Term::Break(_) | Term::Arr(None) => true,
        Term::Str(format, parts) => {
            format.is_none()
                && parts.iter().all(|p| match p {
                    StrPart::Term(t) => on_row(t, fields),
                    _ => true,
                })
        }
        Term::Arr(Some(t)) | Term::Neg(t) | Term::Label(_, t) => on_row(t, fields),
        Term::Obj(entries) => entries.iter().all(|(k, v)| match v {
            Some(v) => on_row(k, fields) && on_row(v, fields),
            // `{name}` is `{name: .name}`, `{$x}` is `{x: $x}`.
            None => match (k, literal(k)) {
                (Term::Var(_), _) => true,
                (_, Some(name)) => {
                    fields.insert(name);
                    true
                }
                _ => false,
            },
        }),
        Term::BinOp(l, op, r) => match op {
            BinaryOp::Pipe(None) => on_row(l, fields),
            BinaryOp::Pipe(Some(p)) => on_row(l, fields) && pattern(p, fields) && on_row(r, fields),
            BinaryOp::Comma
            | BinaryOp::Alt
            | BinaryOp::Or
            | BinaryOp::And
            | BinaryOp::Math(_)
            | BinaryOp::Cmp(_) => on_row(l, fields) && on_row(r, fields),
            BinaryOp::Assign | BinaryOp::Update | BinaryOp::UpdateMath(_) | BinaryOp::UpdateAlt => {
                false
            }
        },
        // `reduce xs as $x (init; update)`: the update (and `foreach`'s extract) run on the
        // accumulator.
        Term::Fold(_, xs, p, args) => {
            on_row(xs, fields)
                && pattern(p, fields)
                && args.first().is_none_or(|i| on_row(i, fields))
        }
        // The catch runs on the error, which holds no more of the row than the try could see.
        Term::TryCatch(t, _) => on_row(t, fields),
        Term::IfThenElse(branches, otherwise) => {
            // Without `else`, a false condition outputs the row itself.
            branches
                .iter()
                .all(|(c, b)| on_row(c, fields) && on_row(b, fields))
                && otherwise.as_deref().is_some_and(|t| on_row(t, fields))
        }
        Term::Call(name, args) => match (*name, args.len()) {
            ("empty" | "true" | "false" | "null" | "not", 0) => true,
            ("error" | "first" | "last", 1) => on_row(&args[0], fields),
            _ => false,
        },
        Term::Path(base, path) => {
            let mut parts = path.0.iter();
            let base_ok = match &**base {
                Term::Id => match parts.next() {
                    Some((Part::Index(key), _)) => match literal(key) {
                        Some(name) => {
                            fields.insert(name);
                            true
                        }
                        None => false,
                    },
                    _ => false,
                },
                other => on_row(other, fields),
            };
            // Indices and bounds after the first part are computed from the row.
            base_ok
                && parts.all(|(part, _)| match part {
                    Part::Index(i) => on_row(i, fields),
                    Part::Range(from, to) => {
                        [from, to].into_iter().flatten().all(|t| on_row(t, fields))
                    }
                })
        }
    }
}

/// A binding pattern's keys (`{(f): $x}`) are computed from the row.
fn pattern(p: &Pattern<&str>, fields: &mut BTreeSet<String>) -> bool {
    match p {
        Pattern::Var(_) => true,
        Pattern::Arr(ps) => ps.iter().all(|p| pattern(p, fields)),
        Pattern::Obj(entries) => entries
            .iter()
            .all(|(k, p)| on_row(k, fields) && pattern(p, fields)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(code: &str) -> Option<Vec<String>> {
        read_fields(code).map(|s| s.into_iter().collect())
    }

    #[test]
    fn field_reads_are_found() {
        let cases: &[(&str, &[&str])] = &[
            (".score", &["score"]),
            ("{text: .text}", &["text"]),
            (
                r#"{score: (if .score < 3 then "neg" else "pos" end)}"#,
                &["score"],
            ),
            (
                r#"{score: (if .metadata."fw_pp_ref".score < 3 then "neg" else "pos" end)}"#,
                &["metadata"],
            ),
            ("{text}", &["text"]),
            (".a | length", &["a"]),
            (".a as $x | .b + $x", &["a", "b"]),
            (".a[.i]", &["a", "i"]),
            ("[.a, .b] | map(. * 2)", &["a", "b"]),
            (r#""\(.a)-\(.b)""#, &["a", "b"]),
            ("reduce .xs[] as $x (0; . + $x)", &["xs"]),
            ("try .a catch .", &["a"]),
            ("first(.a // .b)", &["a", "b"]),
            ("1 + 2", &[]),
            ("not | .", &[]),
            ("{(.k): 1} | .", &["k"]),
            (r#"."odd name".x"#, &["odd name"]),
        ];
        for (code, want) in cases {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(fields(code), Some(want), "{code}");
        }
    }

    #[test]
    fn programs_that_see_the_whole_row_are_not_trimmed() {
        for code in [
            ".",
            "..",
            "keys",
            "length",
            "tojson",
            ". as $r | $r.a",
            ".[]",
            ".[0]",
            ".[.k]",
            "to_entries",
            "with_entries(.)",
            "{a: .}",
            ".a = 1",
            ".a |= 2",
            "del(.a)",
            "select(.a)",
            "@json",
            "def f: .; f",
            "if .a then 1 end",
            "reduce .a as $x (.; .)",
            "if . then 1 else 2 end",
            "{a} + .",
        ] {
            assert_eq!(fields(code), None, "{code}");
        }
    }

    /// Trimmed or not, a program's first output (or error) is the same.
    #[test]
    fn trimmed_rows_give_the_same_outputs() {
        let programs = [
            r#"if .score < 3 then "neg" else "pos" end"#,
            r#"{score: (if .metadata."fw_pp_ref".score < 3 then "neg" else "pos" end)}"#,
            ".a as $x | [.b, $x] | length",
            "try (.text | ascii_downcase) catch \"bad\"",
            ".missing // .score",
            "[.a[] | . * 2]",
            "reduce .a[] as $x (0; . + $x)",
            r#""\(.score)/\(.b)""#,
        ];
        let rows = [
            r#"{"text": "Long Text", "score": 2, "a": [1, 2], "b": "x", "metadata": {"fw_pp_ref": {"score": 4}}}"#,
            r#"{"score": 5, "text": 3, "a": [], "a": [4], "junk": {"deep": [1, {"x": null}]}}"#,
            r#"{"score": "s", "a": 1}"#,
            r#"{}"#,
        ];
        for code in programs {
            let p = crate::Program::compile(code).unwrap();
            assert!(p.fields().is_some(), "{code}");
            for row in rows {
                let full = p.run(jaq_json::read::parse_single(row.as_bytes()).unwrap());
                let fmt = |r: Result<jaq_json::Val, crate::EvalError>| {
                    r.map(|v| crate::json_text(&v)).map_err(|e| e.to_string())
                };
                assert_eq!(fmt(p.first(row)), fmt(full), "{code} on {row}");
            }
        }
    }
}

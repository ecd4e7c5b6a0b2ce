//! The one way pick builds a query: SQL text that pick writes (a template), in which every value
//! a user gave (paths, labels, jq programs, model paths, seeds, rates) is a bound parameter `$n`,
//! never spliced into the text. Identifiers are the one thing a template takes from the user's
//! data (column names), and `ident` quotes them. `--show-sql` prints `Query::display`: the
//! statement with each value written in as a SQL literal, so it can be pasted into `pick sql`.
//!
//! The engine plans a template as DataFusion plans `PREPARE`: the parameters' types are declared
//! from their values, then the values are bound into the plan (`Session::query`).

pub mod rows;

use std::fmt::Write as _;

use datafusion::scalar::ScalarValue;

/// A SQL identifier (a column name), quoted.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A struct field's name where DataFusion requires it as a literal in the statement
/// (`named_struct('a', ...)`, `s['a']`): a name, like an identifier, not a value.
pub fn field_name(name: &str) -> String {
    literal(name)
}

/// A SQL string literal, for display only: values reach the engine as parameters.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Values bound so far; each `str`/`int`/`float` call returns the `$n` to write in the text.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<ScalarValue>);

impl Params {
    fn push(&mut self, v: ScalarValue) -> String {
        self.0.push(v);
        format!("${}", self.0.len())
    }

    pub fn str(&mut self, v: impl Into<String>) -> String {
        self.push(ScalarValue::Utf8(Some(v.into())))
    }

    pub fn int(&mut self, v: i64) -> String {
        self.push(ScalarValue::Int64(Some(v)))
    }

    pub fn float(&mut self, v: f64) -> String {
        self.push(ScalarValue::Float64(Some(v)))
    }

    /// The statement `text`, written with the `$n` marks these calls returned.
    pub fn query(self, text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            params: self.0,
        }
    }
}

/// A statement and the values bound to its `$n` parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub params: Vec<ScalarValue>,
}

impl Query {
    /// A statement with no parameters.
    pub fn plain(text: impl Into<String>) -> Query {
        Query {
            text: text.into(),
            params: Vec::new(),
        }
    }

    /// The statement with each value written in as a literal (what `--show-sql` prints).
    pub fn display(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |n| n);
            let index = rest[at + 1..at + 1 + digits].parse::<usize>().ok();
            match index.and_then(|i| self.params.get(i.wrapping_sub(1))) {
                Some(v) => write_literal(v, &mut out),
                None => out.push_str(&rest[at..at + 1 + digits]),
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_str(rest);
        out
    }
}

fn write_literal(v: &ScalarValue, out: &mut String) {
    match v {
        ScalarValue::Utf8(Some(s)) => out.push_str(&literal(s)),
        ScalarValue::Int64(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        ScalarValue::Float64(Some(f)) => {
            let _ = write!(out, "{f:?}");
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Checks that a jq expression compiles; `flag` names it in the usage error.
pub fn check_jq(flag: &str, expr: &str) -> crate::error::Result<()> {
    pick_jq::Program::compile(expr)
        .map(|_| ())
        .map_err(|e| crate::error::usage(format!("{flag}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_writes_values_back_as_literals() {
        let mut p = Params::default();
        let text = format!(
            "SELECT jq(_json, {}) FROM t WHERE seeded_random({}, _row) < {}",
            p.str("it's"),
            p.int(42),
            p.float(0.5)
        );
        let q = p.query(text);
        assert_eq!(
            q.display(),
            "SELECT jq(_json, 'it''s') FROM t WHERE seeded_random(42, _row) < 0.5"
        );
        assert_eq!(q.params.len(), 3);
    }

    #[test]
    fn ten_or_more_parameters_display_by_their_whole_number() {
        let mut p = Params::default();
        let names: Vec<String> = (0..12).map(|i| p.int(i)).collect();
        let q = p.query(names.join(","));
        assert_eq!(q.display(), "0,1,2,3,4,5,6,7,8,9,10,11");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}

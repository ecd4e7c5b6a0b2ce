//! bonepick's flag conventions: its two-letter shorts, its deprecated field flags and its value
//! types (row counts or fractions, byte sizes), parsed the way its users write them.

use std::ffi::OsString;

use pick_engine::Result;
use pick_engine::pipelines::SplitSize;
use pick_jq::field_path;

/// bonepick's shorts that clap cannot take as they are, as their long forms, before parsing:
/// `-tt`/`-ll` (clap shorts are one character), and `distill-model2vec`'s `-q TYPE`
/// (`-q` is pick's global `--quiet`; a `-q` followed by a saved type is the type). Nothing
/// after `--` is touched.
pub fn rewrite_bonepick_shorts(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    const TYPES: [&str; 4] = ["float16", "float32", "float64", "int8"];
    let args: Vec<OsString> = args.into_iter().collect();
    let mut out = Vec::new();
    let mut rest = false;
    let mut distill = false;
    for (i, arg) in args.iter().enumerate() {
        if rest {
            out.push(arg.clone());
            continue;
        }
        let rewritten = arg.to_str().and_then(|a| {
            if a == "--" {
                rest = true;
                return None;
            }
            if a == "distill-model2vec" {
                distill = true;
            }
            let next = args.get(i + 1).and_then(|n| n.to_str());
            if distill && a == "-q" && next.is_some_and(|n| TYPES.contains(&n)) {
                return Some("--quantize-to".to_string());
            }
            [("-tt", "--text-expression"), ("-ll", "--label-expression")]
                .iter()
                .find_map(|(short, long)| {
                    let tail = a.strip_prefix(short)?;
                    match tail.strip_prefix('=') {
                        Some(v) => Some(format!("{long}={v}")),
                        None if tail.is_empty() => Some(long.to_string()),
                        None => None,
                    }
                })
        });
        out.push(rewritten.map_or_else(|| arg.clone(), OsString::from));
    }
    out
}

/// The jq expression a deprecated `-t/--text-field F` (or `-l/--label-field F`) stands for,
/// with bonepick's warning; the field wins over the expression, as in bonepick.
pub fn field_expression(field: Option<&str>, expression: &str, flag: &str, quiet: bool) -> String {
    match field {
        None => expression.to_string(),
        Some(f) => {
            if !quiet {
                let (old, new) = match flag {
                    "label" => ("-l/--label-field", "-ll/--label-expression"),
                    _ => ("-t/--text-field", "-tt/--text-expression"),
                };
                eprintln!("WARNING: {old} is deprecated, use {new} instead.");
            }
            field_path(f)
        }
    }
}

/// The text and label of a row as bonepick's training commands take them: `-tt`/`-ll` jq
/// expressions, or the deprecated `-t`/`-l` field names (which win, with a warning).
#[derive(Debug, Clone, clap::Args)]
pub struct TextLabelArgs {
    /// jq expression for the text of a row (`-tt`).
    #[arg(long = "text-expression", default_value = ".text", value_name = "JQ")]
    pub text_expression: String,

    /// jq expression for the label of a row (`-ll`).
    #[arg(long = "label-expression", default_value = ".score", value_name = "JQ")]
    pub label_expression: String,

    /// Deprecated: the text field (`.F`).
    #[arg(short = 't', long = "text-field", value_name = "FIELD")]
    pub text_field: Option<String>,

    /// Deprecated: the label field (`.F`).
    #[arg(short = 'l', long = "label-field", value_name = "FIELD")]
    pub label_field: Option<String>,
}

impl TextLabelArgs {
    /// The text and label expressions in force, both checked to compile (a usage error if not).
    pub fn expressions(&self, quiet: bool) -> Result<(String, String)> {
        let text = field_expression(
            self.text_field.as_deref(),
            &self.text_expression,
            "text",
            quiet,
        );
        let label = field_expression(
            self.label_field.as_deref(),
            &self.label_expression,
            "label",
            quiet,
        );
        for (flag, e) in [("--text-expression", &text), ("--label-expression", &label)] {
            pick_jq::Program::compile(e).map_err(|e| usage(format!("{flag}: {e}")))?;
        }
        Ok((text, label))
    }
}

/// `digits` without the underscores Python allows between digits (`10_000`), or `None` where an
/// underscore is misplaced (`_1`, `1_`, `1__0`, `1_.5`).
fn without_underscores(digits: &str) -> Option<String> {
    let b = digits.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let between_digits =
            i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit();
        if c == b'_' && !between_digits {
            return None;
        }
    }
    Some(digits.replace('_', ""))
}

/// A whole number as Python's `int()` reads one (bonepick's click flags): surrounding spaces,
/// a sign, underscores between digits (`10_000`). No fractions, no exponents.
/// A path that must be on this machine (state pick keeps locally: the annotation cache, a
/// batch's files): a URL is refused in one line.
pub fn local_path(s: &str) -> std::result::Result<std::path::PathBuf, String> {
    if pick_engine::store::is_url(s) {
        return Err("a directory on this machine, not a URL: pick keeps this state locally".into());
    }
    Ok(std::path::PathBuf::from(s))
}

pub fn py_int<T: TryFrom<i128>>(s: &str) -> std::result::Result<T, String> {
    let bad = || format!("`{s}` is not a whole number");
    let t = without_underscores(s.trim()).ok_or_else(bad)?;
    let digits = t.strip_prefix(['+', '-']).unwrap_or(&t);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let v: i128 = t.parse().map_err(|_| format!("`{s}` is out of range"))?;
    T::try_from(v).map_err(|_| format!("`{s}` is out of range"))
}

/// A number as Python's `float()` reads one: spaces, a sign, underscores between digits, an
/// exponent, `inf`, `nan`.
pub fn py_float(s: &str) -> std::result::Result<f64, String> {
    let bad = || format!("`{s}` is not a number");
    let t = without_underscores(s.trim()).ok_or_else(bad)?;
    let body = t
        .strip_prefix(['+', '-'])
        .unwrap_or(&t)
        .to_ascii_lowercase();
    let word = matches!(body.as_str(), "inf" | "infinity" | "nan");
    let numeric = !body.is_empty()
        && body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'));
    if !(word || numeric) {
        return Err(bad());
    }
    t.parse().map_err(|_| bad())
}

/// `0.1` is a tenth of the rows and `500` is 500 rows, as in bonepick; unlike bonepick, `1.0`
/// is all rows (bonepick's float-or-int type reads it as one row).
pub fn parse_split_size(s: &str) -> std::result::Result<SplitSize, String> {
    let t = s.trim().replace('_', "");
    if let Ok(n) = t.parse::<u64>() {
        return Ok(SplitSize::Rows(n));
    }
    let v: f64 = t
        .parse()
        .map_err(|_| format!("`{s}` is neither a fraction (0.1) nor a row count (500)"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(SplitSize::Fraction(v))
    } else if v > 1.0 && v.fract() == 0.0 && v < 2f64.powi(63) {
        Ok(SplitSize::Rows(v as u64))
    } else {
        Err(format!(
            "`{s}` must be a fraction in [0, 1] or a whole number of rows"
        ))
    }
}

/// bonepick's byte sizes: `500`, `1.5KB` (1536), `2 G`, `10MB`; binary multipliers.
pub fn parse_byte_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let bad = || format!("`{s}` is not a size like 500, 64KB, 1.5G or 2TB");
    let well_formed = !num.is_empty()
        && !num.starts_with('.')
        && !num.ends_with('.')
        && num.matches('.').count() <= 1;
    if !well_formed {
        return Err(bad());
    }
    let num: f64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim_start() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        "T" | "TB" => 1 << 40,
        _ => return Err(bad()),
    };
    Ok((num * mult as f64) as u64)
}

/// A fraction in (0, 1].
pub fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` must be in (0, 1]"))
    }
}

pub use pick_engine::pipelines::usage;

/// Checks that at most one of two optional flags is given and returns which.
pub fn one_of<A, B>(a: Option<A>, b: Option<B>, names: (&str, &str)) -> Result<Either<A, B>> {
    match (a, b) {
        (Some(a), None) => Ok(Either::Left(a)),
        (None, Some(b)) => Ok(Either::Right(b)),
        (Some(_), Some(_)) => Err(usage(format!(
            "{} and {} cannot be used together",
            names.0, names.1
        ))),
        (None, None) => Err(usage(format!("give one of {} or {}", names.0, names.1))),
    }
}

pub enum Either<A, B> {
    Left(A),
    Right(B),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn two_letter_shorts_become_long_flags() {
        assert_eq!(
            rewrite_bonepick_shorts(os(&["pick", "x", "-tt", ".a", "-ll=.b", "-t", "-l"])),
            os(&[
                "pick",
                "x",
                "--text-expression",
                ".a",
                "--label-expression=.b",
                "-t",
                "-l"
            ])
        );
        assert_eq!(
            rewrite_bonepick_shorts(os(&["pick", "--", "-tt"])),
            os(&["pick", "--", "-tt"])
        );
        assert_eq!(
            rewrite_bonepick_shorts(os(&["pick", "-q", "distill-model2vec", "-q", "int8", "-q"])),
            os(&[
                "pick",
                "-q",
                "distill-model2vec",
                "--quantize-to",
                "int8",
                "-q"
            ])
        );
    }

    #[test]
    fn numbers_as_python_reads_them() {
        assert_eq!(py_int::<u64>("10_000"), Ok(10_000));
        assert_eq!(py_int::<i64>(" -42 "), Ok(-42));
        assert_eq!(py_int::<usize>("+7"), Ok(7));
        for bad in ["1e3", "1.0", "_1", "1_", "1__0", "", "x", "-1"] {
            assert!(py_int::<u64>(bad).is_err(), "{bad}");
        }
        assert_eq!(py_float("1_000.5"), Ok(1000.5));
        assert_eq!(py_float(" 1e-3"), Ok(0.001));
        assert_eq!(py_float("-.5"), Ok(-0.5));
        assert!(py_float("inf").unwrap().is_infinite());
        for bad in ["0x10", "1_e3", "abc", ""] {
            assert!(py_float(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_sizes() {
        assert_eq!(parse_split_size("0.1"), Ok(SplitSize::Fraction(0.1)));
        assert_eq!(parse_split_size("1.0"), Ok(SplitSize::Fraction(1.0)));
        assert_eq!(parse_split_size("500"), Ok(SplitSize::Rows(500)));
        assert_eq!(parse_split_size("10_000"), Ok(SplitSize::Rows(10_000)));
        assert_eq!(parse_split_size("1e3"), Ok(SplitSize::Rows(1000)));
        assert!(parse_split_size("2.5").is_err());
        assert!(parse_split_size("-0.1").is_err());
        assert_eq!(SplitSize::Fraction(0.25).rows_of(10), 2); // 2.5 rounds to even
        assert_eq!(SplitSize::Fraction(0.35).rows_of(10), 4); // 3.5 rounds to even too
    }

    #[test]
    fn byte_sizes_are_binary() {
        assert_eq!(parse_byte_size("1.5KB"), Ok(1536));
        assert_eq!(parse_byte_size("  1 gb "), Ok(1 << 30));
        assert_eq!(parse_byte_size("500"), Ok(500));
        assert_eq!(parse_byte_size("10M"), Ok(10 << 20));
        assert!(parse_byte_size("1KiB").is_err());
        assert!(parse_byte_size("KB").is_err());
        assert!(parse_byte_size("1..5K").is_err());
    }
}

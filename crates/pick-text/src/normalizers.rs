//! bonepick 0.5.0's nine text normalizers, byte for byte (spec §3).

use std::fmt;

use super::commits;
use super::fix::fix;
use super::indent::spaces_to_tabs;
use super::unicode::{
    collapse_py_space, is_py_space, nfkd_without_marks, py_lower, py_strip, squeeze_newlines,
};
use crate::tokenizer::bundled::{dolma2, ultra_fineweb};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Normalizer {
    Whitespace,
    Plsfix,
    Tokenizer,
    Ultrafine,
    UltrafineCommits,
    Hyperfine,
    HyperfineCode,
    Potion,
    PotionCode,
}

pub const ALL: [Normalizer; 9] = [
    Normalizer::Whitespace,
    Normalizer::Plsfix,
    Normalizer::Tokenizer,
    Normalizer::Ultrafine,
    Normalizer::UltrafineCommits,
    Normalizer::Hyperfine,
    Normalizer::HyperfineCode,
    Normalizer::Potion,
    Normalizer::PotionCode,
];

#[derive(Debug, thiserror::Error)]
#[error("unknown normalizer {0:?}; valid names: {names}", names = ALL.map(Normalizer::name).join(", "))]
pub struct UnknownNormalizer(pub String);

impl fmt::Display for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Normalizer {
    type Err = UnknownNormalizer;

    /// bonepick's registry names; `-` may stand for `_`, and `ultrafine-plus` is `hyperfine`'s old name.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let key = name.trim().to_ascii_lowercase().replace('-', "_");
        if key == "ultrafine_plus" {
            return Ok(Normalizer::Hyperfine);
        }
        ALL.into_iter()
            .find(|n| n.name() == key)
            .ok_or_else(|| UnknownNormalizer(name.to_string()))
    }
}

impl Normalizer {
    pub fn name(self) -> &'static str {
        match self {
            Normalizer::Whitespace => "whitespace",
            Normalizer::Plsfix => "plsfix",
            Normalizer::Tokenizer => "tokenizer",
            Normalizer::Ultrafine => "ultrafine",
            Normalizer::UltrafineCommits => "ultrafine_commits",
            Normalizer::Hyperfine => "hyperfine",
            Normalizer::HyperfineCode => "hyperfine_code",
            Normalizer::Potion => "potion",
            Normalizer::PotionCode => "potion_code",
        }
    }

    /// Loads what the normalizer needs (its tokenizer) so the first row does not pay for it.
    pub fn warm_up(self) {
        match self {
            Normalizer::Tokenizer | Normalizer::Hyperfine | Normalizer::HyperfineCode => {
                dolma2();
            }
            Normalizer::Ultrafine | Normalizer::UltrafineCommits => {
                ultra_fineweb();
            }
            _ => {}
        }
    }

    pub fn normalize(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        self.normalize_into(text, &mut out);
        out
    }

    /// Appends the normalized text to `out`.
    pub fn normalize_into(self, text: &str, out: &mut String) {
        match self {
            // Stripping first is the same as stripping the collapsed text's one leading and
            // trailing space, and saves a copy.
            Normalizer::Whitespace => collapse_py_space(py_strip(text), out),
            Normalizer::Plsfix => fix(text, out),
            Normalizer::Tokenizer => {
                let fixed = then(text, fix);
                let mut ids = Vec::new();
                let t = dolma2();
                t.encode(&fixed, &mut ids);
                join(ids.iter().map(|&id| t.token(id)), out);
            }
            Normalizer::Ultrafine => ultrafine(text, py_lower, out),
            Normalizer::UltrafineCommits => {
                let masked = commits::mask(text);
                ultrafine(py_strip(&masked), lower_keeping_mask_words, out)
            }
            Normalizer::Hyperfine => hyperfine(text, false, out),
            Normalizer::HyperfineCode => hyperfine(text, true, out),
            Normalizer::Potion => {
                let s = then(text, fix);
                let s = then(&s, squeeze_newlines);
                let s = then(&s, py_lower);
                let s = then(&s, nfkd_without_marks);
                let s = then(&s, |s, out| mark_breaks(s, true, out));
                let s = then(&s, collapse_py_space);
                out.push_str(py_strip(&s));
            }
            Normalizer::PotionCode => {
                let s = then(text, fix);
                let s = then(&s, squeeze_newlines);
                let s = then(&s, nfkd_without_marks);
                let s = then(&s, spaces_to_tabs);
                let s = then(&s, |s, out| mark_breaks(s, false, out));
                out.push_str(py_strip(&s));
            }
        }
    }
}

fn then(s: &str, f: impl FnOnce(&str, &mut String)) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    f(s, &mut out);
    out
}

fn join<'a>(parts: impl Iterator<Item = &'a str>, out: &mut String) {
    for (i, p) in parts.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(p);
    }
}

/// `ultrafine_commits` lowercases each whitespace-separated token except its mask words (`___URL___` -> `URL`).
fn lower_keeping_mask_words(s: &str, out: &mut String) {
    let mut rest = s;
    while !rest.is_empty() {
        let space = rest.find(|c: char| is_py_space(c)).unwrap_or(rest.len());
        let token = &rest[..space];
        match commits::protected(token) {
            Some(word) => out.push_str(word),
            None => py_lower(token, out),
        }
        let after = rest[space..]
            .find(|c: char| !is_py_space(c))
            .map_or(rest.len(), |n| space + n);
        out.push_str(&rest[space..after]);
        rest = &rest[after..];
    }
}

fn ultrafine(text: &str, lower: fn(&str, &mut String), out: &mut String) {
    let s = then(text, squeeze_newlines);
    let s = then(&s, lower);
    let s = then(&s, nfkd_without_marks);
    let t = ultra_fineweb();
    let mut ids = Vec::new();
    t.encode(&s, &mut ids);
    // Join the per-token decodes with spaces, spell out \n \r \t, squeeze runs of ' ', strip.
    let mut buf = String::with_capacity(s.len() * 2);
    let mut last_space = false;
    let mut first = true;
    t.decode_each(&s, &ids, |token| {
        if !first && !last_space {
            buf.push(' ');
            last_space = true;
        }
        first = false;
        // Copies the stretches without a space or control character whole.
        let mut rest = token;
        while !rest.is_empty() {
            let plain = rest
                .bytes()
                .position(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(rest.len());
            if plain > 0 {
                buf.push_str(&rest[..plain]);
                last_space = false;
            }
            let Some(&b) = rest.as_bytes().get(plain) else {
                break;
            };
            match b {
                b'\n' => buf.push_str("\\n"),
                b'\r' => buf.push_str("\\r"),
                b'\t' => buf.push_str("\\t"),
                _ if last_space => {}
                _ => buf.push(' '),
            }
            last_space = b == b' ';
            rest = &rest[plain + 1..];
        }
    });
    out.push_str(py_strip(&buf));
}

fn hyperfine(text: &str, code: bool, out: &mut String) {
    let s = then(text, fix);
    let s = then(&s, squeeze_newlines);
    let s = if code { s } else { then(&s, py_lower) };
    let s = then(&s, nfkd_without_marks);
    let s = if code { then(&s, spaces_to_tabs) } else { s };
    let t = dolma2();
    let mut buf = String::with_capacity(s.len() * 2);
    let mut ids = Vec::new();
    let mut segment_buf = String::new();
    let is_sep = |c: char| matches!(c, '\t' | '\r' | '\n');
    let mut rest = s.as_str();
    loop {
        let seg_end = rest.find(is_sep).unwrap_or(rest.len());
        let sep_end = rest[seg_end..]
            .find(|c| !is_sep(c))
            .map_or(rest.len(), |n| seg_end + n);
        let (segment, sep) = (&rest[..seg_end], &rest[seg_end..sep_end]);
        let segment = if code {
            segment
        } else {
            segment_buf.clear();
            collapse_py_space(segment, &mut segment_buf);
            py_strip(&segment_buf)
        };
        ids.clear();
        t.encode(segment, &mut ids);
        if !buf.is_empty() || rest.len() < s.len() {
            buf.push(' ');
        }
        join(ids.iter().map(|&id| t.token(id)), &mut buf);
        buf.push(' ');
        for (i, c) in sep.chars().enumerate() {
            if i > 0 {
                buf.push(' ');
            }
            buf.push_str(match c {
                '\t' => "\\ t",
                '\r' => "\\ r",
                _ => "\\ n",
            });
        }
        if sep.is_empty() {
            break;
        }
        rest = &rest[sep_end..];
    }
    out.push_str(py_strip(&buf));
}

/// potion: `\r?\n\r?\n` -> ¶ then `\r?\n` -> ·; potion_code: `\r?\n` -> ¶. Tabs -> ↦ in both.
fn mark_breaks(s: &str, paragraphs: bool, out: &mut String) {
    let b = s.as_bytes();
    let newline_at = |p: usize| match b.get(p) {
        Some(b'\n') => Some(p + 1),
        Some(b'\r') if b.get(p + 1) == Some(&b'\n') => Some(p + 2),
        _ => None,
    };
    let mut start = 0;
    let mut p = 0;
    while p < b.len() {
        let (end, mark) = match newline_at(p) {
            Some(e1) if paragraphs => match newline_at(e1) {
                Some(e2) => (e2, "¶"),
                None => (e1, "·"),
            },
            Some(e1) => (e1, "¶"),
            None if b[p] == b'\t' => (p + 1, "↦"),
            None => {
                p += 1;
                continue;
            }
        };
        out.push_str(&s[start..p]);
        out.push_str(mark);
        p = end;
        start = end;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bonepick 0.5.0's own outputs: 22 inputs x 9 normalizers (see text/PROVENANCE.md).
    const FIXTURES: &str = include_str!("normalizers.fixtures.jsonl");

    /// bonepick 0.5.0's outputs on spec §11's edge cases (scripts/normalizer_fixtures.py).
    const EDGE_FIXTURES: &str = include_str!("normalizers.edge.jsonl");

    fn mismatches(fixtures: &str) -> (usize, Vec<String>) {
        let mut failures = Vec::new();
        let mut count = 0;
        for line in fixtures.lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let name = case["normalizer"].as_str().unwrap();
            let input = case["input"].as_str().unwrap();
            let want = case["output"].as_str().unwrap();
            let got = name.parse::<Normalizer>().unwrap().normalize(input);
            count += 1;
            if got != want {
                failures.push(format!(
                    "{name} #{}: {input:?}\n  want {want:?}\n  got  {got:?}",
                    case["case"]
                ));
            }
        }
        (count, failures)
    }

    #[test]
    fn byte_identical_to_bonepick() {
        let (count, failures) = mismatches(FIXTURES);
        assert_eq!(count, 198);
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn edge_cases_byte_identical_to_bonepick() {
        let (count, failures) = mismatches(EDGE_FIXTURES);
        assert_eq!(count, 22 * 9);
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn texts_over_two_to_the_twenty_code_points_are_cut() {
        let limit = crate::fix::MAX_CHARS;
        let text = format!(
            "{}é\n  x yz\nrest after the cut",
            "a ".repeat((limit - 2) / 2)
        );
        let head = &text[..text.find("\nrest").unwrap()];
        assert_eq!(Normalizer::Plsfix.normalize(&text), head);
        assert!(
            Normalizer::PotionCode
                .normalize(&text)
                .ends_with("a e¶↦x yz")
        );
        // Normalizers without plsfix see the whole text.
        assert!(
            Normalizer::Whitespace
                .normalize(&text)
                .ends_with("rest after the cut")
        );
    }

    #[test]
    fn names_and_spellings() {
        assert_eq!(
            "ultrafine-plus".parse::<Normalizer>().unwrap(),
            Normalizer::Hyperfine
        );
        assert_eq!(
            "Hyperfine-Code".parse::<Normalizer>().unwrap(),
            Normalizer::HyperfineCode
        );
        let err = "ultrafast".parse::<Normalizer>().unwrap_err().to_string();
        assert!(
            err.contains("whitespace, plsfix, tokenizer, ultrafine, ultrafine_commits, hyperfine"),
            "{err}"
        );
    }
}

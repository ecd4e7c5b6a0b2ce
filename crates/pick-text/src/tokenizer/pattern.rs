//! The split patterns of Hugging Face pre-tokenizers, matched the way the `tokenizers` library
//! matches them (Oniguruma, Ruby syntax: `$` is an end-of-line anchor).
//!
//! Any pattern runs on `fancy-regex`. The shapes that real byte-level BPE tokenizers use (a char
//! class, a class run, `\s?[class]+`, `\s+$`, and the cl100k split) have hand-written matchers
//! that give the same matches much faster; a property test holds them to the regex.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::TokenizerError;

/// The cl100k-style split that dolma2 (and GPT-4-era tokenizers) use.
pub const CL100K: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GPT-2's split, used by the ByteLevel pre-tokenizer when `use_regex` is true.
pub const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

#[derive(Debug, Clone)]
pub struct CharClass {
    ascii: [bool; 128],
    /// Per byte of UTF-8: whether a character with this byte may be in the class (ASCII bytes
    /// exactly; every byte of a multi-byte character when the class has any non-ASCII one).
    bytes: [bool; 256],
    ranges: Vec<(char, char)>,
}

impl CharClass {
    fn from_ranges(ranges: Vec<(char, char)>) -> Self {
        let mut ascii = [false; 128];
        for &(lo, hi) in &ranges {
            for c in lo..=hi.min('\x7f') {
                ascii[c as usize] = true;
            }
        }
        let non_ascii = ranges.iter().any(|&(_, hi)| !hi.is_ascii());
        let mut bytes = [non_ascii; 256];
        bytes[..128].copy_from_slice(&ascii);
        CharClass {
            ascii,
            bytes,
            ranges,
        }
    }

    #[inline]
    pub fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii[c as usize];
        }
        self.ranges
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    fn same_as(&self, other: &CharClass) -> bool {
        self.ranges == other.ranges
    }
}

fn class_of(hir: &Hir) -> Option<CharClass> {
    match hir.kind() {
        HirKind::Class(Class::Unicode(cls)) => Some(CharClass::from_ranges(
            cls.ranges().iter().map(|r| (r.start(), r.end())).collect(),
        )),
        HirKind::Literal(lit) => {
            let s = std::str::from_utf8(&lit.0).ok()?;
            let mut chars = s.chars();
            let c = chars.next()?;
            chars
                .next()
                .is_none()
                .then(|| CharClass::from_ranges(vec![(c, c)]))
        }
        _ => None,
    }
}

fn repeated(hir: &Hir, min: u32, max: Option<u32>) -> Option<CharClass> {
    match hir.kind() {
        HirKind::Repetition(r) if r.min == min && r.max == max && r.greedy => class_of(&r.sub),
        _ => None,
    }
}

fn white_space() -> CharClass {
    let hir = regex_syntax::parse(r"\s").expect("\\s parses");
    class_of(&hir).expect("\\s is a class")
}

/// A split pattern, found with `find_at` like `Regex::find_iter` would find it.
#[derive(Debug)]
pub enum Pattern {
    /// One character of a class.
    Char(CharClass),
    /// `[class]+`.
    Run(CharClass),
    /// `\s?[class]+`.
    SpaceThenRun(CharClass),
    /// `\s+$` with `$` before a `\n` or at the end.
    TrailingSpace,
    /// The cl100k split, which matches everywhere.
    Cl100k,
    Regex(Box<fancy_regex::Regex>),
}

impl Pattern {
    pub fn regex(source: &str) -> Result<Self, TokenizerError> {
        if source == CL100K {
            return Ok(Pattern::Cl100k);
        }
        if let Some(fast) = Self::recognize(source) {
            return Ok(fast);
        }
        Self::general(source)
    }

    /// The pattern on the general regex engine, never a hand-written matcher.
    pub fn general(source: &str) -> Result<Self, TokenizerError> {
        // Oniguruma's Ruby syntax treats `^` and `$` as line anchors.
        fancy_regex::Regex::new(&format!("(?m:{source})"))
            .map(|re| Pattern::Regex(Box::new(re)))
            .map_err(|e| TokenizerError::Unsupported(format!("split pattern {source:?}: {e}")))
    }

    pub fn literal(s: &str) -> Result<Self, TokenizerError> {
        Self::general(&fancy_regex::escape(s))
    }

    fn recognize(source: &str) -> Option<Self> {
        let hir = regex_syntax::ParserBuilder::new()
            .multi_line(true)
            .build()
            .parse(source)
            .ok()?;
        if let Some(cls) = class_of(&hir) {
            return Some(Pattern::Char(cls));
        }
        if let Some(cls) = repeated(&hir, 1, None) {
            return Some(Pattern::Run(cls));
        }
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let space = white_space();
        match parts.as_slice() {
            [a, b] => {
                if let (Some(s), Some(cls)) = (repeated(a, 0, Some(1)), repeated(b, 1, None))
                    && s.same_as(&space)
                {
                    return Some(Pattern::SpaceThenRun(cls));
                }
                if let (Some(s), HirKind::Look(Look::EndLF)) = (repeated(a, 1, None), b.kind())
                    && s.same_as(&space)
                {
                    return Some(Pattern::TrailingSpace);
                }
                None
            }
            _ => None,
        }
    }

    /// The bytes a match may contain, one at least: a piece of text with none of them (and, for
    /// `\s+$`, no whitespace at its end) cannot match. Splitting skips with this the many
    /// pieces a step leaves whole (after the first split of a document, most steps find nothing
    /// in most pieces), testing each piece's bytes once for every step together.
    pub fn match_bytes(&self) -> [bool; 256] {
        match self {
            Pattern::Char(cls) | Pattern::Run(cls) | Pattern::SpaceThenRun(cls) => cls.bytes,
            // A match ends at the end of the text, or before a `\n`.
            Pattern::TrailingSpace => {
                let mut newline = [false; 256];
                newline[b'\n' as usize] = true;
                newline
            }
            Pattern::Cl100k | Pattern::Regex(_) => [true; 256],
        }
    }

    /// Whether the pattern may match in `hay`, given whether `hay` has any of `match_bytes`.
    #[inline]
    pub fn may_match_given(&self, has_match_bytes: bool, hay: &str) -> bool {
        has_match_bytes
            || matches!(self, Pattern::TrailingSpace)
                && hay.chars().next_back().is_some_and(char::is_whitespace)
    }

    /// The leftmost match starting at or after `from`.
    pub fn find_at(&self, hay: &str, from: usize) -> Option<(usize, usize)> {
        match self {
            Pattern::Char(cls) => {
                let p = run_end(hay, from, |c| !cls.contains(c));
                let c = char_at(hay, p)?;
                Some((p, p + c.len_utf8()))
            }
            Pattern::Run(cls) => {
                let start = run_end(hay, from, |c| !cls.contains(c));
                char_at(hay, start)?;
                Some((start, run_end(hay, start, |c| cls.contains(c))))
            }
            Pattern::SpaceThenRun(cls) => {
                let mut p = from;
                while let Some(c) = char_at(hay, p) {
                    let next = p + c.len_utf8();
                    if c.is_whitespace() && char_at(hay, next).is_some_and(|n| cls.contains(n)) {
                        return Some((p, run_end(hay, next, |c| cls.contains(c))));
                    }
                    if cls.contains(c) {
                        return Some((p, run_end(hay, p, |c| cls.contains(c))));
                    }
                    p = next;
                }
                None
            }
            Pattern::TrailingSpace => find_trailing_space(hay, from),
            Pattern::Cl100k => (from < hay.len()).then(|| (from, cl100k_end(hay, from))),
            Pattern::Regex(re) => {
                // An engine error (backtrack limit) means no further match, as in a failed search.
                let m = re.find_from_pos(hay, from).ok().flatten()?;
                Some((m.start(), m.end()))
            }
        }
    }
}

/// The character at byte `i` (a character boundary), decoding only where it is not ASCII: the
/// matchers step through text a character at a time, and text is mostly ASCII.
#[inline]
fn char_at(hay: &str, i: usize) -> Option<char> {
    match hay.as_bytes().get(i) {
        Some(&b) if b < 0x80 => Some(b as char),
        Some(_) => hay[i..].chars().next(),
        None => None,
    }
}

/// Where the run of characters satisfying `pred` that starts at byte `from` ends.
#[inline]
fn run_end(hay: &str, from: usize, pred: impl Fn(char) -> bool) -> usize {
    let mut p = from;
    while let Some(c) = char_at(hay, p) {
        if !pred(c) {
            return p;
        }
        p += c.len_utf8();
    }
    hay.len()
}

/// `\s+$` (multi-line): from each whitespace start, the longest run that ends at the end of the
/// text or just before a `\n`.
fn find_trailing_space(hay: &str, from: usize) -> Option<(usize, usize)> {
    let mut p = from;
    while p < hay.len() {
        let c = hay[p..].chars().next()?;
        if !c.is_whitespace() {
            p += c.len_utf8();
            continue;
        }
        let end = run_end(hay, p, char::is_whitespace);
        if end == hay.len() {
            return Some((p, end));
        }
        // Within [p, end), the last '\n' after p's first char bounds a match ending before it.
        let mut start = p;
        while start < end {
            let first = hay[start..].chars().next()?.len_utf8();
            if let Some(q) = hay[start + first..end].rfind('\n') {
                return Some((start, start + first + q));
            }
            start += first;
        }
        p = end;
    }
    None
}

fn at(s: &str, i: usize) -> Option<char> {
    s.get(i..)?.chars().next()
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Letter,
    Number,
    Newline,
    Space,
    Other,
}

fn kind(c: char) -> Kind {
    use crate::unicode::{is_letter, is_number};
    if c == '\r' || c == '\n' {
        Kind::Newline
    } else if c.is_whitespace() {
        Kind::Space
    } else if is_letter(c) {
        Kind::Letter
    } else if is_number(c) {
        Kind::Number
    } else {
        Kind::Other
    }
}

fn fold(c: char) -> char {
    match c {
        '\u{17f}' => 's',
        c => c.to_ascii_lowercase(),
    }
}

/// The end of the cl100k match at `i`, trying its alternatives in order as a backtracking engine does.
fn cl100k_end(s: &str, i: usize) -> usize {
    let c = at(s, i).expect("i is inside s");
    let i1 = i + c.len_utf8();
    let k = kind(c);
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if c == '\''
        && let Some(a) = at(s, i1)
    {
        let i2 = i1 + a.len_utf8();
        match fold(a) {
            's' | 't' | 'm' | 'd' => return i2,
            f @ ('r' | 'v' | 'l') => {
                let want = if f == 'l' { 'l' } else { 'e' };
                if let Some(b) = at(s, i2)
                    && fold(b) == want
                {
                    return i2 + b.len_utf8();
                }
            }
            _ => {}
        }
    }
    let letters = |from: usize| run_end(s, from, |c| kind(c) == Kind::Letter);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if k == Kind::Letter {
        return letters(i1);
    }
    if k != Kind::Newline
        && k != Kind::Number
        && let Some(n) = at(s, i1)
        && kind(n) == Kind::Letter
    {
        return letters(i1 + n.len_utf8());
    }
    // \p{N}{1,3}
    if k == Kind::Number {
        let mut j = i1;
        for _ in 0..2 {
            match at(s, j) {
                Some(n) if kind(n) == Kind::Number => j += n.len_utf8(),
                _ => break,
            }
        }
        return j;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    let others_then_newlines = |from: usize| {
        let j = run_end(s, from, |c| kind(c) == Kind::Other);
        run_end(s, j, |c| c == '\r' || c == '\n')
    };
    if c == ' ' {
        if let Some(n) = at(s, i1)
            && kind(n) == Kind::Other
        {
            return others_then_newlines(i1 + n.len_utf8());
        }
    } else if k == Kind::Other {
        return others_then_newlines(i1);
    }
    // c is whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
    let mut j = i1;
    let mut last = i;
    let mut last_newline = (k == Kind::Newline).then_some(i);
    while let Some(n) = at(s, j) {
        if !n.is_whitespace() {
            break;
        }
        if n == '\r' || n == '\n' {
            last_newline = Some(j);
        }
        last = j;
        j += n.len_utf8();
    }
    if let Some(p) = last_newline {
        return p + 1;
    }
    if j == s.len() || last == i { j } else { last }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// False only when the pattern cannot match anywhere in `hay`.
    fn may_match(p: &Pattern, hay: &str) -> bool {
        let bytes = p.match_bytes();
        p.may_match_given(hay.bytes().any(|b| bytes[b as usize]), hay)
    }

    fn all(p: &Pattern, s: &str) -> Vec<(usize, usize)> {
        let mut out = vec![];
        let mut from = 0;
        while let Some((a, b)) = p.find_at(s, from) {
            out.push((a, b));
            from = if b > a {
                b
            } else {
                b + s[b..].chars().next().map_or(1, char::len_utf8)
            };
            if from > s.len() {
                break;
            }
        }
        out
    }

    const ULTRAFINE_SHAPES: [&str; 5] = [
        r"[\r\n]",
        r"\s?[A-Za-zµÀ-ÖØ-öø-ƺ]+",
        r"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        r"\s+$",
        r"[一-龥ࠀ-一가-퟿]+",
    ];

    #[test]
    fn shapes_are_recognized() {
        assert!(matches!(Pattern::regex(CL100K).unwrap(), Pattern::Cl100k));
        let kinds: Vec<_> = ULTRAFINE_SHAPES
            .iter()
            .map(|p| match Pattern::regex(p).unwrap() {
                Pattern::Char(_) => "char",
                Pattern::Run(_) => "run",
                Pattern::SpaceThenRun(_) => "space-run",
                Pattern::TrailingSpace => "trailing",
                _ => "regex",
            })
            .collect();
        assert_eq!(kinds, ["char", "space-run", "space-run", "trailing", "run"]);
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                "a", "Z", "é", "ſ", "'", "'s", "'LL", "'re", "1", "23", "٣", "½", " ", "  ", "\t",
                "\n", "\r", "\u{3000}", "\u{a0}", "\x1c", ",", "(", "!", "—", "中", "한", "😀",
                "_", "\u{301}", "ß",
            ]),
            0..24,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn fast_matchers_agree_with_the_regex(s in text()) {
            for source in ULTRAFINE_SHAPES.iter().chain([&CL100K]) {
                let fast = Pattern::regex(source).unwrap();
                let slow = Pattern::general(source).unwrap();
                let found = all(&slow, &s);
                prop_assert_eq!(all(&fast, &s), found.clone(), "pattern {:?} on {:?}", source, s);
                prop_assert!(may_match(&fast, &s) || found.is_empty(), "pattern {:?} on {:?}", source, s);
            }
        }
    }
}

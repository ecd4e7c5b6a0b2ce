//! Python's character classes and string primitives, as bonepick's normalizers see them.
//!
//! Rust's own definitions differ in small ways that show up in output bytes: `char::is_whitespace`
//! lacks `\x1c`-`\x1f`, and regex `\w` adds marks and connector punctuation. Unicode tables come
//! from ICU4X (15.1) and Rust std; Python 3.12 uses 15.0, so only characters assigned after 15.0
//! can differ.

use icu_properties::GeneralCategory;
use icu_properties::maps::{CodePointMapDataBorrowed, general_category};
use unicode_normalization::UnicodeNormalization;

pub use pick_compat::pyfmt::is_py_space;

const GC: CodePointMapDataBorrowed<'static, GeneralCategory> = general_category();

pub fn category(c: char) -> GeneralCategory {
    GC.get(c)
}

pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        GC.get(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

pub fn is_number(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    matches!(
        GC.get(c),
        GeneralCategory::DecimalNumber
            | GeneralCategory::LetterNumber
            | GeneralCategory::OtherNumber
    )
}

/// Python's `\w` on str patterns: `str.isalnum()` or `_`.
pub fn is_py_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    is_letter(c) || is_number(c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Characters Python 3.12 (Unicode 15.0) does not know yet, as far as ICU's 15.1 data tells:
/// Python leaves them alone, while Rust's newer tables would lowercase or decompose some
/// (U+A7DC, a letter of Unicode 16, lowercases to U+019B in Rust).
fn unknown_to_python(c: char) -> bool {
    !c.is_ascii() && GC.get(c) == GeneralCategory::Unassigned
}

/// Applies `f` to the stretches between characters Python does not know, which pass through.
fn around_unknown(s: &str, out: &mut String, f: impl Fn(&str, &mut String)) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if unknown_to_python(c) {
            f(&s[start..i], out);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    f(&s[start..], out);
}

/// Python's `str.lower()` (full mappings, final sigma).
pub fn py_lower(s: &str, out: &mut String) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        around_unknown(s, out, |part, out| out.push_str(&part.to_lowercase()));
    }
}

/// `unicodedata.normalize("NFKD", s)` without the characters of category Mn.
pub fn nfkd_without_marks(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.push_str(s);
        return;
    }
    around_unknown(s, out, |part, out| {
        out.extend(
            part.nfkd()
                .filter(|&c| c.is_ascii() || GC.get(c) != GeneralCategory::NonspacingMark),
        )
    });
}

/// `re.sub(r"\s+", " ", s)` with Python's `\s`: most of the `whitespace` normalizer's time.
/// Hand-written, byte by byte without branching on ASCII text: spaces in code and prose come
/// every few bytes at unpredictable places, where copying the stretches between them (the
/// first version) paid a mispredicted branch and a copy call per stretch.
pub fn collapse_py_space(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut buf = vec![0u8; b.len()];
    let (mut i, mut w, mut in_space) = (0, 0, false);
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            let space = ASCII_SPACE[x as usize];
            buf[w] = if space { b' ' } else { x };
            w += usize::from(!(space && in_space));
            in_space = space;
            i += 1;
            continue;
        }
        // Non-ASCII: a whole character, a space or copied.
        let c = s[i..].chars().next().expect("i is a char boundary");
        let len = c.len_utf8();
        if is_py_space(c) {
            if !in_space {
                buf[w] = b' ';
                w += 1;
            }
            in_space = true;
        } else {
            buf[w..w + len].copy_from_slice(&b[i..i + len]);
            w += len;
            in_space = false;
        }
        i += len;
    }
    out.push_str(std::str::from_utf8(&buf[..w]).expect("whole characters copied or replaced"));
}

/// Python's ASCII whitespace: `\t`..`\r`, the separators 0x1c..0x1f and the space.
const ASCII_SPACE: [bool; 128] = {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        t[c] = matches!(c as u8, b'\t'..=b'\r' | 0x1c..=0x1f | b' ');
        c += 1;
    }
    t
};

/// `re.sub(r"\n{3,}", "\n\n", s)`.
pub fn squeeze_newlines(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' {
            let run = b[i..].iter().take_while(|&&x| x == b'\n').count();
            if run >= 3 {
                out.push_str(&s[start..i]);
                out.push_str("\n\n");
                start = i + run;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&str, &mut String), s: &str) -> String {
        let mut out = String::new();
        f(s, &mut out);
        out
    }

    #[test]
    fn python_classes() {
        assert!(is_py_word('é') && is_py_word('½') && is_py_word('_') && is_py_word('٣'));
        assert!(!is_py_word('\u{301}') && !is_py_word('‿') && !is_py_word('-'));
        assert_eq!(py_strip("\x1c a \u{3000}"), "a");
        assert_eq!(run(py_lower, "İΣΑΣ ΟΔΟΣ"), "i̇σας οδος");
        assert_eq!(run(nfkd_without_marks, "Café ﬀ ½ ²"), "Cafe ff 1⁄2 2");
        // Unicode 16 letters are unknown to Python 3.12: left as they are.
        assert_eq!(run(py_lower, "\u{a7dc} ΑΣ"), "\u{a7dc} ας");
        assert_eq!(run(collapse_py_space, "a \x1f\t b"), "a b");
        assert_eq!(
            run(collapse_py_space, " é\u{3000}\u{85}ü  \u{200b}x\n"),
            " é ü \u{200b}x "
        );
        assert_eq!(
            run(squeeze_newlines, "a\n\n\n\nb\n\nc\n\n\n"),
            "a\n\nb\n\nc\n\n"
        );
    }

    proptest::proptest! {
        /// The word-at-a-time collapse against Python's `re.sub(r"\s+", " ", s)` done plainly.
        #[test]
        fn collapsing_matches_the_plain_definition(
            chars in proptest::collection::vec(
                proptest::sample::select(vec![
                    'a', 'Z', ' ', '\t', '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1f', '!', '\u{85}',
                    '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{200b}', '\u{2028}', '\u{202f}',
                    '\u{205f}', '\u{3000}', 'é', '\u{e1}', '\u{2030}', '\u{3001}', '😀', '\u{c2}',
                ]),
                0..60,
            )
        ) {
            let s: String = chars.into_iter().collect();
            let mut want = String::new();
            let mut in_space = false;
            for c in s.chars() {
                if is_py_space(c) {
                    if !in_space {
                        want.push(' ');
                    }
                    in_space = true;
                } else {
                    want.push(c);
                    in_space = false;
                }
            }
            proptest::prop_assert_eq!(run(collapse_py_space, &s), want);
        }
    }
}

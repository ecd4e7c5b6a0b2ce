//! `fasttext_text(text)`: a normalized text made safe for one fastText training line. As
//! bonepick does, every `\b__label__(\S+)\b` (Python's regex classes) becomes its captured part,
//! so a document cannot smuggle labels in; unlike bonepick (B8), line breaks become spaces, so
//! one row is always one line whatever the normalizer.

use pick_compat::pyfmt::is_py_space;

use crate::unicode::is_py_word;

const MARK: &str = "__label__";

/// Python `\b` at byte `i` of `s`.
fn boundary(s: &str, i: usize) -> bool {
    let before = s[..i].chars().next_back().is_some_and(is_py_word);
    let after = s[i..].chars().next().is_some_and(is_py_word);
    before != after
}

pub fn fasttext_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(MARK) && boundary(text, i) {
            let start = i + MARK.len();
            let run_end = text[start..]
                .char_indices()
                .find(|(_, c)| is_py_space(*c))
                .map_or(text.len(), |(k, _)| start + k);
            // `\S+` is greedy and gives back characters until `\b` holds.
            let end = text[start..run_end]
                .char_indices()
                .map(|(k, c)| start + k + c.len_utf8())
                .rev()
                .find(|&j| boundary(text, j));
            if let Some(end) = end {
                push_line_safe(&text[start..end], &mut out);
                i = end;
                continue;
            }
        }
        let c = text[i..].chars().next().expect("in bounds");
        push_line_safe(c.encode_utf8(&mut [0; 4]), &mut out);
        i += c.len_utf8();
    }
    out
}

/// `\n` and `\r` would end or split a fastText line.
fn push_line_safe(s: &str, out: &mut String) {
    for c in s.chars() {
        out.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
}

#[cfg(test)]
mod tests {
    use super::fasttext_text;

    #[test]
    fn label_tokens_unwrap_as_in_bonepick() {
        // bonepick's example (spec §4.1).
        assert_eq!(
            fasttext_text("a __label__pos b x__label__y __label__neg."),
            "a pos b x__label__y neg."
        );
        assert_eq!(fasttext_text("__label__a_b-c d"), "a_b-c d");
        assert_eq!(fasttext_text("(__label__x)"), "(x)");
        assert_eq!(fasttext_text("__label__... z"), "__label__... z");
        assert_eq!(fasttext_text("__label__ z"), "__label__ z");
        assert_eq!(fasttext_text("é__label__x"), "é__label__x");
    }

    #[test]
    fn one_row_one_line() {
        assert_eq!(fasttext_text("a\nb\r\nc"), "a b  c");
    }
}

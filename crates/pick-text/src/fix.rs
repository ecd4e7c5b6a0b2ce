//! bonepick's `cut_and_ftfy_text`: cut very long texts, then run plsfix on each run of word and of
//! non-word characters separately (Python `re.split(r"\b")`).
//!
//! plsfix leaves plain ASCII alone, so runs of printable ASCII skip it entirely, and other runs
//! are remembered per thread: most documents repeat the few runs plsfix has to look at.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::unicode::is_py_word;

/// Texts longer than this many code points are cut first.
pub const MAX_CHARS: usize = 1 << 20;
const MAX_CACHED_RUN: usize = 64;
const MAX_CACHE_ENTRIES: usize = 1 << 16;

thread_local! {
    static FIXED: RefCell<FxHashMap<Box<str>, Box<str>>> = RefCell::new(FxHashMap::default());
}

/// The text bonepick keeps of a long one: up to the first `\n` at or after code point 2^20
/// (exclusive), or exactly 2^20 code points when there is none.
pub fn cut(text: &str) -> &str {
    if text.len() <= MAX_CHARS {
        return text;
    }
    let Some((at, _)) = text.char_indices().nth(MAX_CHARS) else {
        return text;
    };
    match text[at..].find('\n') {
        Some(nl) => &text[..at + nl],
        None => &text[..at],
    }
}

/// Bytes plsfix never changes: printable ASCII, tab and newline.
fn untouched_by_plsfix(run: &str) -> bool {
    run.bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n')
}

fn fix_run(run: &str, out: &mut String) {
    if untouched_by_plsfix(run) {
        out.push_str(run);
        return;
    }
    if run.len() > MAX_CACHED_RUN {
        out.push_str(&plsfix::fix_text(run, None));
        return;
    }
    FIXED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(fixed) = cache.get(run) {
            out.push_str(fixed);
            return;
        }
        let fixed = plsfix::fix_text(run, None);
        out.push_str(&fixed);
        if cache.len() >= MAX_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(run.into(), fixed.into());
    });
}

/// `cut_and_ftfy_text(text)`.
pub fn fix(text: &str, out: &mut String) {
    let text = cut(text);
    if untouched_by_plsfix(text) {
        out.push_str(text);
        return;
    }
    let mut start = 0;
    let mut word = None;
    for (i, c) in text.char_indices() {
        let w = is_py_word(c);
        if word.is_some_and(|prev| prev != w) {
            fix_run(&text[start..i], out);
            start = i;
        }
        word = Some(w);
    }
    fix_run(&text[start..], out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_at_the_first_newline_after_the_limit() {
        let head = "a".repeat(MAX_CHARS - 2);
        let text = format!("{head}é\nxyz\nrest");
        assert_eq!(cut(&text), format!("{head}é\nxyz"));
        let flat = "é".repeat(MAX_CHARS + 5);
        assert_eq!(cut(&flat).chars().count(), MAX_CHARS);
        let exact = "b".repeat(MAX_CHARS);
        assert_eq!(cut(&exact), exact);
    }

    #[test]
    fn runs_are_fixed_separately() {
        let mut out = String::new();
        fix(
            "doesnâ€™t “quote” ＦＵＬＬ ﬁ a\r\nb \x1b[31mred\x00",
            &mut out,
        );
        assert_eq!(out, "doesnâ€™t \"quote\" FULL fi a\nb [31mred");
    }
}

//! `ultrafine_commits`' mask words for e-mail addresses, URLs and long hex ids, with Python `re`
//! semantics spelled out: `\b` is Python's word boundary, `[a-z]` under IGNORECASE also matches
//! `İ ı ſ K`, and `\s` is Python's whitespace set.

use std::sync::OnceLock;

use fancy_regex::{Regex, RegexBuilder};

const WORD: &str = r"[\p{L}\p{N}_]";
const AZ: &str = r"a-zA-Z\x{130}\x{131}\x{17F}\x{212A}";
const PY_SPACE: &str = r"\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

pub const ADDR: &str = " ___ADDR___ ";
pub const URL: &str = " ___URL___ ";
pub const CODE: &str = " ___CODE___ ";

struct Patterns {
    email: Regex,
    url: Regex,
}

#[cfg(test)]
/// bonepick's hex-id pattern (for testing `mask_hex` against; case-insensitive spelled out).
const HEX: &str = r"(?<![0-9a-fA-F])(?=[0-9a-fA-F-]{16,}(?:@[0-9]+)?(?![0-9a-fA-F]))[0-9a-fA-F-]+(?:@[0-9]+)?(?![0-9a-fA-F])";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let alnum = format!("[0-9{AZ}]");
        let label_rest = format!("[0-9{AZ}-]");
        let email = format!(
            r"(?<!{WORD}){alnum}+(?:[._%+-]{alnum}+)*@(?:{label_rest}+\.)+[{AZ}]{{2,63}}(?!{WORD})"
        );
        let label = format!("{alnum}(?:{label_rest}{{0,61}}{alnum})?");
        let boundary = format!("(?:(?<={WORD})(?!{WORD})|(?<!{WORD})(?={WORD}))");
        let url = format!(
            r#"(?<!{WORD})(?:[hH][tT][tT][pP][sS\x{{17F}}]?://)?(?:[wW][wW][wW]\.)?{label}(?:\.{label})+(?::\d{{2,5}})?(?:/[^{PY_SPACE}<>"'(){{}}\[\]]*)?{boundary}"#
        );
        // Python's `re` has no backtracking limit: a long run of letters after an `@` costs time, not
        // a different answer, so neither may it here.
        let compile = |p: &str| {
            RegexBuilder::new(p)
                .backtrack_limit(usize::MAX)
                .build()
                .expect("commit patterns compile")
        };
        Patterns { email: compile(&email), url: compile(&url) }
    })
}

/// E-mails, then URLs, then hex ids replaced by their mask words, in bonepick's order.
pub fn mask(text: &str) -> String {
    let p = patterns();
    // Each pattern needs its character ('@', '.'); without it the regex cannot match.
    let s = if text.contains('@') {
        replace_all(&p.email, text, ADDR)
    } else {
        text.to_string()
    };
    let s = if s.contains('.') {
        replace_all(&p.url, &s, URL)
    } else {
        s
    };
    mask_hex(&s)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// The hex-id pattern by hand. Its lookahead reduces to "the run of `[0-9a-fA-F-]` starting here
/// is at least 16 long" (the character after a maximal run is never a hex digit), a start needs
/// no hex digit before it, and no later start inside a failed run can succeed; `@digits` joins
/// the match unless a hex digit follows the digits.
fn mask_hex(text: &str) -> String {
    let b = text.as_bytes();
    let part_of_id = |c: u8| is_hex(c) || c == b'-';
    let mut out = String::with_capacity(text.len());
    let (mut p, mut copied) = (0, 0);
    while p < b.len() {
        if !part_of_id(b[p]) || (p > 0 && is_hex(b[p - 1])) {
            p += 1;
            continue;
        }
        let run_end = p + b[p..].iter().take_while(|&&c| part_of_id(c)).count();
        if run_end - p < 16 {
            p = run_end;
            continue;
        }
        let mut end = run_end;
        if b.get(run_end) == Some(&b'@') {
            let digits_end = run_end
                + 1
                + b[run_end + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
            if digits_end > run_end + 1 && !b.get(digits_end).copied().is_some_and(is_hex) {
                end = digits_end;
            }
        }
        out.push_str(&text[copied..p]);
        out.push_str(CODE);
        copied = end;
        p = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// `re.sub(pattern, with, text)`; the patterns never match empty.
fn replace_all(re: &Regex, text: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    // Without a backtracking limit the engine reports no errors; were one to come, the rest of
    // the text would be left as it is.
    while let Ok(Some(m)) = re.find_from_pos(text, last) {
        out.push_str(&text[last..m.start()]);
        out.push_str(with);
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// The word a mask word stands for after lowercasing: `___URL___` -> `URL`.
pub fn protected(token: &str) -> Option<&'static str> {
    [ADDR, URL, CODE]
        .into_iter()
        .find(|p| p.trim() == token)
        .map(|p| p.trim().trim_matches('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_scanner_matches_the_regex() {
        let re = &Regex::new(HEX).unwrap();
        for text in [
            "3f2a9b8c7d6e5f4a3b2c1d0e",
            "x0123456789abcdef0 0123456789abcde",
            "-0123456789abcdef@12 abc-def-0123-4567@9f a0123456789abcdef0123@",
            "0123456789abcdef@12a 0123456789ABCDEF@ g0123456789abcdef-",
            "é0123456789abcdef--------------- 1234567890123456@007",
        ] {
            assert_eq!(mask_hex(text), replace_all(re, text, CODE), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn hex_scanner_agrees_with_the_regex(parts in proptest::collection::vec(
            proptest::sample::select(vec!["0", "9", "a", "F", "-", "@", "1", "g", " ", "é", "0123456789abcdef", "@42"]),
            0..30,
        )) {
            let text = parts.concat();
            proptest::prop_assert_eq!(mask_hex(&text), replace_all(&Regex::new(HEX).unwrap(), &text, CODE));
        }
    }

    #[test]
    fn masks_like_python_re() {
        assert_eq!(
            mask("mail john.doe@example.com, see https://x.org/a?b=1 and 3f2a9b8c7d6e5f4a3b2c1d0e"),
            "mail  ___ADDR___ , see  ___URL___  and  ___CODE___ "
        );
        assert_eq!(
            mask("utils.py e.g 1.5"),
            " ___URL___   ___URL___   ___URL___ "
        );
        assert_eq!(mask("abc-def-0123-4567"), " ___CODE___ ");
        assert_eq!(mask("x0123456789abcdef0"), "x ___CODE___ ");
        assert_eq!(
            mask("0123456789abcde 0123456789abcdefg"),
            "0123456789abcde  ___CODE___ g"
        );
        assert_eq!(protected("___URL___"), Some("URL"));
        assert_eq!(protected("url"), None);
    }
}

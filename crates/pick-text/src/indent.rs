//! Space indentation to tabs, as bonepick's `hyperfine_code` and `potion_code` do it.

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The indent unit: the gcd of the leading-space counts of lines that have content after their
/// spaces and do not continue with a tab.
fn indent_unit(text: &str) -> Option<usize> {
    let mut unit = 0;
    for line in text.split('\n') {
        let rest = line.trim_start_matches(' ');
        let spaces = line.len() - rest.len();
        if spaces > 0 && !rest.is_empty() && !rest.starts_with('\t') {
            unit = gcd(unit, spaces);
            if unit == 1 {
                break;
            }
        }
    }
    (unit > 0).then_some(unit)
}

/// Every line that starts with spaces gets `n / unit` tabs and `n % unit` spaces instead.
pub fn spaces_to_tabs(text: &str, out: &mut String) {
    let Some(unit) = indent_unit(text) else {
        out.push_str(text);
        return;
    };
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let rest = line.trim_start_matches(' ');
        let spaces = line.len() - rest.len();
        out.extend(std::iter::repeat_n('\t', spaces / unit));
        out.extend(std::iter::repeat_n(' ', spaces % unit));
        out.push_str(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tabs(s: &str) -> String {
        let mut out = String::new();
        spaces_to_tabs(s, &mut out);
        out
    }

    #[test]
    fn converts_by_the_common_unit() {
        assert_eq!(tabs("a\n  b\n    c\n      d\n"), "a\n\tb\n\t\tc\n\t\t\td\n");
        assert_eq!(tabs("a\n    b\n      "), "a\n\tb\n\t  ");
        assert_eq!(tabs("a\n    b\n        c"), "a\n\tb\n\t\tc");
        assert_eq!(tabs("   \n"), "   \n");
        assert_eq!(tabs("x\n  \ty\n    z\n  "), "x\n  \ty\n\tz\n  ");
        assert_eq!(tabs("no indent"), "no indent");
    }
}

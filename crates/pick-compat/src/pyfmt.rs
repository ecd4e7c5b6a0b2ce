//! Python's text forms of values, which bonepick's outputs are made of: `repr(float)`,
//! `str()` of labels, `repr()` of strings inside lists and dicts, and `str.isspace`.

/// A float as Python's `repr` writes it: shortest round-trip digits, positional for
/// exponents in [-4, 16), else `d.ddde±XX`. Not finite: `nan`, `inf`, `-inf`.
pub fn float_repr(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("nan");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e-7", "1e20", "-0e0".
    repr_of_scientific(&format!("{v:e}"), out);
}

/// A 32-bit float laid out as Python's `repr` lays out a float, with the shortest digits that
/// round-trip as 32 bits (what a model's probabilities carry): `7.152677e-05`, `0.25`.
pub fn float32_repr(v: f32, out: &mut String) {
    if !v.is_finite() {
        float_repr(v as f64, out);
        return;
    }
    repr_of_scientific(&format!("{v:e}"), out);
}

/// Python's layout of a number given as Rust's `{:e}` text (`-1.25e-7`).
fn repr_of_scientific(sci: &str, out: &mut String) {
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(mantissa);
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    }
}

/// `str()` of a JSON number as bonepick sees it: integral values become Python ints
/// (`2.0` → `2`, `1e20` → `100000000000000000000`), others floats.
pub fn number_str(v: f64, out: &mut String) {
    if v.is_finite() && v.fract() == 0.0 {
        out.push_str(&format!("{v:.0}"));
    } else {
        float_repr(v, out);
    }
}

/// Python's `repr()` of a string: single quotes unless the text has a `'` and no `"`.
pub fn str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `str.isspace` set (Rust's `char::is_whitespace` lacks `\x1c`–`\x1f`).
pub fn is_py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut s = String::new();
        float_repr(v, &mut s);
        s
    }

    #[test]
    fn floats_like_python_repr() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(f(1.5e-7), "1.5e-07");
        let f32r = |v: f32| {
            let mut s = String::new();
            float32_repr(v, &mut s);
            s
        };
        assert_eq!(f32r(7.152677e-5), "7.152677e-05");
        assert_eq!(f32r(0.25), "0.25");
        assert_eq!(f32r(1.0), "1.0");
        assert_eq!(f32r(0.1), "0.1");
    }

    #[test]
    fn numbers_and_strings_like_python_str() {
        let n = |v| {
            let mut s = String::new();
            number_str(v, &mut s);
            s
        };
        assert_eq!(n(2.0), "2");
        assert_eq!(n(1e20), "100000000000000000000");
        assert_eq!(n(-3.0), "-3");
        assert_eq!(n(2.5), "2.5");
        let r = |s: &str| {
            let mut o = String::new();
            str_repr(s, &mut o);
            o
        };
        assert_eq!(r("a"), "'a'");
        assert_eq!(r("it's"), "\"it's\"");
        assert_eq!(r("a'\"b\n"), "'a\\'\"b\\n'");
        assert!(is_py_space('\x1c') && is_py_space('\u{3000}') && !is_py_space('\u{200b}'));
    }
}

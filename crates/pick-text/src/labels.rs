//! `normalize_label(label)`: bonepick's label normalisation (spec §2.7): drop a leading
//! `__label__`, turn each run of Python whitespace into `_`, lowercase, strip.

use pick_compat::pyfmt::is_py_space;

pub fn normalize_label(label: &str) -> String {
    let label = label.strip_prefix("__label__").unwrap_or(label);
    let mut out = String::with_capacity(label.len());
    let mut in_space = false;
    for c in label.chars() {
        if is_py_space(c) {
            if !in_space {
                out.push('_');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let lower = out.to_lowercase();
    lower.trim_matches(is_py_space).to_string()
}

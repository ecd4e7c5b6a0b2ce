//! pick's YAML writer (`pick_compat::yaml`): the bytes are a JSON document; it becomes a `Yaml`
//! value (integers that fit `i64` as `Int`, other numbers as `Float`), is written as pick writes
//! reports, and is read back with libyaml (`serde_yaml`, the parser PyYAML's C loader uses).
//!
//! What the writer promises, and so what is checked:
//! - the text reads back as the same value: the same structure, keys and strings as strings,
//!   integers as integers, floats as the same floats (written as Python's `repr`);
//! - floats are written so that PyYAML reads them as floats (its YAML 1.1 float pattern);
//! - a string written plain is one that PyYAML's resolver would not read as anything else
//!   (bool, null, int, float, timestamp, merge, value), checked against PyYAML's own patterns.
//!
//! Not checked, as the reader and not the writer differs: strings like `0o17`, which YAML 1.2
//! (serde_yaml) reads as an octal integer and YAML 1.1 (PyYAML, the writer's target) as a string.
//! Documents nested deeper than 100 levels are only written (the two parsers' recursion limits).
//!
//! Each gap this target found (escapes, document markers, long keys, empty top-level
//! collections, a list item's first key losing Unicode spaces) is fixed and has a unit test in
//! `pick_compat::yaml`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pick_compat::yaml::Yaml;
use regex::Regex;
use serde_yaml::Value as YamlValue;

const MAX_DEPTH: usize = 100;

/// PyYAML's implicit resolvers (`yaml/resolver.py`), written out of verbose mode. A plain
/// scalar matching one of these is not read as a string by PyYAML.
fn pyyaml_implicit() -> &'static [Regex] {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // bool
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            // null
            r"^(?:~|null|Null|NULL|)$",
            // float
            PYYAML_FLOAT,
            // int
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            // timestamp
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            // merge, value, yaml
            r"^(?:<<)$",
            r"^(?:=)$",
            r"^(?:!|&|\*)$",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("PyYAML's pattern compiles"))
        .collect()
    })
}

const PYYAML_FLOAT: &str = r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$";

fn pyyaml_float() -> &'static Regex {
    static FLOAT: OnceLock<Regex> = OnceLock::new();
    FLOAT.get_or_init(|| Regex::new(PYYAML_FLOAT).expect("PyYAML's float pattern compiles"))
}

/// Strings YAML 1.2 reads as octal integers and YAML 1.1 as strings.
fn yaml12_octal() -> &'static Regex {
    static OCTAL: OnceLock<Regex> = OnceLock::new();
    OCTAL.get_or_init(|| Regex::new(r"^[-+]?0o[0-7]+$").expect("compiles"))
}

fn to_yaml(v: &serde_json::Value) -> Yaml {
    use serde_json::Value as J;
    match v {
        J::Null => Yaml::Null,
        J::Bool(b) => Yaml::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Int(i),
            None => Yaml::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Yaml::Str(s.clone()),
        J::Array(items) => Yaml::List(items.iter().map(to_yaml).collect()),
        J::Object(map) => Yaml::Map(map.iter().map(|(k, v)| (k.clone(), to_yaml(v))).collect()),
    }
}

fn depth(v: &Yaml) -> usize {
    match v {
        Yaml::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Yaml::Map(entries) => 1 + entries.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Every string of the value, keys included, with whether it is a key.
fn strings<'a>(v: &'a Yaml, out: &mut Vec<(&'a str, bool)>) {
    match v {
        Yaml::Str(s) => out.push((s.as_str(), false)),
        Yaml::List(items) => items.iter().for_each(|i| strings(i, out)),
        Yaml::Map(entries) => {
            for (k, v) in entries {
                out.push((k.as_str(), true));
                strings(v, out);
            }
        }
        _ => {}
    }
}

/// The writer's scalar text for one value (a top-level scalar is written on a line of its own).
fn scalar_text(v: Yaml) -> String {
    let mut text = v.to_text();
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// Floats are written so that PyYAML reads them as floats.
fn check_floats(doc: &Yaml) {
    match doc {
        Yaml::Float(f) => {
            let text = scalar_text(Yaml::Float(*f));
            assert!(
                pyyaml_float().is_match(&text),
                "the float {f:?} is written {text:?}, which PyYAML does not read as a float"
            );
        }
        Yaml::List(items) => items.iter().for_each(check_floats),
        Yaml::Map(entries) => entries.iter().for_each(|(_, v)| check_floats(v)),
        _ => {}
    }
}

/// A string written plain is written as itself, and PyYAML reads it as a string.
fn check_plain_strings(all: &[(&str, bool)]) {
    for &(s, _) in all {
        let text = scalar_text(Yaml::Str(s.to_string()));
        if text.starts_with(['\'', '"']) {
            continue;
        }
        assert_eq!(text, s, "a plain string is written as something else");
        if let Some(p) = pyyaml_implicit().iter().find(|p| p.is_match(s)) {
            panic!("{s:?} is written plain, but PyYAML reads it as a non-string ({p})");
        }
    }
}

fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same(want: &Yaml, got: &YamlValue, at: &str) -> Result<(), String> {
    let ok = match (want, got) {
        (Yaml::Null, YamlValue::Null) => true,
        (Yaml::Bool(a), YamlValue::Bool(b)) => a == b,
        (Yaml::Int(i), YamlValue::Number(n)) => n.as_i64() == Some(*i),
        (Yaml::Float(f), YamlValue::Number(n)) => {
            n.is_f64() && n.as_f64().is_some_and(|g| same_float(*f, g))
        }
        (Yaml::Str(a), YamlValue::String(b)) => a == b,
        (Yaml::List(items), YamlValue::Sequence(got_items)) => {
            if items.len() != got_items.len() {
                return Err(format!(
                    "{at}: {} items read back as {}",
                    items.len(),
                    got_items.len()
                ));
            }
            for (i, (w, g)) in items.iter().zip(got_items).enumerate() {
                same(w, g, &format!("{at}[{i}]"))?;
            }
            true
        }
        (Yaml::Map(entries), YamlValue::Mapping(got_entries)) => {
            if entries.len() != got_entries.len() {
                return Err(format!(
                    "{at}: {} entries read back as {}",
                    entries.len(),
                    got_entries.len()
                ));
            }
            for ((k, w), (gk, g)) in entries.iter().zip(got_entries.iter()) {
                match gk {
                    YamlValue::String(s) if s == k => {}
                    other => return Err(format!("{at}: the key {k:?} read back as {other:?}")),
                }
                same(w, g, &format!("{at}.{k}"))?;
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{at}: {want:?} read back as {got:?}"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let doc = to_yaml(&json);
    let text = doc.to_text();
    let mut all = Vec::new();
    strings(&doc, &mut all);
    check_floats(&doc);
    check_plain_strings(&all);

    if depth(&doc) > MAX_DEPTH {
        return;
    }
    if all.iter().any(|(s, _)| yaml12_octal().is_match(s)) {
        return;
    }
    let back: YamlValue = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            panic!("pick's YAML does not parse: {e}\n--- text ---\n{text}--- value ---\n{doc:?}")
        }
    };
    if let Err(diff) = same(&doc, &back, "$") {
        panic!("pick's YAML reads back differently: {diff}\n--- text ---\n{text}");
    }
});

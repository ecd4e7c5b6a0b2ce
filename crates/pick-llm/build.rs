//! The shipped prompt library (`prompts/` at the repository root) compiled into the binary, so
//! `pick` finds its prompts wherever it runs: one `(kind, name, template, schema)` entry per
//! `prompts/{system,task}/<name>.jinja` (and its `<name>.schema.json`, when there is one).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../prompts");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::from("&[\n");
    for kind in ["system", "task"] {
        let dir = root.join(kind);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.strip_suffix(".jinja").map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names {
            let template = dir.join(format!("{name}.jinja"));
            let schema = dir.join(format!("{name}.schema.json"));
            println!("cargo:rerun-if-changed={}", template.display());
            println!("cargo:rerun-if-changed={}", schema.display());
            let schema = if schema.exists() {
                format!("Some(include_str!({:?}))", path(&schema))
            } else {
                "None".to_string()
            };
            writeln!(
                out,
                "    ({kind:?}, {name:?}, include_str!({:?}), {schema}),",
                path(&template)
            )
            .unwrap();
        }
    }
    out.push_str("]\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("shipped_prompts.rs");
    std::fs::write(dest, out).unwrap();
}

fn path(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

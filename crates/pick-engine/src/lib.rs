//! pick's engine: datasets of JSON-lines, Parquet and Arrow shards as DataFusion tables, the
//! session every query runs on (pick's functions registered, memory bounded), the writers, the
//! per-shard runner and the external shuffle, the one query builder, and a pipeline per command
//! (parameters in, a serializable report out). No command-line parsing and no printing here:
//! `pick-cli` parses, calls a pipeline with an `Observer`, and presents its report.

pub mod dataset;
pub mod error;
pub mod format;
pub mod observe;
pub mod ops;
pub mod pipelines;
pub mod plan;
pub mod session;
pub mod store;
pub mod units;
pub mod write;

pub use error::{PickError, Result};
pub use observe::{Observer, Progress, Silent};
pub use plan::{Params, Query};
pub use session::Engine;

/// The module rules ARCHITECTURE.md states, checked on the sources: each module may use the
/// modules listed for it and no other of the engine's.
#[cfg(test)]
mod layers {
    use std::path::Path;

    /// A module and what it may use. Leaves (`error`, `observe`, `units`) use nothing.
    const RULES: &[(&str, &[&str])] = &[
        ("error", &[]),
        ("observe", &[]),
        ("units", &[]),
        ("format", &["error"]),
        ("store", &["error", "observe", "units"]),
        ("dataset", &["error", "observe", "units", "format", "store"]),
        ("write", &["error", "observe", "units", "format", "store"]),
        ("plan", &["error", "observe", "units", "format", "dataset"]),
        (
            "session",
            &[
                "error", "observe", "units", "format", "store", "dataset", "plan",
            ],
        ),
        (
            "ops",
            &[
                "error", "observe", "units", "format", "store", "dataset", "write", "plan",
                "session",
            ],
        ),
    ];

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn modules_use_only_the_layers_below_them() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut broken = Vec::new();
        for (module, allowed) in RULES {
            let mut files = Vec::new();
            let dir = src.join(module);
            if dir.is_dir() {
                sources(&dir, &mut files);
            }
            let file = src.join(format!("{module}.rs"));
            if file.is_file() {
                files.push(file);
            }
            assert!(!files.is_empty(), "no sources for {module}");
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                for (at, _) in text.match_indices("crate::") {
                    let used: String = text[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if used != *module && !allowed.contains(&used.as_str()) {
                        broken.push(format!("{} uses crate::{used}", file.display()));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "{}", broken.join("\n"));
    }

    #[test]
    fn the_engine_does_not_know_the_cluster() {
        let manifest =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .unwrap();
        assert!(
            !manifest.contains("ballista"),
            "pick-engine depends on Ballista"
        );
    }
}

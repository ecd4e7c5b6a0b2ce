//! What users see: terminal tables, progress bars, and a standard output that is safe when its
//! reader goes away (`pick ... | head`).

pub mod progress;
pub mod stdout;
pub mod table;

pub use progress::Terminal;
pub use stdout::Out;

/// Tells where `--plot` charts went (stderr, like the other reports).
pub fn plots_written(paths: &[std::path::PathBuf]) {
    if let Some(first) = paths.first() {
        let dir = first.parent().unwrap_or(first);
        let names: Vec<String> = paths
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .collect();
        eprintln!("plots in {}: {}", dir.display(), names.join(", "));
    }
}

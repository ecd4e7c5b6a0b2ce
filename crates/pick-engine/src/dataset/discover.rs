//! Finding the shards of a dataset: which files count, in which order, with which codec.

use std::path::{Path, PathBuf};

use crate::error::{PickError, Result};

/// Suffixes of JSON-lines shards (bonepick's set, matched on the whole name so `part.00.jsonl`
/// counts), of Parquet shards and of Arrow IPC shards.
const JSON_SUFFIXES: &[&str] = &[
    ".jsonl",
    ".json",
    ".jsonl.zst",
    ".jsonl.zstd",
    ".jsonl.gz",
    ".jsonl.gzip",
    ".json.zst",
    ".json.zstd",
    ".json.gz",
    ".json.gzip",
];
const PARQUET_SUFFIX: &str = ".parquet";
/// Arrow IPC files and streams (what a Hugging Face `datasets` cache holds).
const ARROW_SUFFIX: &str = ".arrow";

/// The split directory names of bonepick's layout.
pub use crate::format::Codec;

pub const SPLITS: &[&str] = &["train", "valid", "test"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardFormat {
    JsonLines(Codec),
    Parquet,
    Arrow,
}

impl ShardFormat {
    pub fn from_name(name: &str) -> Option<ShardFormat> {
        if name.ends_with(PARQUET_SUFFIX) {
            Some(ShardFormat::Parquet)
        } else if name.ends_with(ARROW_SUFFIX) {
            Some(ShardFormat::Arrow)
        } else if JSON_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            Some(ShardFormat::JsonLines(Codec::from_name(name)))
        } else {
            None
        }
    }
}

/// One file of a dataset.
#[derive(Debug, Clone)]
pub struct Shard {
    pub path: PathBuf,
    /// Path relative to the dataset root, with `/` separators: the `_file` column and the
    /// name outputs mirror.
    pub rel: String,
    pub split: Option<String>,
    pub format: ShardFormat,
    /// Size on disk in bytes (compressed size for compressed shards).
    pub size: u64,
    /// The object, for a shard in a store (`path` then holds its URL).
    pub object: Option<crate::store::Remote>,
    /// What changes when the shard's bytes do: a file's modification time in nanoseconds,
    /// an object's ETag (or its last-modified time when the store gives no ETag).
    pub version: String,
}

/// A file's modification time in nanoseconds since the epoch, as `Shard::version` holds it.
pub fn modified_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Lists the shards under `root` (a directory, a single file, or a glob pattern), sorted by
/// relative path so every run sees the same order.
pub fn discover(root: &str) -> Result<(PathBuf, Vec<Shard>)> {
    if crate::store::is_url(root) {
        return discover_remote(root);
    }
    let is_glob = root.contains(['*', '?', '[']);
    let (base, files) = if is_glob {
        let base = glob_base(root);
        let paths = glob::glob(root).map_err(|e| PickError::Dataset {
            path: root.into(),
            message: format!("bad glob pattern: {e}"),
        })?;
        let mut files = Vec::new();
        for p in paths {
            let p = p.map_err(|e| PickError::io(e.path().to_path_buf(), e.into()))?;
            if p.is_file() {
                files.push(p);
            } else if p.is_dir() {
                walk(&p, &mut files)?;
            }
        }
        (base, files)
    } else {
        let path = PathBuf::from(root);
        let meta = std::fs::metadata(&path).map_err(|e| PickError::Dataset {
            path: path.clone(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "no such file or directory".to_string()
            } else {
                e.to_string()
            },
        })?;
        if meta.is_file() {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (base, vec![path])
        } else {
            let mut files = Vec::new();
            walk(&path, &mut files)?;
            (path, files)
        }
    };

    let mut shards = Vec::with_capacity(files.len());
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(format) = ShardFormat::from_name(name) else {
            continue;
        };
        let rel = relative(&base, &path);
        let meta = std::fs::metadata(&path).map_err(|e| PickError::io(&path, e))?;
        let split = split_of(&base, &rel);
        shards.push(Shard {
            path,
            rel,
            split,
            format,
            size: meta.len(),
            object: None,
            version: modified_ns(&meta).to_string(),
        });
    }
    shards.sort_by(|a, b| a.rel.cmp(&b.rel));
    shards.dedup_by(|a, b| a.path == b.path);
    Ok((base, shards))
}

/// [`discover`] for a URL: one object, a prefix (every object under it), or a glob over keys
/// (`*` within one path segment, `**` across them; a matching prefix brings everything under
/// it, as a matching directory does locally).
fn discover_remote(root: &str) -> Result<(PathBuf, Vec<Shard>)> {
    use crate::store::{Remote, read, write};
    let location = Remote::parse(root)?;
    let is_glob = location.key.contains(['*', '?', '[']);
    let (base, listed) = if is_glob {
        let literal: Vec<&str> = location
            .key
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[']))
            .collect();
        let base = location.child_of_root(&literal.join("/"));
        let pattern = glob::Pattern::new(&location.key).map_err(|e| PickError::Dataset {
            path: root.into(),
            message: format!("bad glob pattern: {e}"),
        })?;
        let opts = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        let prefix = if base.key.is_empty() {
            String::new()
        } else {
            format!("{}/", base.key)
        };
        let listed: Vec<write::Listed> = write::list_versions(&base)?
            .into_iter()
            .filter(|(rel, _, _)| {
                let key = format!("{prefix}{rel}");
                let parts: Vec<&str> = key.split('/').collect();
                (1..=parts.len()).any(|n| pattern.matches_with(&parts[..n].join("/"), opts))
            })
            .collect();
        (base, listed)
    } else if ShardFormat::from_name(&location.key).is_some()
        && let Ok((size, version)) = read::head(&location)
    {
        let (dir, name) = location.key.rsplit_once('/').unwrap_or(("", &location.key));
        (
            location.child_of_root(dir),
            vec![(name.to_string(), size, version)],
        )
    } else {
        let listed = write::list_versions(&location)?;
        if listed.is_empty() {
            return Err(PickError::Dataset {
                path: root.into(),
                message: "no such prefix or object".into(),
            });
        }
        (location, listed)
    };
    if listed
        .iter()
        .any(|(rel, _, _)| rel.rsplit('/').next() == Some(write::WRITING_MARKER))
    {
        return Err(PickError::Dataset {
            path: root.into(),
            message: format!(
                "a pick command was interrupted while writing here ({} is present): \
                 rerun the command that writes it",
                write::WRITING_MARKER
            ),
        });
    }
    let base_path = base.display_path();
    let mut shards: Vec<Shard> = listed
        .into_iter()
        .filter_map(|(rel, size, version)| {
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            let format = ShardFormat::from_name(name)?;
            let object = base.child(&rel);
            Some(Shard {
                path: object.display_path(),
                split: split_of(&base_path, &rel),
                rel,
                format,
                size,
                object: Some(object),
                version,
            })
        })
        .collect();
    shards.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((base_path, shards))
}

/// Every file under `dir`, following links to directories but entering each directory once
/// (by device and inode): a link back up the tree would otherwise repeat the same shards under
/// ever longer names until the OS refuses the path.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    walk_once(dir, out, &mut seen)
}

fn walk_once(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<(u64, u64)>,
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).map_err(|e| PickError::io(dir, e))?;
    if !seen.insert((meta.dev(), meta.ino())) {
        crate::observe::warn(&format!(
            "{} leads back to a directory already read (a symbolic link loop); not read again",
            dir.display()
        ));
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| PickError::io(dir, e))?
        .map(|e| e.map_err(|e| PickError::io(dir, e)))
        .collect::<Result<Vec<_>>>()?;
    // Sorted, so which of two names for one directory is read does not depend on the OS.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| PickError::io(&path, e))?;
        if ty.is_dir() || (ty.is_symlink() && path.is_dir()) {
            walk_once(&path, out, seen)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The directory part of a glob pattern before its first wildcard component.
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for comp in Path::new(pattern).components() {
        let s = comp.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[']) {
            break;
        }
        base.push(comp);
    }
    base
}

fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The split a shard belongs to: the nearest enclosing directory named `train`, `valid` or
/// `test`, looking inside the dataset and at the dataset root's own name (so `data/train` and
/// `data/train/*.jsonl` also know their split).
fn split_of(base: &Path, rel: &str) -> Option<String> {
    let mut dirs: Vec<&str> = rel.split('/').collect();
    dirs.pop();
    let root_name = base.file_name().and_then(|n| n.to_str());
    dirs.iter()
        .rev()
        .copied()
        .chain(root_name)
        .find(|d| SPLITS.contains(d))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_follow_whole_name() {
        assert!(ShardFormat::from_name("part.00.jsonl").is_some());
        assert!(ShardFormat::from_name("x.v1.jsonl.zst").is_some());
        assert_eq!(
            ShardFormat::from_name("a.jsonl.gzip"),
            Some(ShardFormat::JsonLines(Codec::Gzip))
        );
        assert_eq!(
            ShardFormat::from_name("a.parquet"),
            Some(ShardFormat::Parquet)
        );
        assert!(ShardFormat::from_name("a.txt").is_none());
        assert!(ShardFormat::from_name("a.jsonl.bz2").is_none());
        assert!(ShardFormat::from_name(".a.jsonl.pick-tmp").is_none());
    }

    #[test]
    fn split_from_nearest_directory() {
        let base = Path::new("/d/data");
        assert_eq!(split_of(base, "train/a.jsonl").as_deref(), Some("train"));
        assert_eq!(split_of(base, "en/test/a.jsonl").as_deref(), Some("test"));
        assert_eq!(split_of(base, "a.jsonl"), None);
        assert_eq!(
            split_of(Path::new("/d/data/valid"), "a.jsonl").as_deref(),
            Some("valid")
        );
    }

    #[test]
    fn glob_base_stops_at_wildcard() {
        assert_eq!(
            glob_base("data/train/*.jsonl.zst"),
            PathBuf::from("data/train")
        );
        assert_eq!(glob_base("data/**/x.jsonl"), PathBuf::from("data"));
    }
}

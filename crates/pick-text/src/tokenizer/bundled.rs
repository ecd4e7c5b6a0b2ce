//! The two tokenizers bonepick bundles, shipped zstd-compressed inside the binary, and any local
//! `tokenizer.json` a user names. Each is loaded once per process and shared by all threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::{Tokenizer, TokenizerError};

const DOLMA2_ZST: &[u8] = include_bytes!("../../assets/tokenizers/dolma2_tokenizer.json.zst");
const ULTRA_FINEWEB_ZST: &[u8] =
    include_bytes!("../../assets/tokenizers/ultra_fineweb_tokenizer.json.zst");

/// Names (and the Hugging Face ids they came from) of the bundled tokenizers.
pub const BUNDLED: [(&str, &str); 2] = [
    ("dolma2", "allenai/dolma2-tokenizer"),
    ("ultrafine", "allenai/Ultra-FineWeb-tokenizer"),
];

fn load_zst(bytes: &[u8]) -> Tokenizer {
    let json = zstd::decode_all(bytes).expect("bundled tokenizer decompresses");
    let json = String::from_utf8(json).expect("bundled tokenizer is UTF-8");
    Tokenizer::from_json(&json).expect("bundled tokenizer loads")
}

/// dolma2 (cl100k-style BPE), used by the `tokenizer` and `hyperfine*` normalizers and `count-tokens`.
pub fn dolma2() -> &'static Arc<Tokenizer> {
    static T: OnceLock<Arc<Tokenizer>> = OnceLock::new();
    T.get_or_init(|| Arc::new(load_zst(DOLMA2_ZST)))
}

/// Ultra-FineWeb (DeepSeek-style BPE, single digits), used by the `ultrafine*` normalizers.
pub fn ultra_fineweb() -> &'static Arc<Tokenizer> {
    static T: OnceLock<Arc<Tokenizer>> = OnceLock::new();
    T.get_or_init(|| Arc::new(load_zst(ULTRA_FINEWEB_ZST)))
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("tokenizer {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tokenizer {path}: {source}")]
    Tokenizer {
        path: PathBuf,
        source: TokenizerError,
    },
    #[error(
        "tokenizer {0:?} is neither a bundled tokenizer ({names}) nor a local tokenizer.json; pick does not download from the Hugging Face hub",
        names = BUNDLED.iter().map(|(n, id)| format!("{n} = {id}")).collect::<Vec<_>>().join(", ")
    )]
    Unknown(String),
}

/// A bundled tokenizer by name or Hugging Face id, or a local `tokenizer.json` (optionally `.zst`).
pub fn load(name_or_path: &str) -> Result<Arc<Tokenizer>, LoadError> {
    let key = name_or_path.trim();
    let lower = key.to_ascii_lowercase().replace(['-', '_'], "");
    match lower.as_str() {
        "dolma2" | "allenai/dolma2tokenizer" => return Ok(dolma2().clone()),
        "ultrafine" | "ultrafineweb" | "allenai/ultrafinewebtokenizer" => {
            return Ok(ultra_fineweb().clone());
        }
        _ => {}
    }
    let path = Path::new(key);
    if !path.is_file() {
        return Err(LoadError::Unknown(key.to_string()));
    }
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Tokenizer>>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Some(t) = loaded
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&canonical)
    {
        return Ok(t.clone());
    }
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = if key.ends_with(".zst") {
        zstd::decode_all(&bytes[..]).map_err(io)?
    } else {
        bytes
    };
    let json = String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let t = Arc::new(
        Tokenizer::from_json(&json).map_err(|source| LoadError::Tokenizer {
            path: path.to_path_buf(),
            source,
        })?,
    );
    loaded
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(canonical, t.clone());
    Ok(t)
}

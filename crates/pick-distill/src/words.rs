//! The words of a `--vocabulary` file, as model2vec 0.10 (skeletoken 0.6) adds them to the
//! distilled vocabulary. Each entry goes through the tokenizer's normalizer and
//! pre-tokenizer: nothing left, and it is skipped; one piece, and that piece becomes a
//! WordPiece token unless the vocabulary has it or the removal pattern matches it; several
//! pieces, and the normalized entry becomes an added token (a phrase), taking the place of
//! the raw entry if the vocabulary held that. Each new row is embedded from the original
//! tokenizer's full encoding of it, its own fixed padding included (model2vec's quirk: an
//! all-MiniLM word is 128 ids, the padding attended).

use std::collections::HashSet;
use std::path::Path;

use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
    Tokenizer,
};

use crate::error::DistillError;

#[derive(Debug, Default, PartialEq)]
pub struct Added {
    /// Single-piece words, appended to the WordPiece vocabulary in input order.
    pub words: Vec<String>,
    /// Multi-piece entries, normalized, appended after the words as added tokens.
    pub phrases: Vec<String>,
    /// Raw entries the vocabulary held that became phrases: their old rows go.
    pub displaced: HashSet<String>,
}

/// The original tokenizer as skeletoken sees it: truncation at the model's
/// `model_max_length`, padding by its padding token.
pub fn original(
    dir: &Path,
    text: &str,
    pad: Option<(&str, u32)>,
) -> Result<Tokenizer, DistillError> {
    let path = dir.join("tokenizer.json");
    let bad = |e: tokenizers::Error| DistillError::bad(&path, e.to_string());
    let mut tk: Tokenizer = text.parse().map_err(bad)?;
    let max_length = std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|c| c["model_max_length"].as_f64())
        .filter(|m| (1.0..1e15).contains(m));
    if let Some(max_length) = max_length {
        let mut params = tk.get_truncation().cloned().unwrap_or_default();
        params.max_length = max_length as usize;
        tk.with_truncation(Some(params)).map_err(bad)?;
    }
    if let (Some(padding), Some((token, id))) = (tk.get_padding_mut(), pad) {
        padding.pad_token = token.to_string();
        padding.pad_id = id;
    }
    Ok(tk)
}

/// `entry` normalized, then cut by the pre-tokenizer.
fn pieces(tk: &Tokenizer, entry: &str) -> tokenizers::Result<(String, Vec<String>)> {
    let mut normalized = NormalizedString::from(entry);
    if let Some(n) = tk.get_normalizer() {
        n.normalize(&mut normalized)?;
    }
    let text = normalized.get().to_string();
    let mut pre = PreTokenizedString::from(text.as_str());
    if let Some(p) = tk.get_pre_tokenizer() {
        p.pre_tokenize(&mut pre)?;
    }
    let pieces = pre
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(s, _, _)| s.to_string())
        .collect();
    Ok((text, pieces))
}

/// Sorts `entries` into words and phrases. `known` is every token of the original
/// vocabulary but the dropped added tokens (the removal pattern's matches included);
/// `current` what is left after the removal pattern.
pub fn sort(
    tk: &Tokenizer,
    entries: &[String],
    known: &HashSet<&str>,
    current: &HashSet<&str>,
    removed: &dyn Fn(&str) -> bool,
) -> Result<Added, DistillError> {
    let mut added = Added::default();
    let mut seen_words = HashSet::new();
    let mut seen_phrases = HashSet::new();
    for entry in entries {
        let (normalized, pieces) = pieces(tk, entry).map_err(|e| {
            DistillError::Usage(format!(
                "--vocabulary-path: `{entry}` does not tokenize: {e}"
            ))
        })?;
        match pieces.as_slice() {
            [] => {}
            [piece] => {
                if !known.contains(piece.as_str())
                    && !removed(piece)
                    && seen_words.insert(piece.clone())
                {
                    added.words.push(piece.clone());
                }
            }
            _ => {
                if current.contains(entry.as_str()) {
                    added.displaced.insert(entry.clone());
                }
                let phrase = normalized.trim().to_string();
                if seen_phrases.insert(phrase.clone()) {
                    added.phrases.push(phrase);
                }
            }
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn minilm_like() -> (Tokenizer, PathBuf) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
        let text = std::fs::read_to_string(dir.join("tokenizer.json")).unwrap();
        (original(&dir, &text, None).unwrap(), dir)
    }

    /// The cases of the research notes (§2.3), on the tiny BERT's vocabulary: a new word, a
    /// phrase, a word the vocabulary has once normalized, a pattern match, punctuation that
    /// splits, a duplicate phrase in other case, an empty line.
    #[test]
    fn entries_sort_as_skeletoken_sorts_them() {
        let (tk, _) = minilm_like();
        let known: HashSet<&str> = ["hello", "world", "the", "[unused5]", "[CLS]", "[SEP]"].into();
        let current: HashSet<&str> = ["hello", "world", "the", "[CLS]", "[SEP]"].into();
        let re = fancy_regex::Regex::new(r"^(?:\[unused\d+\])").unwrap();
        let removed = |t: &str| re.is_match(t).unwrap_or(false);
        let entries: Vec<String> = [
            "distillation",
            "Hello World",
            "HELLO",
            "[unused5]",
            "New-York",
            "hello world",
            "",
            "  ",
            "Distillation",
            "the",
        ]
        .map(String::from)
        .into();
        let added = sort(&tk, &entries, &known, &current, &removed).unwrap();
        assert_eq!(added.words, ["distillation"]);
        assert_eq!(added.phrases, ["hello world", "[unused5]", "new-york"]);
        assert!(added.displaced.is_empty());
    }
}

//! A faster path for the one tokenizer stack most static models use (potion-base and every
//! model distilled from a BERT): `BertNormalizer` + `BertPreTokenizer` + `WordPiece`, with
//! added tokens matched on the raw text. The `tokenizers` crate spends most of its time on
//! offsets and alignments model2vec never reads (~1 ms for a 3 KB document, 95% of `encode`);
//! this gives the same ids without them. It is used only when `tokenizer.json` is exactly that
//! stack (anything else goes through the crate), and it earns its place by measurement:
//! `benches/tokenize.rs` times both on the same texts, and `tests` hold its ids equal to the
//! crate's on data-samples and on generated text. Each step follows the crate's definitions
//! (`normalizers/bert.rs`, `pre_tokenizers/bert.rs`, `models/wordpiece`): the same character
//! classes (`unicode_categories`) and the same NFD (`unicode-normalization-alignments`).

use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use serde_json::Value;
use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::UnicodeNormalization;

pub(crate) struct FastWordPiece {
    /// Every vocabulary entry, for a word's first piece.
    vocab: FxHashMap<Box<str>, u32>,
    /// Entries that start with the continuation prefix, keyed without it.
    continuation: FxHashMap<Box<str>, u32>,
    /// Longest key of each map in bytes: longer candidates cannot match.
    longest: usize,
    longest_continuation: usize,
    unk: u32,
    max_chars: usize,
    /// Added tokens matched on the raw text (leftmost-longest), with their ids.
    added: Option<(AhoCorasick, Vec<u32>)>,
    clean_text: bool,
    chinese: bool,
    strip_accents: bool,
    lowercase: bool,
}

/// The crate's `is_chinese_char`: the CJK ideograph blocks.
fn is_chinese(c: char) -> bool {
    matches!(
        c as usize,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

fn is_bert_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Cc, Cf, Cn or Co, except tab and line breaks. The category tables are binary searches; for
/// ASCII the answer is the C0 controls and DEL.
fn is_bert_control(c: char) -> bool {
    if c.is_ascii() {
        return (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\x7f';
    }
    c.is_other()
}

/// For ASCII, `is_ascii_punctuation` already covers every Unicode P* character.
fn is_bert_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    c.is_punctuation()
}

impl FastWordPiece {
    /// The fast path for this `tokenizer.json`, or `None` when it is another stack (or has
    /// added tokens this path does not model: normalized, stripped or single-word ones).
    pub(crate) fn from_json(json: &Value) -> Option<FastWordPiece> {
        let norm = &json["normalizer"];
        if norm["type"] != "BertNormalizer" || json["pre_tokenizer"]["type"] != "BertPreTokenizer" {
            return None;
        }
        let model = &json["model"];
        if model["type"] != "WordPiece" {
            return None;
        }
        let prefix = model["continuing_subword_prefix"].as_str()?;
        let max_chars = model["max_input_chars_per_word"].as_u64()? as usize;
        let mut vocab: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut continuation: FxHashMap<Box<str>, u32> = FxHashMap::default();
        for (token, id) in model["vocab"].as_object()? {
            let id = id.as_u64()? as u32;
            vocab.insert(token.as_str().into(), id);
            if let Some(rest) = token.strip_prefix(prefix) {
                continuation.insert(rest.into(), id);
            }
        }
        let unk = *vocab.get(model["unk_token"].as_str()?)?;
        let mut patterns = Vec::new();
        let mut ids = Vec::new();
        for t in json["added_tokens"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let flag = |k: &str| t[k].as_bool().unwrap_or(false);
            if flag("normalized") || flag("lstrip") || flag("rstrip") || flag("single_word") {
                return None;
            }
            patterns.push(t["content"].as_str()?.to_string());
            ids.push(t["id"].as_u64()? as u32);
        }
        let added = if patterns.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()?;
            Some((ac, ids))
        };
        let lowercase = norm["lowercase"].as_bool().unwrap_or(true);
        Some(FastWordPiece {
            longest: vocab.keys().map(|k| k.len()).max().unwrap_or(0),
            longest_continuation: continuation.keys().map(|k| k.len()).max().unwrap_or(0),
            vocab,
            continuation,
            unk,
            max_chars,
            added,
            clean_text: norm["clean_text"].as_bool().unwrap_or(true),
            chinese: norm["handle_chinese_chars"].as_bool().unwrap_or(true),
            strip_accents: norm["strip_accents"].as_bool().unwrap_or(lowercase),
            lowercase,
        })
    }

    /// The ids of `text`, as `Tokenizer::encode_fast(text, false)` gives them.
    pub(crate) fn encode(&self, text: &str, out: &mut Vec<u32>) {
        let mut scratch = String::new();
        let Some((ac, ids)) = &self.added else {
            self.segment(text, &mut scratch, out);
            return;
        };
        let mut at = 0;
        for m in ac.find_iter(text) {
            self.segment(&text[at..m.start()], &mut scratch, out);
            out.push(ids[m.pattern().as_usize()]);
            at = m.end();
        }
        self.segment(&text[at..], &mut scratch, out);
    }

    /// A stretch of text between added tokens: normalized, split, and word-pieced.
    fn segment(&self, text: &str, norm: &mut String, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        norm.clear();
        if text.is_ascii() {
            // NFD and the accent strip leave ASCII as it is; no ASCII character is CJK.
            for b in text.bytes() {
                let c = b as char;
                if self.clean_text {
                    if b == 0 || is_bert_control(c) {
                        continue;
                    }
                    if is_bert_whitespace(c) {
                        norm.push(' ');
                        continue;
                    }
                }
                norm.push(if self.lowercase {
                    c.to_ascii_lowercase()
                } else {
                    c
                });
            }
        } else {
            self.normalize(text, norm);
        }
        // BertPreTokenizer: whitespace separates (and goes), punctuation is a word of its own.
        let mut start = None;
        for (i, c) in norm.char_indices() {
            if c.is_whitespace() || is_bert_punctuation(c) {
                if let Some(s) = start.take() {
                    self.word(&norm[s..i], out);
                }
                if !c.is_whitespace() {
                    self.word(&norm[i..i + c.len_utf8()], out);
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            self.word(&norm[s..], out);
        }
    }

    /// BertNormalizer on text that is not all ASCII, step for step.
    fn normalize(&self, text: &str, norm: &mut String) {
        let mut stage = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            if self.clean_text {
                if c as usize == 0 || c as usize == 0xFFFD || is_bert_control(c) {
                    continue;
                }
                if is_bert_whitespace(c) {
                    stage.push(' ');
                    continue;
                }
            }
            if self.chinese && is_chinese(c) {
                stage.push(' ');
                stage.push(c);
                stage.push(' ');
            } else {
                stage.push(c);
            }
        }
        let push = |c: char, norm: &mut String| {
            if self.lowercase {
                norm.extend(c.to_lowercase());
            } else {
                norm.push(c);
            }
        };
        if self.strip_accents {
            for (c, _) in stage.nfd() {
                if !c.is_mark_nonspacing() {
                    push(c, norm);
                }
            }
        } else {
            for c in stage.chars() {
                push(c, norm);
            }
        }
    }

    /// WordPiece: greedy longest pieces; a word with a part no piece covers, or longer than
    /// `max_input_chars_per_word`, is one unknown.
    fn word(&self, word: &str, out: &mut Vec<u32>) {
        if word.len() > self.max_chars && word.chars().count() > self.max_chars {
            out.push(self.unk);
            return;
        }
        let first = out.len();
        let mut start = 0;
        while start < word.len() {
            let (map, longest) = if start == 0 {
                (&self.vocab, self.longest)
            } else {
                (&self.continuation, self.longest_continuation)
            };
            let mut end = word.len().min(start + longest);
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            let mut found = None;
            while end > start {
                if let Some(&id) = map.get(&word[start..end]) {
                    found = Some(id);
                    break;
                }
                end -= 1;
                while !word.is_char_boundary(end) {
                    end -= 1;
                }
            }
            let Some(id) = found else {
                out.truncate(first);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }
}

#[cfg(test)]
#[path = "../../../benches/data_samples.rs"]
mod data_samples;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    fn potion_json() -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models/model2vec/potion-8m-pca64/tokenizer.json"),
        )
        .unwrap()
    }

    fn pair() -> &'static (FastWordPiece, tokenizers::Tokenizer) {
        static P: std::sync::OnceLock<(FastWordPiece, tokenizers::Tokenizer)> =
            std::sync::OnceLock::new();
        P.get_or_init(|| {
            let json = potion_json();
            let v: Value = serde_json::from_slice(&json).unwrap();
            let mut t = tokenizers::Tokenizer::from_bytes(&json).unwrap();
            t.with_truncation(None).unwrap();
            t.with_padding(None);
            (
                FastWordPiece::from_json(&v).expect("potion is BERT WordPiece"),
                t,
            )
        })
    }

    fn check(text: &str) -> Result<(), String> {
        let (fast, crate_t) = pair();
        let mut ours = Vec::new();
        fast.encode(text, &mut ours);
        let theirs = crate_t.encode_fast(text, false).unwrap().get_ids().to_vec();
        if ours == theirs {
            Ok(())
        } else {
            Err(format!("{text:?}: {ours:?} vs {theirs:?}"))
        }
    }

    #[test]
    fn ids_equal_the_tokenizers_crate_on_data_samples() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples");
        let texts = super::data_samples::texts(&root);
        assert_eq!(texts.len(), 2500);
        for t in &texts {
            check(t).unwrap();
        }
    }

    #[test]
    fn ids_equal_the_tokenizers_crate_on_edge_cases() {
        for t in [
            "",
            "Hello world",
            "naïve café ÉCOLE 東京 😀 [CLS] foo",
            "[PAD][UNK][MASK] [SEP]mixed[CLS]",
            "zzqxj supercalifragilisticexpialidocious",
            &"a".repeat(150),
            "\u{0}\u{fffd}\u{200b}\u{feff}x\u{7f}y",
            "İstanbul ΣΑΣ ǅ ﬁ Ⅻ ß",
            "e\u{301}\u{302}\u{327} a\u{20dd}",
            "tab\tnew\nline\r\n\u{a0}nbsp\u{2003}em\u{3000}ideo",
            "«quoted» — dash… ¿qué? ¡sí!",
        ] {
            check(t).unwrap();
        }
    }

    fn stress() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-zA-Z]{1,14}",
            "[0-9]{1,6}",
            "[ \t\n\r]{1,3}",
            "[!-/:-@\\[-`{-~]{1,3}",
            Just("[CLS]".to_string()),
            Just("[SEP]".to_string()),
            Just("東京タワー".to_string()),
            Just("Ünïcödé".to_string()),
            Just("e\u{301}".to_string()),
            Just("😀".to_string()),
            Just("\u{200d}\u{fe0f}".to_string()),
            "\\PC{1,4}",
            any::<char>().prop_map(|c| c.to_string()),
        ];
        proptest::collection::vec(piece, 0..20).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn ids_equal_the_tokenizers_crate_on_generated_text(text in stress()) {
            prop_assert_eq!(check(&text), Ok(()));
        }
    }
}

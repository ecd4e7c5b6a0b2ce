//! Hugging Face `tokenizer.json` files for byte-level BPE, encoded as the `tokenizers` library
//! encodes them (added tokens, normalizers, split pre-tokenizers, byte-level BPE), but faster: the
//! common split patterns have hand-written matchers and finished words are cached per thread.
//!
//! Components outside byte-level BPE are refused with a clear error rather than approximated.

mod bpe;
pub mod bundled;
#[cfg(test)]
mod parity;
pub mod pattern;

use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use bpe::Bpe;
use pattern::Pattern;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("not a tokenizer.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported tokenizer: {0}")]
    Unsupported(String),
    #[error("malformed tokenizer: {0}")]
    Malformed(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Behavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

#[derive(Debug)]
struct SplitStep {
    pattern: Pattern,
    behavior: Behavior,
    invert: bool,
}

#[derive(Debug, Clone, Copy)]
enum NormStep {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
    Lowercase,
}

struct AddedTokens {
    matcher: AhoCorasick,
    ids: Vec<u32>,
}

impl AddedTokens {
    fn new(tokens: Vec<(String, u32)>) -> Result<Option<Self>, TokenizerError> {
        if tokens.is_empty() {
            return Ok(None);
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(tokens.iter().map(|(s, _)| s))
            .map_err(|e| TokenizerError::Malformed(format!("added tokens: {e}")))?;
        Ok(Some(AddedTokens {
            matcher,
            ids: tokens.into_iter().map(|(_, id)| id).collect(),
        }))
    }
}

pub struct Tokenizer {
    raw_added: Option<AddedTokens>,
    normalized_added: Option<AddedTokens>,
    normalizers: Vec<NormStep>,
    steps: Vec<SplitStep>,
    bpe: Bpe,
    tokens: Vec<Box<str>>,
    decoded: Vec<Box<str>>,
    /// Per id: the length of the input bytes the token stands for, with `SPELLED_AS_IS` set
    /// when its `decode_one` is exactly those bytes.
    spelled: Vec<u32>,
    /// Per byte: bit k when step k's pattern may match text with that byte (steps past 64 are
    /// always tried).
    step_bytes: [u64; 256],
    /// Whether `encode`'s ids stand for their input byte for byte, in order: no normalizer
    /// rewrites it, every byte of UTF-8 has a token and no split step removes anything.
    spells_input: bool,
}

const SPELLED_AS_IS: u32 = 1 << 31;

static NEXT_CACHE_SLOT: AtomicUsize = AtomicUsize::new(0);

/// GPT-2's byte-to-character table: printable bytes stand for themselves, the rest are moved to
/// U+0100 and up.
pub fn byte_chars() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            b as char
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).expect("below U+0200")
        };
    }
    table
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn bool_field(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, TokenizerError> {
    Err(TokenizerError::Unsupported(what.into()))
}

fn behavior(v: &Value) -> Result<Behavior, TokenizerError> {
    Ok(match str_field(v, "behavior").unwrap_or("Isolated") {
        "Removed" => Behavior::Removed,
        "Isolated" => Behavior::Isolated,
        "MergedWithPrevious" => Behavior::MergedWithPrevious,
        "MergedWithNext" => Behavior::MergedWithNext,
        "Contiguous" => Behavior::Contiguous,
        other => return unsupported(format!("split behavior {other}")),
    })
}

fn normalizers(v: &Value, out: &mut Vec<NormStep>) -> Result<(), TokenizerError> {
    match str_field(v, "type") {
        None if v.is_null() => {}
        Some("Sequence") => {
            for n in v
                .get("normalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                normalizers(n, out)?;
            }
        }
        Some("NFC") => out.push(NormStep::Nfc),
        Some("NFD") => out.push(NormStep::Nfd),
        Some("NFKC") => out.push(NormStep::Nfkc),
        Some("NFKD") => out.push(NormStep::Nfkd),
        Some("Lowercase") => out.push(NormStep::Lowercase),
        other => return unsupported(format!("normalizer {}", other.unwrap_or("?"))),
    }
    Ok(())
}

/// Flattens the pre-tokenizer into split steps; returns whether a ByteLevel step was seen.
fn pre_tokenizers(v: &Value, out: &mut Vec<SplitStep>) -> Result<bool, TokenizerError> {
    match str_field(v, "type") {
        None if v.is_null() => Ok(false),
        Some("Sequence") => {
            let mut byte_level = false;
            for p in v
                .get("pretokenizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                byte_level |= pre_tokenizers(p, out)?;
            }
            Ok(byte_level)
        }
        Some("Split") => {
            let pattern = match v.get("pattern") {
                Some(p) if str_field(p, "Regex").is_some() => {
                    Pattern::regex(str_field(p, "Regex").unwrap_or(""))?
                }
                Some(p) if str_field(p, "String").is_some() => {
                    Pattern::literal(str_field(p, "String").unwrap_or(""))?
                }
                _ => return Err(TokenizerError::Malformed("Split without a pattern".into())),
            };
            out.push(SplitStep {
                pattern,
                behavior: behavior(v)?,
                invert: bool_field(v, "invert"),
            });
            Ok(false)
        }
        Some("Digits") => {
            let behavior = if bool_field(v, "individual_digits") {
                Behavior::Isolated
            } else {
                Behavior::Contiguous
            };
            out.push(SplitStep {
                pattern: Pattern::regex(r"\p{N}")?,
                behavior,
                invert: false,
            });
            Ok(false)
        }
        Some("ByteLevel") => {
            if bool_field(v, "add_prefix_space") {
                return unsupported("ByteLevel with add_prefix_space");
            }
            if v.get("use_regex").and_then(Value::as_bool).unwrap_or(true) {
                out.push(SplitStep {
                    pattern: Pattern::regex(pattern::GPT2)?,
                    behavior: Behavior::Isolated,
                    invert: false,
                });
            }
            Ok(true)
        }
        other => unsupported(format!("pre-tokenizer {}", other.unwrap_or("?"))),
    }
}

impl Tokenizer {
    pub fn from_json(json: &str) -> Result<Self, TokenizerError> {
        let root: Value = serde_json::from_str(json)?;
        let model = root
            .get("model")
            .ok_or_else(|| TokenizerError::Malformed("no model".into()))?;
        if str_field(model, "type") != Some("BPE") {
            return unsupported(format!(
                "model {} (only BPE)",
                str_field(model, "type").unwrap_or("?")
            ));
        }
        if model.get("dropout").is_some_and(|d| !d.is_null()) {
            return unsupported("BPE dropout");
        }
        for affix in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if str_field(model, affix).is_some_and(|s| !s.is_empty()) {
                return unsupported(format!("BPE {affix}"));
            }
        }
        let mut norm = Vec::new();
        normalizers(root.get("normalizer").unwrap_or(&Value::Null), &mut norm)?;
        let mut steps = Vec::new();
        if !pre_tokenizers(
            root.get("pre_tokenizer").unwrap_or(&Value::Null),
            &mut steps,
        )? {
            return unsupported("no ByteLevel pre-tokenizer (only byte-level BPE)");
        }

        let vocab = model
            .get("vocab")
            .and_then(Value::as_object)
            .ok_or_else(|| TokenizerError::Malformed("model.vocab is not an object".into()))?;
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut tokens: Vec<Box<str>> = Vec::new();
        // The token table is indexed by id: ids are dense in real tokenizers, so one far beyond
        // the number of tokens is a broken file, not a reason to allocate gigabytes.
        let added = root
            .get("added_tokens")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let most = 2 * (vocab.len() + added) + 1024;
        let put = |tokens: &mut Vec<Box<str>>, id: u32, s: &str| {
            let i = id as usize;
            if i >= most {
                return Err(TokenizerError::Malformed(format!(
                    "token {s:?} has id {id}, far beyond the {} tokens",
                    vocab.len() + added
                )));
            }
            if tokens.len() <= i {
                tokens.resize(i + 1, "".into());
            }
            tokens[i] = s.into();
            Ok(())
        };
        for (s, id) in vocab {
            let id = id.as_u64().and_then(|i| u32::try_from(i).ok());
            let id = id.ok_or_else(|| TokenizerError::Malformed(format!("vocab id of {s:?}")))?;
            ids.insert(s, id);
            put(&mut tokens, id, s)?;
        }

        let chars = byte_chars();
        let mut byte_ids = [None; 256];
        for (b, c) in chars.iter().enumerate() {
            byte_ids[b] = ids.get(c.to_string().as_str()).copied();
        }

        let mut merges = FxHashMap::default();
        let merge_list = model
            .get("merges")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (rank, m) in merge_list.iter().enumerate() {
            let (a, b) = match m {
                Value::String(s) => s
                    .split_once(' ')
                    .ok_or_else(|| TokenizerError::Malformed(format!("merge {s:?}")))?,
                Value::Array(pair) if pair.len() == 2 => match (pair[0].as_str(), pair[1].as_str())
                {
                    (Some(a), Some(b)) => (a, b),
                    _ => return Err(TokenizerError::Malformed(format!("merge {m}"))),
                },
                _ => return Err(TokenizerError::Malformed(format!("merge {m}"))),
            };
            let id_of = |s: &str| {
                ids.get(s).copied().ok_or_else(|| {
                    TokenizerError::Malformed(format!("merge part {s:?} not in vocab"))
                })
            };
            let merged = format!("{a}{b}");
            merges.insert((id_of(a)?, id_of(b)?), (rank as u32, id_of(&merged)?));
        }
        let inverse: FxHashMap<char, u8> = chars
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect();
        let whole_words = bool_field(model, "ignore_merges").then(|| {
            ids.iter()
                .filter_map(|(s, &id)| {
                    let bytes: Option<Vec<u8>> =
                        s.chars().map(|c| inverse.get(&c).copied()).collect();
                    bytes.map(|b| (b, id))
                })
                .collect()
        });

        let (mut raw_added, mut normalized_added) = (Vec::new(), Vec::new());
        let mut special = Vec::new();
        for t in root
            .get("added_tokens")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let content = str_field(t, "content")
                .ok_or_else(|| TokenizerError::Malformed("added token without content".into()))?;
            let id = t
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|i| u32::try_from(i).ok());
            let id = id.ok_or_else(|| {
                TokenizerError::Malformed(format!("added token {content:?} without id"))
            })?;
            for flag in ["single_word", "lstrip", "rstrip"] {
                if bool_field(t, flag) {
                    return unsupported(format!("added token {content:?} with {flag}"));
                }
            }
            put(&mut tokens, id, content)?;
            if bool_field(t, "special") {
                special.push(id);
            }
            let normalized = t
                .get("normalized")
                .and_then(Value::as_bool)
                .unwrap_or(!bool_field(t, "special"));
            if normalized {
                &mut normalized_added
            } else {
                &mut raw_added
            }
            .push((content.to_string(), id));
        }

        let added_ids: Vec<u32> = raw_added
            .iter()
            .chain(&normalized_added)
            .map(|&(_, id)| id)
            .collect();
        let (decoded, spelled) = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| {
                // An added token is matched in the text as written; a vocabulary token stands
                // for the bytes its byte-level characters map back to.
                let bytes = if added_ids.contains(&(id as u32)) {
                    Some(t.as_bytes().to_vec())
                } else {
                    t.chars()
                        .map(|c| inverse.get(&c).copied())
                        .collect::<Option<Vec<u8>>>()
                };
                let len = bytes.as_ref().map_or(t.len(), Vec::len) as u32 & !SPELLED_AS_IS;
                if special.contains(&(id as u32)) {
                    return ("".into(), len);
                }
                match bytes {
                    Some(bytes) => match String::from_utf8(bytes) {
                        Ok(s) => (s.into(), len | SPELLED_AS_IS),
                        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into(), len),
                    },
                    None => (t.clone(), len),
                }
            })
            .unzip();
        // Bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5 and up) need no token.
        let spells_input = norm.is_empty()
            && byte_ids
                .iter()
                .enumerate()
                .all(|(b, id)| id.is_some() || matches!(b, 0xC0 | 0xC1 | 0xF5..=0xFF))
            && steps.iter().all(|s| s.behavior != Behavior::Removed);

        let mut step_bytes = [0u64; 256];
        for (k, step) in steps.iter().enumerate().take(64) {
            for (bits, may) in step_bytes.iter_mut().zip(step.pattern.match_bytes()) {
                *bits |= u64::from(may) << k;
            }
        }
        let slot = NEXT_CACHE_SLOT.fetch_add(1, Ordering::Relaxed);
        Ok(Tokenizer {
            step_bytes,
            raw_added: AddedTokens::new(raw_added)?,
            normalized_added: AddedTokens::new(normalized_added)?,
            normalizers: norm,
            steps,
            bpe: Bpe::new(byte_ids, merges, whole_words, slot),
            tokens,
            decoded,
            spelled,
            spells_input,
        })
    }

    /// Token ids of `text`, without special tokens added around it.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        self.split_added(&self.raw_added, text, out, &mut |segment, out| {
            if self.normalizers.is_empty() {
                self.split_added(&self.normalized_added, segment, out, &mut |s, out| {
                    self.encode_plain(s, out)
                });
            } else {
                let normalized = self.normalize(segment);
                self.split_added(&self.normalized_added, &normalized, out, &mut |s, out| {
                    self.encode_plain(s, out)
                });
            }
        });
    }

    pub fn count(&self, text: &str) -> usize {
        let mut ids = Vec::new();
        self.encode(text, &mut ids);
        ids.len()
    }

    /// The token's string in the vocabulary (byte-level form, `Ġ` for a space).
    pub fn token(&self, id: u32) -> &str {
        self.tokens.get(id as usize).map_or("", |t| t)
    }

    /// `decode([id])`: the token's bytes as text, U+FFFD for a partial character, "" for a special token.
    pub fn decode_one(&self, id: u32) -> &str {
        self.decoded.get(id as usize).map_or("", |t| t)
    }

    /// `decode_one` of each of `ids`, the ids `encode` gave for `text`, in order. Where the
    /// tokenizer spells its input out, a token's text is taken from `text` itself rather than
    /// from the table of decoded tokens: that table is megabytes, and reading it at random was
    /// 70% of `ultrafine`'s joining of tokens (cache misses, measured by `perf annotate`).
    pub fn decode_each<'a>(&'a self, text: &'a str, ids: &[u32], mut f: impl FnMut(&'a str)) {
        let spelled = |id: u32| self.spelled.get(id as usize).copied().unwrap_or(0);
        let covered = self.spells_input
            && ids
                .iter()
                .map(|&id| (spelled(id) & !SPELLED_AS_IS) as usize)
                .sum::<usize>()
                == text.len();
        if !covered {
            ids.iter().for_each(|&id| f(self.decode_one(id)));
            return;
        }
        let mut at = 0;
        for &id in ids {
            let s = spelled(id);
            let len = (s & !SPELLED_AS_IS) as usize;
            let as_is = (s & SPELLED_AS_IS != 0)
                .then(|| text.get(at..at + len))
                .flatten();
            f(as_is.unwrap_or_else(|| self.decode_one(id)));
            at += len;
        }
    }

    fn split_added(
        &self,
        added: &Option<AddedTokens>,
        text: &str,
        out: &mut Vec<u32>,
        rest: &mut dyn FnMut(&str, &mut Vec<u32>),
    ) {
        let Some(added) = added else {
            rest(text, out);
            return;
        };
        let mut last = 0;
        for m in added.matcher.find_iter(text) {
            if m.start() > last {
                rest(&text[last..m.start()], out);
            }
            out.push(added.ids[m.pattern().as_usize()]);
            last = m.end();
        }
        if last < text.len() {
            rest(&text[last..], out);
        }
    }

    fn normalize(&self, text: &str) -> String {
        let mut s = text.to_string();
        for step in &self.normalizers {
            s = match step {
                NormStep::Nfc => s.nfc().collect(),
                NormStep::Nfd => s.nfd().collect(),
                NormStep::Nfkc => s.nfkc().collect(),
                NormStep::Nfkd => s.nfkd().collect(),
                NormStep::Lowercase => s.to_lowercase(),
            };
        }
        s
    }

    fn encode_plain(&self, text: &str, out: &mut Vec<u32>) {
        let mut cuts = vec![Vec::new(); self.steps.len()];
        let mut scratch = SplitScratch::default();
        let piece = (0, text.len(), self.bits_of(text));
        self.encode_piece(text, piece, 0, &mut cuts, &mut scratch, out);
    }

    /// Bit k when `s` has a byte step k's pattern may match.
    fn bits_of(&self, s: &str) -> u64 {
        s.bytes()
            .fold(0u64, |bits, b| bits | self.step_bytes[b as usize])
    }

    /// Runs the split steps from `k` on over one piece, depth first, and encodes what is left.
    ///
    /// Each piece carries which steps' `match_bytes` it has (`bits_of`): a step passes a piece
    /// it cannot match on whole, and a piece's bits are found once, when it is cut, rather than
    /// by every later step. Depth first, the pieces of a document are never all held at once
    /// (a few thousand, rewritten by every step breadth first).
    fn encode_piece(
        &self,
        text: &str,
        (start, end, bits): (usize, usize, u64),
        k: usize,
        cuts: &mut [Vec<(usize, usize)>],
        scratch: &mut SplitScratch,
        out: &mut Vec<u32>,
    ) {
        let (Some(step), Some((cut, deeper))) = (self.steps.get(k), cuts.split_first_mut()) else {
            self.bpe.encode_word(&text.as_bytes()[start..end], out);
            return;
        };
        let hay = &text[start..end];
        let bit = if k < 64 { 1 << k } else { 0 };
        let may_match = bit == 0 || step.pattern.may_match_given(bits & bit != 0, hay);
        if !step.invert && !may_match {
            // No match: every behavior keeps the piece whole.
            self.encode_piece(text, (start, end, bits), k + 1, deeper, scratch, out);
            return;
        }
        cut.clear();
        split(hay, start, step, scratch, cut);
        let last = k + 1 == self.steps.len();
        for &(s, e) in cut.iter() {
            let bits = if last { 0 } else { self.bits_of(&text[s..e]) };
            self.encode_piece(text, (s, e, bits), k + 1, deeper, scratch, out);
        }
    }
}

/// Splits one piece like `NormalizedString::split`: matches and the gaps between them, then the
/// behavior decides which survive and what merges; empty pieces are dropped.
/// Buffers `split` reuses from piece to piece (a document has thousands of pieces).
#[derive(Default)]
struct SplitScratch {
    marked: Vec<((usize, usize), bool)>,
    pieces: Vec<(usize, usize)>,
}

/// The gaps and matches of `pattern` in `hay` in order, each with whether it is a match, as
/// `NormalizedString::split` finds them (a match may be empty).
fn spans(hay: &str, pattern: &Pattern, mut f: impl FnMut((usize, usize), bool)) {
    let mut prev = 0;
    let mut from = 0;
    while from <= hay.len() {
        let Some((s, e)) = pattern.find_at(hay, from) else {
            break;
        };
        if s > prev {
            f((prev, s), false);
        }
        f((s, e), true);
        prev = e;
        from = if e > s {
            e
        } else {
            e + hay[e..].chars().next().map_or(1, char::len_utf8)
        };
    }
    if prev < hay.len() {
        f((prev, hay.len()), false);
    }
}

fn split(
    hay: &str,
    offset: usize,
    step: &SplitStep,
    scratch: &mut SplitScratch,
    out: &mut Vec<(usize, usize)>,
) {
    if step.behavior == Behavior::Isolated && !step.invert {
        // Matches and the gaps between them, each a piece: no marking needed.
        spans(hay, &step.pattern, |(s, e), _| {
            if e > s {
                out.push((offset + s, offset + e));
            }
        });
        return;
    }
    let SplitScratch { marked, pieces } = scratch;
    marked.clear();
    pieces.clear();
    spans(hay, &step.pattern, |span, is_match| {
        marked.push((span, is_match))
    });
    if step.invert {
        for m in marked.iter_mut() {
            m.1 = !m.1;
        }
    }
    match step.behavior {
        Behavior::Removed => pieces.extend(marked.iter().filter(|m| !m.1).map(|m| m.0)),
        Behavior::Isolated => pieces.extend(marked.iter().map(|m| m.0)),
        Behavior::MergedWithPrevious => {
            let mut previous_match = false;
            for &(span, is_match) in marked.iter() {
                match pieces.last_mut() {
                    Some(last) if is_match && !previous_match => last.1 = span.1,
                    _ => pieces.push(span),
                }
                previous_match = is_match;
            }
        }
        Behavior::MergedWithNext => {
            let mut previous_match = false;
            for &(span, is_match) in marked.iter().rev() {
                match pieces.last_mut() {
                    Some(last) if is_match && !previous_match => last.0 = span.0,
                    _ => pieces.push(span),
                }
                previous_match = is_match;
            }
            pieces.reverse();
        }
        Behavior::Contiguous => {
            let mut previous_match = false;
            for &(span, is_match) in marked.iter() {
                match pieces.last_mut() {
                    Some(last) if is_match == previous_match => last.1 = span.1,
                    _ => pieces.push(span),
                }
                previous_match = is_match;
            }
        }
    }
    out.extend(
        pieces
            .drain(..)
            .filter(|(s, e)| e > s)
            .map(|(s, e)| (s + offset, e + offset)),
    );
}

#[cfg(test)]
mod tests {
    use super::bundled;

    #[test]
    fn decoding_from_the_text_is_decoding_each_id() {
        let texts = [
            "",
            "plain words and code: fn main() { x += 1; }",
            "naïve café, Ærø 😀 中文 한국어 ½ ﬁ",
            "<｜begin▁of▁sentence｜>hi<｜end▁of▁sentence｜> <|endoftext|>|||EMAIL_ADDRESS|||",
            "\t\n  x\r\n\u{3000}end  ",
            "\u{1F600}\u{1F600}\u{10FFFF}\u{0}",
        ];
        for t in [bundled::ultra_fineweb(), bundled::dolma2()] {
            for text in texts {
                let mut ids = vec![];
                t.encode(text, &mut ids);
                let mut each = vec![];
                t.decode_each(text, &ids, |p| each.push(p.to_string()));
                let one: Vec<String> = ids.iter().map(|&i| t.decode_one(i).to_string()).collect();
                assert_eq!(each, one, "{text:?}");
            }
        }
        assert!(bundled::ultra_fineweb().spells_input);
    }
}

//! The dictionary of an official fastText model and the ids a line of text maps to: in-vocabulary
//! words (and their character n-grams), hashed character n-grams of unknown words, and hashed
//! word n-grams, exactly as fastText 0.9.2's `Dictionary::getLine` computes them.

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

pub const EOS: &[u8] = b"</s>";
pub const LABEL_PREFIX: &[u8] = b"__label__";

/// fastText's token separators (`Dictionary::readWord`).
#[inline]
pub fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c | 0)
}

/// fastText's FNV-1a over bytes read as signed chars.
#[inline]
pub fn hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in bytes {
        h ^= b as i8 as i32 as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Word,
    Label,
}

#[derive(Debug)]
pub struct Entry {
    pub word: Vec<u8>,
    pub count: i64,
    pub kind: EntryKind,
}

/// Where hashed n-gram buckets land after `fasttext quantize -cutoff` pruned them.
#[derive(Debug)]
pub enum Buckets {
    /// Every bucket is a row (`pruneidx_size == -1`).
    All,
    /// Only these buckets survive, at these rows.
    Kept(FxHashMap<i32, i32>),
}

#[derive(Debug)]
pub struct Dictionary {
    pub entries: Vec<Entry>,
    pub nwords: i32,
    pub nlabels: i32,
    pub ntokens: i64,
    buckets: Buckets,
    bucket: u32,
    minn: usize,
    maxn: usize,
    word_ngrams: usize,
    /// Open addressing over `hash(word)`, power-of-two sized; -1 is empty.
    table: Vec<i32>,
    /// Each entry's own id then its character n-gram rows (only when `maxn > 0`).
    subwords: Vec<Box<[i32]>>,
    /// Which dictionary a `Recent` table was filled from.
    serial: u64,
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// Bytes of a word a `Recent` slot holds; longer words are always looked up.
const RECENT_BYTES: usize = 22;
const RECENT_SLOTS: usize = 4096;

#[derive(Clone, Copy)]
struct RecentSlot {
    hash: u32,
    /// The entry's id, or -1: not in the dictionary.
    id: i32,
    len: u8,
    label: bool,
    bytes: [u8; RECENT_BYTES],
}

/// The words one thread met most recently, by hash (128 KB). Finding a word in the dictionary
/// reads its table slot, its entry and the entry's bytes, three cache misses in a vocabulary
/// of megabytes; text is Zipfian, and most of its tokens are found here in one read.
#[derive(Clone, Default)]
pub struct Recent {
    serial: u64,
    slots: Vec<RecentSlot>,
}

impl std::fmt::Debug for Recent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent")
            .field("serial", &self.serial)
            .finish()
    }
}

impl Dictionary {
    pub fn new(
        entries: Vec<Entry>,
        nwords: i32,
        nlabels: i32,
        ntokens: i64,
        buckets: Buckets,
        (bucket, minn, maxn, word_ngrams): (i32, i32, i32, i32),
    ) -> Dictionary {
        let size = (entries.len() * 2).next_power_of_two().max(16);
        let mut dict = Dictionary {
            entries,
            nwords,
            nlabels,
            ntokens,
            buckets,
            bucket: bucket.max(0) as u32,
            minn: minn.max(0) as usize,
            maxn: maxn.max(0) as usize,
            word_ngrams: word_ngrams.max(1) as usize,
            table: vec![-1; size],
            subwords: Vec::new(),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        };
        for id in 0..dict.entries.len() {
            let slot = dict.slot(&dict.entries[id].word, hash(&dict.entries[id].word));
            dict.table[slot] = id as i32;
        }
        if dict.maxn > 0 {
            let mut bracketed = Vec::new();
            dict.subwords = (0..dict.entries.len())
                .map(|id| {
                    let mut ids = vec![id as i32];
                    let word = &dict.entries[id].word;
                    if word.as_slice() != EOS {
                        bracketed.clear();
                        bracketed.push(b'<');
                        bracketed.extend_from_slice(word);
                        bracketed.push(b'>');
                        dict.char_ngrams(&bracketed, &mut ids);
                    }
                    ids.into_boxed_slice()
                })
                .collect();
        }
        dict
    }

    /// The slot holding `word`, or the empty slot where it would go.
    fn slot(&self, word: &[u8], h: u32) -> usize {
        let mask = self.table.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let id = self.table[i];
            if id < 0 || self.entries[id as usize].word == word {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn id(&self, word: &[u8], h: u32) -> Option<usize> {
        let id = self.table[self.slot(word, h)];
        (id >= 0).then_some(id as usize)
    }

    pub fn label(&self, index: usize) -> &[u8] {
        &self.entries[self.nwords as usize + index].word
    }

    pub fn label_counts(&self) -> Vec<i64> {
        self.entries[self.nwords as usize..]
            .iter()
            .map(|e| e.count)
            .collect()
    }

    /// The input row of a hash bucket. The model reader checked that every row fits an
    /// `i32` (`nwords + bucket`, `nwords + ` every kept row); a model built in code that does not
    /// fit loses the n-gram rather than wrapping to another row.
    #[inline]
    fn push_bucket(&self, ids: &mut Vec<i32>, bucket: i32) {
        let row = match &self.buckets {
            Buckets::All => Some(bucket),
            Buckets::Kept(kept) => kept.get(&bucket).copied(),
        };
        if let Some(id) = row.and_then(|r| self.nwords.checked_add(r)) {
            ids.push(id);
        }
    }

    /// `Dictionary::computeSubwords` over `<word>`: n-grams of `minn..=maxn` UTF-8 characters,
    /// except the lone `<` and `>`.
    fn char_ngrams(&self, word: &[u8], ids: &mut Vec<i32>) {
        if self.bucket == 0 {
            return;
        }
        let mut ngram = Vec::with_capacity(word.len());
        for i in 0..word.len() {
            if word[i] & 0xC0 == 0x80 {
                continue;
            }
            ngram.clear();
            let mut j = i;
            let mut n = 1;
            while j < word.len() && n <= self.maxn {
                ngram.push(word[j]);
                j += 1;
                while j < word.len() && word[j] & 0xC0 == 0x80 {
                    ngram.push(word[j]);
                    j += 1;
                }
                if n >= self.minn && !(n == 1 && (i == 0 || j == word.len())) {
                    let bucket = (hash(&ngram) % self.bucket) as i32;
                    self.push_bucket(ids, bucket);
                }
                n += 1;
            }
        }
    }

    fn add_word(&self, token: &[u8], id: Option<usize>, ids: &mut Vec<i32>, scratch: &mut Vec<u8>) {
        match id {
            None => {
                if token != EOS && self.maxn > 0 {
                    scratch.clear();
                    scratch.push(b'<');
                    scratch.extend_from_slice(token);
                    scratch.push(b'>');
                    self.char_ngrams(scratch, ids);
                }
            }
            Some(id) if self.maxn == 0 => ids.push(id as i32),
            Some(id) => ids.extend_from_slice(&self.subwords[id]),
        }
    }

    /// The input rows of one document, as fastText sees the line `text` followed by its newline:
    /// every separator (line breaks included) splits tokens, label tokens are skipped, and the
    /// end-of-line token `</s>` closes the document.
    pub fn line(
        &self,
        text: &[u8],
        ids: &mut Vec<i32>,
        hashes: &mut Vec<i32>,
        scratch: &mut Vec<u8>,
        recent: &mut Recent,
    ) {
        ids.clear();
        hashes.clear();
        if recent.serial != self.serial {
            recent.serial = self.serial;
            recent.slots.clear();
            let empty = RecentSlot {
                hash: 0,
                id: -1,
                len: 0,
                label: false,
                bytes: [0; RECENT_BYTES],
            };
            recent.slots.resize(RECENT_SLOTS, empty);
        }
        let tokens = text
            .split(|&b| is_separator(b))
            .filter(|t| !t.is_empty())
            .chain(std::iter::once(EOS));
        for token in tokens {
            let h = hash(token);
            let (id, label) = self.find(token, h, recent);
            let label = label || id.is_none() && token.starts_with(LABEL_PREFIX);
            if !label {
                self.add_word(token, id, ids, scratch);
                hashes.push(h as i32);
            }
        }
        self.word_ngrams(hashes, ids);
    }

    /// The word's entry and whether it is a label, through `recent`.
    #[inline]
    fn find(&self, token: &[u8], h: u32, recent: &mut Recent) -> (Option<usize>, bool) {
        let looked_up = || {
            let id = self.id(token, h);
            let label = id.is_some_and(|id| self.entries[id].kind == EntryKind::Label);
            (id, label)
        };
        if token.len() > RECENT_BYTES {
            return looked_up();
        }
        let slot = &mut recent.slots[(h.wrapping_mul(0x9E37_79B9) >> 20) as usize % RECENT_SLOTS];
        // An empty token is never looked up, so a slot of length 0 holds nothing.
        if slot.hash == h && slot.len as usize == token.len() && slot.bytes[..token.len()] == *token
        {
            return ((slot.id >= 0).then_some(slot.id as usize), slot.label);
        }
        let (id, label) = looked_up();
        slot.hash = h;
        slot.id = id.map_or(-1, |id| id as i32);
        slot.len = token.len() as u8;
        slot.label = label;
        slot.bytes[..token.len()].copy_from_slice(token);
        (id, label)
    }

    /// `Dictionary::addWordNgrams`: the hash of each run of up to `wordNgrams` tokens, computed
    /// in 64 bits from the sign-extended token hashes.
    fn word_ngrams(&self, hashes: &[i32], ids: &mut Vec<i32>) {
        if self.bucket == 0 {
            return;
        }
        for i in 0..hashes.len() {
            let mut h = hashes[i] as i64 as u64;
            for &next in hashes.iter().skip(i + 1).take(self.word_ngrams - 1) {
                h = h.wrapping_mul(116_049_371).wrapping_add(next as i64 as u64);
                self.push_bucket(ids, (h % self.bucket as u64) as i32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_reads_bytes_as_signed_chars() {
        // FNV-1a over plain ASCII...
        assert_eq!(hash(b""), 2_166_136_261);
        assert_eq!(hash(b"a"), 0xe40c292c);
        // ...and the sign-extended XOR fastText does for bytes >= 0x80.
        let mut h: u32 = 2_166_136_261;
        h ^= 0xffff_ffc3;
        h = h.wrapping_mul(16_777_619);
        assert_eq!(hash(&[0xc3]), h);
    }

    /// One `Recent` across two dictionaries and repeated lines gives what a fresh one gives.
    #[test]
    fn recent_words_give_the_ids_the_table_gives() {
        let dict = |words: &[&str]| {
            let entries: Vec<Entry> = words
                .iter()
                .map(|w| Entry {
                    word: w.as_bytes().to_vec(),
                    count: 1,
                    kind: if w.starts_with("__label__") {
                        EntryKind::Label
                    } else {
                        EntryKind::Word
                    },
                })
                .collect();
            Dictionary::new(
                entries,
                words.len() as i32 - 1,
                1,
                10,
                Buckets::All,
                (1000, 0, 0, 2),
            )
        };
        let long = "a_word_longer_than_a_recent_slot_holds";
        let a = dict(&["the", "a", long, "__label__pos"]);
        let b = dict(&["a", "the", "x", "__label__neg"]);
        let line = format!("the a the unknown __label__pos __label__neg {long} a the x x");
        let ids = |d: &Dictionary, recent: &mut Recent| {
            let (mut ids, mut hashes, mut bytes) = (vec![], vec![], vec![]);
            d.line(line.as_bytes(), &mut ids, &mut hashes, &mut bytes, recent);
            ids
        };
        let mut shared = Recent::default();
        for _ in 0..3 {
            for d in [&a, &b] {
                assert_eq!(ids(d, &mut shared), ids(d, &mut Recent::default()));
            }
        }
        assert_ne!(ids(&a, &mut shared), ids(&b, &mut shared));
    }
}

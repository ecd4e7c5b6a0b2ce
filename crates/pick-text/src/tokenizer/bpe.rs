//! Byte-level BPE: merges applied lowest rank first, leftmost first among equal ranks, exactly as
//! the `tokenizers` library's `Word::merge_all` does, with a per-thread cache of finished words.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Words longer than this (in bytes) are not cached: they are rare and would crowd the cache.
const MAX_CACHED_WORD: usize = 128;
/// Entries per thread per tokenizer before the cache starts over.
const MAX_CACHE_ENTRIES: usize = 1 << 18;
/// Up to this many symbols the quadratic scan beats a heap.
const SCAN_LIMIT: usize = 48;

pub struct Bpe {
    /// Token id of each byte's one-character byte-level string.
    pub byte_ids: [Option<u32>; 256],
    /// (left id, right id) -> (rank, merged id).
    merges: FxHashMap<(u32, u32), (u32, u32)>,
    /// Byte strings of whole words in the vocabulary, consulted only when merges are ignored.
    whole_words: Option<FxHashMap<Vec<u8>, u32>>,
    cache_slot: usize,
}

/// Words up to this many bytes are cached under one 128-bit key (their bytes and length).
const SHORT_WORD: usize = 15;
/// Ids held inline for a short word; words of more tokens go to the long map.
const INLINE_IDS: usize = 3;

/// Finished words of one tokenizer: bytes -> ids. Nearly every word of text is short and a
/// token or two: those are found by one 128-bit hash and compare, with their ids inline,
/// where a map of boxed byte strings cost a pointer chase and a `memcmp` per lookup (18% of
/// `ultrafine`'s time in `perf`; 15% after, the front table included).
struct WordCache {
    /// The words met most recently, by their short key's hash: 128 KB, which stays in the
    /// core's own cache where the maps (megabytes once a corpus's vocabulary is in them) do not.
    front: Box<[(u128, [u32; INLINE_IDS], u8)]>,
    short: FxHashMap<u128, ([u32; INLINE_IDS], u8)>,
    long: FxHashMap<Box<[u8]>, Box<[u32]>>,
}

const FRONT: usize = 4096;

impl Default for WordCache {
    fn default() -> Self {
        WordCache {
            // Key 0 is no word's: a short key holds the word's length, and empty words are
            // never looked up.
            front: vec![(0, [0; INLINE_IDS], 0); FRONT].into_boxed_slice(),
            short: FxHashMap::default(),
            long: FxHashMap::default(),
        }
    }
}

impl WordCache {
    fn short_key(word: &[u8]) -> Option<u128> {
        (word.len() <= SHORT_WORD).then(|| {
            let mut key = [0u8; 16];
            key[..word.len()].copy_from_slice(word);
            key[15] = word.len() as u8;
            u128::from_le_bytes(key)
        })
    }

    #[inline]
    fn front_slot(key: u128) -> usize {
        let h = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 52) as usize & (FRONT - 1)
    }

    /// Appends the word's ids; false when the word is not cached.
    #[inline]
    fn get(&mut self, word: &[u8], out: &mut Vec<u32>) -> bool {
        let Some(key) = Self::short_key(word) else {
            return self.get_long(word, out);
        };
        let slot = Self::front_slot(key);
        let (k, ids, n) = &self.front[slot];
        if *k == key {
            out.extend_from_slice(&ids[..*n as usize]);
            return true;
        }
        match self.short.get(&key) {
            Some(&(ids, n)) if (n as usize) <= INLINE_IDS => {
                out.extend_from_slice(&ids[..n as usize]);
                self.front[slot] = (key, ids, n);
                true
            }
            Some(_) => self.get_long(word, out),
            None => false,
        }
    }

    fn get_long(&self, word: &[u8], out: &mut Vec<u32>) -> bool {
        self.long
            .get(word)
            .map(|ids| out.extend_from_slice(ids))
            .is_some()
    }

    fn insert(&mut self, word: &[u8], ids: &[u32]) {
        if self.short.len() + self.long.len() >= MAX_CACHE_ENTRIES {
            self.short.clear();
            self.long.clear();
            self.front.fill((0, [0; INLINE_IDS], 0));
        }
        if let Some(key) = Self::short_key(word) {
            let mut inline = [0; INLINE_IDS];
            let n = if ids.len() <= INLINE_IDS {
                inline[..ids.len()].copy_from_slice(ids);
                ids.len() as u8
            } else {
                // Marks a short word whose ids are in `long`.
                u8::MAX
            };
            self.short.insert(key, (inline, n));
            if ids.len() <= INLINE_IDS {
                self.front[Self::front_slot(key)] = (key, inline, n);
                return;
            }
        }
        self.long.insert(word.into(), ids.into());
    }
}

thread_local! {
    /// One cache per tokenizer (indexed by its cache slot), per thread: no locks on the hot path.
    static CACHES: RefCell<Vec<WordCache>> = const { RefCell::new(Vec::new()) };
}

impl Bpe {
    pub fn new(
        byte_ids: [Option<u32>; 256],
        merges: FxHashMap<(u32, u32), (u32, u32)>,
        whole_words: Option<FxHashMap<Vec<u8>, u32>>,
        cache_slot: usize,
    ) -> Self {
        Bpe {
            byte_ids,
            merges,
            whole_words,
            cache_slot,
        }
    }

    /// Appends the ids of one pre-token (raw bytes; the byte-level mapping is implied).
    pub fn encode_word(&self, word: &[u8], out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        if let Some(&id) = self.whole_words.as_ref().and_then(|w| w.get(word)) {
            out.push(id);
            return;
        }
        if word.len() > MAX_CACHED_WORD {
            self.merge(word, out);
            return;
        }
        CACHES.with(|caches| {
            let mut caches = caches.borrow_mut();
            if caches.len() <= self.cache_slot {
                caches.resize_with(self.cache_slot + 1, WordCache::default);
            }
            let cache = &mut caches[self.cache_slot];
            if cache.get(word, out) {
                return;
            }
            let start = out.len();
            self.merge(word, out);
            cache.insert(word, &out[start..]);
        });
    }

    fn merge(&self, word: &[u8], out: &mut Vec<u32>) {
        // A byte without a vocabulary entry is dropped, as `tokenizers` does without an unk token.
        let symbols: Vec<u32> = word
            .iter()
            .filter_map(|&b| self.byte_ids[b as usize])
            .collect();
        if symbols.len() <= SCAN_LIMIT {
            self.merge_by_scan(symbols, out);
        } else {
            self.merge_by_heap(symbols, out);
        }
    }

    fn rank(&self, a: u32, b: u32) -> Option<(u32, u32)> {
        self.merges.get(&(a, b)).copied()
    }

    fn merge_by_scan(&self, mut symbols: Vec<u32>, out: &mut Vec<u32>) {
        let mut ranks: Vec<Option<(u32, u32)>> =
            symbols.windows(2).map(|w| self.rank(w[0], w[1])).collect();
        loop {
            let best = ranks
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.map(|(rank, id)| (rank, i, id)))
                .min();
            let Some((_, i, id)) = best else { break };
            symbols[i] = id;
            symbols.remove(i + 1);
            ranks.remove(i);
            if i > 0 {
                ranks[i - 1] = self.rank(symbols[i - 1], id);
            }
            if i < ranks.len() {
                ranks[i] = self.rank(id, symbols[i + 1]);
            }
        }
        out.extend_from_slice(&symbols);
    }

    fn merge_by_heap(&self, symbols: Vec<u32>, out: &mut Vec<u32>) {
        let n = symbols.len();
        let mut ids = symbols;
        let mut alive = vec![true; n];
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut heap = BinaryHeap::new();
        for i in 0..n - 1 {
            if let Some((rank, id)) = self.rank(ids[i], ids[i + 1]) {
                heap.push(Reverse((rank, i, id)));
            }
        }
        while let Some(Reverse((_, pos, new_id))) = heap.pop() {
            if !alive[pos] || next[pos] >= n {
                continue;
            }
            let right = next[pos];
            // A stale entry: the pair at `pos` changed since it was queued.
            if self.rank(ids[pos], ids[right]).map(|m| m.1) != Some(new_id) {
                continue;
            }
            ids[pos] = new_id;
            alive[right] = false;
            next[pos] = next[right];
            if next[pos] < n {
                prev[next[pos]] = pos;
            }
            if prev[pos] < n
                && let Some((rank, id)) = self.rank(ids[prev[pos]], new_id)
            {
                heap.push(Reverse((rank, prev[pos], id)));
            }
            if next[pos] < n
                && let Some((rank, id)) = self.rank(new_id, ids[next[pos]])
            {
                heap.push(Reverse((rank, pos, id)));
            }
        }
        out.extend((0..n).filter(|&i| alive[i]).map(|i| ids[i]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A toy vocabulary over bytes a..d with merges that overlap and chain.
    fn toy() -> Bpe {
        let mut byte_ids = [None; 256];
        for (i, b) in (b'a'..=b'd').enumerate() {
            byte_ids[b as usize] = Some(i as u32);
        }
        let pairs = [
            (0, 0, 4),
            (1, 2, 5),
            (4, 0, 6),
            (0, 1, 7),
            (5, 3, 8),
            (7, 5, 9),
            (6, 6, 10),
            (3, 3, 11),
        ];
        let merges = pairs
            .iter()
            .enumerate()
            .map(|(rank, &(a, b, id))| ((a, b), (rank as u32, id)))
            .collect();
        Bpe::new(byte_ids, merges, None, 0)
    }

    proptest! {
        #[test]
        fn scan_and_heap_merge_alike(word in proptest::collection::vec(b'a'..=b'e', 1..120)) {
            let bpe = toy();
            let symbols: Vec<u32> = word.iter().filter_map(|&b| bpe.byte_ids[b as usize]).collect();
            prop_assume!(symbols.len() > 1);
            let (mut a, mut b) = (vec![], vec![]);
            bpe.merge_by_scan(symbols.clone(), &mut a);
            bpe.merge_by_heap(symbols, &mut b);
            prop_assert_eq!(a, b);
        }

        /// Words short and long, of few and many tokens, met a first time and again.
        #[test]
        fn cached_words_encode_as_merged(
            words in proptest::collection::vec(proptest::collection::vec(b'a'..=b'e', 1..40), 1..30)
        ) {
            let mut bpe = toy();
            bpe.cache_slot = super::super::NEXT_CACHE_SLOT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for _ in 0..2 {
                for w in &words {
                    let (mut cached, mut merged) = (vec![99], vec![99]);
                    bpe.encode_word(w, &mut cached);
                    bpe.merge(w, &mut merged);
                    prop_assert_eq!(cached, merged);
                }
            }
        }
    }

    #[test]
    fn leftmost_of_equal_ranks_first() {
        let (bpe, mut out) = (toy(), vec![]);
        bpe.merge(b"aaa", &mut out);
        assert_eq!(out, [6]);
        out.clear();
        bpe.merge(b"abcd", &mut out);
        assert_eq!(out, [0, 8]);
        out.clear();
        bpe.merge(b"aaaaa", &mut out);
        assert_eq!(out, [4, 6]);
    }
}

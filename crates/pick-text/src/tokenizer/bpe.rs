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

/// Finished words of one tokenizer: bytes -> ids.
type WordCache = FxHashMap<Box<[u8]>, Box<[u32]>>;

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
                caches.resize_with(self.cache_slot + 1, FxHashMap::default);
            }
            let cache = &mut caches[self.cache_slot];
            if let Some(ids) = cache.get(word) {
                out.extend_from_slice(ids);
                return;
            }
            let start = out.len();
            self.merge(word, out);
            if cache.len() >= MAX_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(word.into(), out[start..].into());
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

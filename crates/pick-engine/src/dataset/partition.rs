//! Which partition of a scan reads what: shards, and byte ranges of big uncompressed shards,
//! given to partitions by size, the same way on every run and on every machine that plans
//! the same dataset.

use std::cmp::Reverse;
use std::ops::Range;
use std::sync::Arc;

use crate::dataset::discover::{Codec, Shard, ShardFormat};

/// What one partition reads in one go: a whole shard, or a byte range of a shard: the lines
/// beginning in it (uncompressed JSON lines), the row groups whose middle lies in it (Parquet).
#[derive(Debug, Clone)]
pub struct Piece {
    pub shard: Arc<Shard>,
    pub range: Option<Range<u64>>,
}

impl Piece {
    pub fn bytes(&self) -> u64 {
        self.range
            .as_ref()
            .map_or(self.shard.size, |r| r.end - r.start)
    }

    /// Whether this piece starts its shard (a scan opens each shard once, in these terms).
    pub fn opens_shard(&self) -> bool {
        self.range.as_ref().is_none_or(|r| r.start == 0)
    }

    /// Whether this piece ends its shard.
    pub fn ends_shard(&self) -> bool {
        self.range.as_ref().is_none_or(|r| r.end == self.shard.size)
    }
}

/// The smallest byte range a shard is cut into: a range costs an open (a request, in a
/// store) and a partial chunk, worth it only for ranges far bigger than a chunk.
const MIN_RANGE_BYTES: u64 = 32 << 20;

/// `shards` dealt to at most `partitions` partitions, none empty (one empty partition when
/// there are no shards). Uncompressed JSON-lines and Parquet shards bigger than an even share
/// are cut into byte ranges when `split` (the caller does not need `_row`, which a JSON-lines
/// range cannot number without reading what precedes it). Pieces go largest first to the
/// least loaded partition; each partition then reads its pieces in dataset order.
pub fn assign(shards: &[Arc<Shard>], partitions: usize, split: bool) -> Vec<Vec<Piece>> {
    let partitions = partitions.max(1);
    let total: u64 = shards.iter().map(|s| s.size).sum();
    let share = total.div_ceil(partitions as u64).max(MIN_RANGE_BYTES);
    let mut pieces = Vec::new();
    for shard in shards {
        let cuttable = matches!(
            shard.format,
            ShardFormat::JsonLines(Codec::Plain) | ShardFormat::Parquet
        );
        if split && partitions > 1 && cuttable && shard.size > share {
            let n = shard.size.div_ceil(share);
            let step = shard.size.div_ceil(n);
            for k in 0..n {
                let range = k * step..((k + 1) * step).min(shard.size);
                pieces.push(Piece {
                    shard: Arc::clone(shard),
                    range: Some(range),
                });
            }
        } else {
            pieces.push(Piece {
                shard: Arc::clone(shard),
                range: None,
            });
        }
    }
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&i| (Reverse(pieces[i].bytes()), i));
    let mut load = vec![0u64; partitions];
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); partitions];
    for i in order {
        let p = (0..partitions)
            .min_by_key(|&p| (load[p], p))
            .expect("at least one partition");
        load[p] += pieces[i].bytes().max(1);
        groups[p].push(i);
    }
    groups.retain(|g| !g.is_empty());
    if groups.is_empty() {
        return vec![Vec::new()];
    }
    groups
        .into_iter()
        .map(|mut g| {
            g.sort_unstable();
            g.into_iter().map(|i| pieces[i].clone()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn shard(name: &str, size: u64, codec: Codec) -> Arc<Shard> {
        Arc::new(Shard {
            path: PathBuf::from(name),
            rel: name.into(),
            split: None,
            format: ShardFormat::JsonLines(codec),
            size,
            object: None,
            version: String::new(),
        })
    }

    fn names(groups: &[Vec<Piece>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|p| match &p.range {
                        Some(r) => format!("{}[{}..{}]", p.shard.rel, r.start, r.end),
                        None => p.shard.rel.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn shards_are_dealt_by_size_and_read_in_order() {
        let shards: Vec<_> = [("a", 50), ("b", 10), ("c", 40), ("d", 30), ("e", 20)]
            .into_iter()
            .map(|(n, s)| shard(n, s, Codec::Zstd))
            .collect();
        let groups = assign(&shards, 2, true);
        // a → 0; c → 1; d → 1; e → 0; b → 0 (70 each).
        assert_eq!(names(&groups), [vec!["a", "b", "e"], vec!["c", "d"]]);
        assert_eq!(names(&assign(&shards, 2, true)), names(&groups));
        assert_eq!(
            names(&assign(&shards, 1, true)),
            [vec!["a", "b", "c", "d", "e"]]
        );
        // More partitions than shards: one shard each, none empty.
        assert_eq!(assign(&shards, 8, true).len(), 5);
        assert_eq!(names(&assign(&[], 4, true)), [Vec::<String>::new()]);
    }

    #[test]
    fn a_big_uncompressed_shard_is_cut_into_ranges() {
        let big = shard("big.jsonl", 200 << 20, Codec::Plain);
        let groups = assign(std::slice::from_ref(&big), 4, true);
        assert_eq!(groups.len(), 4);
        let mut ranges: Vec<_> = groups
            .iter()
            .flatten()
            .map(|p| p.range.clone().unwrap())
            .collect();
        ranges.sort_by_key(|r| r.start);
        assert_eq!(ranges.first().unwrap().start, 0);
        assert_eq!(ranges.last().unwrap().end, 200 << 20);
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        // Not when `_row` is wanted, not when compressed, not when small.
        assert_eq!(assign(std::slice::from_ref(&big), 4, false).len(), 1);
        let zst = shard("big.jsonl.zst", 200 << 20, Codec::Zstd);
        assert_eq!(assign(&[zst], 4, true).len(), 1);
        let small = shard("small.jsonl", 30 << 20, Codec::Plain);
        assert_eq!(assign(&[small], 4, true).len(), 1);
        // Parquet too: its reader reads the row groups whose middle lies in a range.
        let parquet = Arc::new(Shard {
            format: ShardFormat::Parquet,
            ..(*shard("big.parquet", 200 << 20, Codec::Plain)).clone()
        });
        assert_eq!(assign(std::slice::from_ref(&parquet), 4, true).len(), 4);
        assert_eq!(assign(&[parquet], 4, false).len(), 1);
    }
}

//! A slice mapped on several threads, results in order: what the classifier commands do with a
//! batch of texts (tokenize, predict) outside DataFusion.

use crate::error::Result;

/// The threads `n` asks for (0 = all cores).
pub fn threads(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        n
    }
}

/// `f` over `items` on at most `threads` threads (contiguous parts), results in input order;
/// the first error wins.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for p in parts {
            out.extend(p.join().expect("worker threads do not panic")?);
        }
        Ok(out)
    })
}

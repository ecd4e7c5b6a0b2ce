//! An official fastText model (`.bin`, or `.ftz` from `fasttext quantize`) read into memory once
//! and shared by every thread: loading follows fastText 0.9.2's `FastText::loadModel`, prediction
//! its `Model::predict` for every supervised loss.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::ModelError;
use super::dictionary::{Buckets, Dictionary, Entry, EntryKind, Recent};
use super::matrix::{KSUB, Matrix, ProductQuantizer, QuantMatrix};
use super::projection::Projection;

const MAGIC: i32 = 793_712_314;
/// How many rows ahead of the one being added to prefetch (measured best at 2–8).
const PREFETCH_AHEAD: usize = 4;
const VERSION: i32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    HierarchicalSoftmax,
    NegativeSampling,
    Softmax,
    OneVsAll,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Loss::HierarchicalSoftmax => "hs",
            Loss::NegativeSampling => "ns",
            Loss::Softmax => "softmax",
            Loss::OneVsAll => "ova",
        }
    }
}

/// The training arguments stored in a model file.
#[derive(Debug, Clone)]
pub struct Args {
    pub dim: i32,
    pub ws: i32,
    pub epoch: i32,
    pub min_count: i32,
    pub neg: i32,
    pub word_ngrams: i32,
    pub loss: Loss,
    pub bucket: i32,
    pub minn: i32,
    pub maxn: i32,
    pub lr_update_rate: i32,
    pub t: f64,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    left: i32,
    right: i32,
    count: i64,
}

#[derive(Debug)]
pub struct Model {
    pub path: PathBuf,
    pub args: Args,
    pub dict: Dictionary,
    pub input: Matrix,
    pub output: Matrix,
    /// Where it pays, the input rows projected onto `output` (see `projection`).
    projection: Option<Projection>,
    labels: Vec<String>,
    /// Hierarchical softmax: the Huffman tree over label counts (leaves are labels).
    tree: Vec<Node>,
    sigmoid: Vec<f32>,
}

/// Buffers one thread reuses from document to document.
#[derive(Debug, Default)]
pub struct Scratch {
    ids: Vec<i32>,
    hashes: Vec<i32>,
    bytes: Vec<u8>,
    recent: Recent,
    hidden: Vec<f32>,
    /// `output · hidden`: one value per output row.
    dots: Vec<f32>,
    sums: Vec<f64>,
    probs: Vec<f32>,
}

struct Reader<'a> {
    inner: BufReader<File>,
    path: &'a Path,
    len: u64,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ModelError> {
        let mut b = [0u8; N];
        self.inner
            .read_exact(&mut b)
            .map_err(|e| self.error(e, what))?;
        Ok(b)
    }

    fn error(&self, e: std::io::Error, what: &str) -> ModelError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            self.corrupt(format!("the file ends inside the {what} (truncated?)"))
        } else {
            ModelError::Io {
                path: self.path.to_path_buf(),
                source: e,
            }
        }
    }

    fn corrupt(&self, what: String) -> ModelError {
        ModelError::Format {
            path: self.path.to_path_buf(),
            what,
        }
    }

    fn i32(&mut self, what: &str) -> Result<i32, ModelError> {
        Ok(i32::from_le_bytes(self.bytes(what)?))
    }
    fn i64(&mut self, what: &str) -> Result<i64, ModelError> {
        Ok(i64::from_le_bytes(self.bytes(what)?))
    }
    fn f64(&mut self, what: &str) -> Result<f64, ModelError> {
        Ok(f64::from_le_bytes(self.bytes(what)?))
    }
    fn u8(&mut self, what: &str) -> Result<u8, ModelError> {
        Ok(self.bytes::<1>(what)?[0])
    }
    fn bool(&mut self, what: &str) -> Result<bool, ModelError> {
        Ok(self.u8(what)? != 0)
    }

    /// `n` floats, refused before allocating when the file cannot hold them.
    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, ModelError> {
        self.left_for((n as u64).saturating_mul(4), what, || format!("{n} floats"))?;
        let mut bytes = vec![0u8; 1 << 20];
        let mut out: Vec<f32> = Vec::with_capacity(n);
        advise_huge_pages(&mut out);
        while out.len() < n {
            let take = ((n - out.len()) * 4).min(bytes.len());
            self.inner
                .read_exact(&mut bytes[..take])
                .map_err(|e| self.error(e, what))?;
            out.extend(
                bytes[..take]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        }
        Ok(out)
    }

    fn u8s(&mut self, n: usize, what: &str) -> Result<Vec<u8>, ModelError> {
        self.left_for(n as u64, what, || format!("{n} bytes"))?;
        let mut out = vec![0u8; n];
        self.inner
            .read_exact(&mut out)
            .map_err(|e| self.error(e, what))?;
        Ok(out)
    }

    /// Where the reader is, or an error when fewer than `bytes` are left after it: sizes read
    /// from a file are checked before anything that large is allocated or mapped.
    fn left_for(
        &mut self,
        bytes: u64,
        what: &str,
        size: impl FnOnce() -> String,
    ) -> Result<u64, ModelError> {
        let offset = self
            .inner
            .stream_position()
            .map_err(|e| self.error(e, what))?;
        if offset.saturating_add(bytes) > self.len {
            return Err(self.corrupt(format!(
                "the file is too short for the {what} of {} (truncated?)",
                size()
            )));
        }
        Ok(offset)
    }

    fn count(&mut self, v: i64, what: &str) -> Result<usize, ModelError> {
        usize::try_from(v).map_err(|_| self.corrupt(format!("negative {what} ({v})")))
    }

    fn pq(&mut self) -> Result<ProductQuantizer, ModelError> {
        let what = "product quantizer";
        let dim = self.i32(what)?;
        let nsubq = self.i32(what)?;
        let dsub = self.i32(what)?;
        let lastdsub = self.i32(what)?;
        if dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 {
            return Err(self.corrupt(format!(
                "bad product quantizer (dim {dim}, nsubq {nsubq}, dsub {dsub}, lastdsub {lastdsub})"
            )));
        }
        // fastText's layout: nsubq − 1 sub-vectors of dsub floats and a last one of lastdsub,
        // which together make dim. Anything else would index past the centroids.
        let (d, n, s, l) = (
            dim as usize,
            nsubq as usize,
            dsub as usize,
            lastdsub as usize,
        );
        if l > s || (n - 1).checked_mul(s).and_then(|x| x.checked_add(l)) != Some(d) {
            return Err(self.corrupt(format!(
                "product quantizer sizes that do not add up (dim {dim}, nsubq {nsubq}, dsub \
                 {dsub}, lastdsub {lastdsub})"
            )));
        }
        let centroids = self.f32s(d * KSUB, "quantizer centroids")?;
        Ok(ProductQuantizer {
            dim: dim as usize,
            nsubq: nsubq as usize,
            dsub: dsub as usize,
            lastdsub: lastdsub as usize,
            centroids,
        })
    }

    /// A dense matrix of `rows × cols` floats starting here, mapped from the file in place of
    /// being read; `None` where the file cannot be mapped (it is read then).
    fn mapped(
        &mut self,
        rows: usize,
        cols: usize,
        what: &str,
    ) -> Result<Option<Matrix>, ModelError> {
        let bytes = rows.saturating_mul(cols).saturating_mul(4);
        let offset = self.left_for(bytes as u64, what, || format!("{rows} × {cols} floats"))?;
        // SAFETY: the map is read-only and private to this model. A model file rewritten or
        // truncated while it is being scored would change or fault under it, as it would
        // under fastText's own reader mid-read; model files are written once and then read.
        let Ok(map) = (unsafe { memmap2::Mmap::map(self.inner.get_ref()) }) else {
            return Ok(None);
        };
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        self.inner
            .seek_relative(bytes as i64)
            .map_err(|e| self.error(e, what))?;
        Ok(Some(Matrix::Mapped {
            rows,
            cols,
            map,
            offset: offset as usize,
        }))
    }

    fn matrix(
        &mut self,
        quantized: bool,
        in_place: bool,
        what: &str,
    ) -> Result<Matrix, ModelError> {
        if !quantized {
            let rows = self.i64(what)?;
            let rows = self.count(rows, what)?;
            let cols = self.i64(what)?;
            let cols = self.count(cols, what)?;
            if in_place && let Some(m) = self.mapped(rows, cols, what)? {
                return Ok(m);
            }
            let data = self.f32s(rows.saturating_mul(cols), what)?;
            return Ok(Matrix::Dense { rows, cols, data });
        }
        let qnorm = self.bool(what)?;
        let rows = self.i64(what)?;
        let rows = self.count(rows, what)?;
        let cols = self.i64(what)?;
        let cols = self.count(cols, what)?;
        let codesize = self.i32(what)?;
        let codesize = self.count(codesize as i64, what)?;
        let codes = self.u8s(codesize, what)?;
        let pq = self.pq()?;
        if pq.nsubq * rows != codes.len() || pq.dim != cols {
            return Err(self.corrupt(format!("the quantized {what} does not fit its codes")));
        }
        let norms = if qnorm {
            let codes = self.u8s(rows, what)?;
            Some((codes, self.pq()?))
        } else {
            None
        };
        Ok(Matrix::Quantized(QuantMatrix {
            rows,
            cols,
            codes,
            pq,
            norms,
        }))
    }
}

impl Model {
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let file = File::open(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let mut r = Reader {
            inner: BufReader::with_capacity(1 << 20, file),
            path,
            len,
        };
        let magic = r.i32("header")?;
        if magic != MAGIC {
            return Err(r.corrupt("wrong magic number".into()));
        }
        let version = r.i32("header")?;
        if version > VERSION {
            return Err(r.corrupt(format!(
                "fastText file format {version} is newer than the {VERSION} this reads"
            )));
        }
        let what = "arguments";
        let mut ints = [0i32; 12];
        for v in &mut ints {
            *v = r.i32(what)?;
        }
        let [
            dim,
            ws,
            epoch,
            min_count,
            neg,
            word_ngrams,
            loss,
            model,
            bucket,
            minn,
            maxn,
            lr_update_rate,
        ] = ints;
        let t = r.f64(what)?;
        let loss = match loss {
            1 => Loss::HierarchicalSoftmax,
            2 => Loss::NegativeSampling,
            3 => Loss::Softmax,
            4 => Loss::OneVsAll,
            other => return Err(r.corrupt(format!("unknown loss {other}"))),
        };
        if dim <= 0 {
            return Err(r.corrupt(format!("dimension {dim}")));
        }
        if model != 3 {
            return Err(r.corrupt(
                "a word-vector model, not a classifier (trained with `fasttext supervised`?)"
                    .into(),
            ));
        }
        // Format 11 supervised models had no character n-grams.
        let maxn = if version == 11 { 0 } else { maxn };
        let args = Args {
            dim,
            ws,
            epoch,
            min_count,
            neg,
            word_ngrams,
            loss,
            bucket,
            minn,
            maxn,
            lr_update_rate,
            t,
        };

        let what = "dictionary";
        let size = r.i32(what)?;
        let nwords = r.i32(what)?;
        let nlabels = r.i32(what)?;
        let ntokens = r.i64(what)?;
        let pruneidx_size = r.i64(what)?;
        if size < 0
            || nwords < 0
            || nlabels < 0
            || i64::from(nwords) + i64::from(nlabels) != i64::from(size)
        {
            return Err(r.corrupt(format!(
                "dictionary of {size} entries with {nwords} words and {nlabels} labels"
            )));
        }
        // Input rows are `nwords + bucket`, as int32 in fastText.
        if bucket < 0 || i64::from(nwords) + i64::from(bucket) > i64::from(i32::MAX) {
            return Err(r.corrupt(format!("{bucket} buckets for {nwords} words")));
        }
        // Each entry takes at least 10 bytes (a NUL, a count, a type): the file bounds the room
        // reserved before reading them.
        let mut entries = Vec::with_capacity((size as u64).min(r.len / 10) as usize);
        for _ in 0..size {
            let mut word = Vec::new();
            loop {
                match r.u8(what)? {
                    0 => break,
                    b => word.push(b),
                }
            }
            let count = r.i64(what)?;
            let kind = match r.u8(what)? {
                0 => EntryKind::Word,
                1 => EntryKind::Label,
                other => return Err(r.corrupt(format!("dictionary entry of type {other}"))),
            };
            entries.push(Entry { word, count, kind });
        }
        let buckets = if pruneidx_size < 0 {
            Buckets::All
        } else {
            let mut kept = FxHashMap::default();
            for _ in 0..pruneidx_size {
                let from = r.i32(what)?;
                let to = r.i32(what)?;
                if to < 0 || i64::from(nwords) + i64::from(to) > i64::from(i32::MAX) {
                    return Err(r.corrupt(format!("a pruned bucket mapped to row {to}")));
                }
                kept.insert(from, to);
            }
            Buckets::Kept(kept)
        };
        let pruned = matches!(buckets, Buckets::Kept(_));
        let dict = Dictionary::new(
            entries,
            nwords,
            nlabels,
            ntokens,
            buckets,
            (bucket, minn, maxn, word_ngrams),
        );

        let quant_input = r.bool("input matrix")?;
        let input = r.matrix(quant_input, true, "input matrix")?;
        if !quant_input && pruned {
            return Err(r.corrupt("a pruned dictionary with a dense input matrix".into()));
        }
        let qout = r.bool("output matrix")?;
        let output = r.matrix(quant_input && qout, false, "output matrix")?;

        if input.cols() != dim as usize || output.cols() != dim as usize {
            return Err(r.corrupt(format!(
                "matrices of {} and {} columns for dimension {dim}",
                input.cols(),
                output.cols()
            )));
        }
        if nlabels == 0 {
            return Err(r.corrupt("no labels: not a classifier".into()));
        }
        if output.rows() != nlabels as usize {
            return Err(r.corrupt(format!(
                "{} output rows for {nlabels} labels",
                output.rows()
            )));
        }
        let needed = dict.nwords as usize
            + if !matches!(input, Matrix::Quantized(_)) {
                bucket.max(0) as usize
            } else {
                0
            };
        if input.rows() < needed {
            return Err(r.corrupt(format!(
                "{} input rows for {} words and {bucket} buckets",
                input.rows(),
                dict.nwords
            )));
        }

        let labels = (0..nlabels as usize)
            .map(|i| String::from_utf8_lossy(dict.label(i)).into_owned())
            .collect();
        let tree = if loss == Loss::HierarchicalSoftmax {
            huffman(&dict.label_counts()).ok_or_else(|| {
                r.corrupt(
                    "label counts that do not make a Huffman tree (hierarchical softmax)".into(),
                )
            })?
        } else {
            Vec::new()
        };
        let sigmoid = (0..=512)
            .map(|i| {
                let x = (i * 16) as f32 / 512.0 - 8.0;
                (1.0 / (1.0 + (-(x as f64)).exp())) as f32
            })
            .collect();
        let projection = Projection::new(&input, &output);
        Ok(Model {
            path: path.to_path_buf(),
            args,
            dict,
            input,
            output,
            projection,
            labels,
            tree,
            sigmoid,
        })
    }

    /// Label names in the model's order (most frequent in training first).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// A label's index by its name, with or without the `__label__` prefix.
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label).or_else(|| {
            self.labels
                .iter()
                .position(|l| l.strip_prefix("__label__") == Some(label))
        })
    }

    /// The probability of every label for one document, as `fasttext predict-prob <model> - -1`
    /// prints it for the document on one line (`exp(log(p + 1e-5))` in fastText's floats, the
    /// sums in another order where the model is projected), in label order; `None` when the
    /// document has no known input at all.
    pub fn predict<'s>(&self, text: &[u8], scratch: &'s mut Scratch) -> Option<&'s [f32]> {
        self.dict.line(
            text,
            &mut scratch.ids,
            &mut scratch.hashes,
            &mut scratch.bytes,
            &mut scratch.recent,
        );
        if scratch.ids.is_empty() {
            return None;
        }
        self.output_dots(scratch);
        let n = self.labels.len();
        scratch.probs.clear();
        scratch.probs.resize(n, 0.0);
        let dots = &scratch.dots;
        let probs = &mut scratch.probs;
        match self.args.loss {
            Loss::Softmax => {
                probs.copy_from_slice(&dots[..n]);
                let max = probs.iter().fold(probs[0], |m, &v| m.max(v));
                let mut z = 0.0f32;
                for p in probs.iter_mut() {
                    *p = (*p - max).exp();
                    z += *p;
                }
                for p in probs.iter_mut() {
                    *p = reported(*p / z);
                }
            }
            Loss::OneVsAll | Loss::NegativeSampling => {
                for (i, p) in probs.iter_mut().enumerate() {
                    *p = reported(self.sigmoid_table(dots[i]));
                }
            }
            Loss::HierarchicalSoftmax => {
                if n == 1 {
                    probs[0] = 1.0;
                } else {
                    self.descend(2 * n - 2, 0.0, dots, probs);
                }
            }
        }
        Some(&scratch.probs)
    }

    /// `output · mean(input rows of scratch.ids)` into `scratch.dots`, one value per output row.
    fn output_dots(&self, scratch: &mut Scratch) {
        let width = self.output.rows();
        let Scratch {
            ids,
            hidden,
            dots,
            sums,
            ..
        } = scratch;
        dots.clear();
        let rows = self.input.rows();
        // Rows are scattered over a matrix of up to gigabytes: ask for the row a few ahead
        // while adding this one, so several memory reads are in flight at once.
        let ahead = |k: usize| {
            ids.get(k + PREFETCH_AHEAD)
                .map(|&i| i as usize)
                .filter(|&i| i < rows)
        };
        if let Some(p) = &self.projection {
            sums.clear();
            sums.resize(width, 0.0);
            for (k, &id) in ids.iter().enumerate() {
                if let Some(next) = ahead(k) {
                    p.prefetch(next);
                }
                if (id as usize) < rows {
                    p.add(&self.input, id as usize, hidden, sums);
                }
            }
            let n = ids.len() as f64;
            dots.extend(sums.iter().map(|s| (s / n) as f32));
            return;
        }
        hidden.clear();
        hidden.resize(self.args.dim as usize, 0.0);
        for (k, &id) in ids.iter().enumerate() {
            if let Some(next) = ahead(k) {
                self.input.prefetch_row(next);
            }
            if (id as usize) < rows {
                self.input.add_row(id as usize, hidden);
            }
        }
        let scale = (1.0 / ids.len() as f64) as f32;
        for h in hidden.iter_mut() {
            *h *= scale;
        }
        dots.extend((0..width).map(|k| self.output.dot_row(k, hidden)));
    }

    fn sigmoid_table(&self, x: f32) -> f32 {
        if x < -8.0 {
            0.0
        } else if x > 8.0 {
            1.0
        } else {
            self.sigmoid[((x + 8.0) * 512.0 / 8.0 / 2.0) as i64 as usize]
        }
    }

    /// `HierarchicalSoftmaxLoss::dfs` without its pruning, so every label gets its score.
    fn descend(&self, node: usize, score: f32, dots: &[f32], probs: &mut [f32]) {
        let n = self.labels.len();
        let Node { left, right, .. } = self.tree[node];
        if left < 0 && right < 0 {
            probs[node] = score.exp();
            return;
        }
        let f = dots[node - n];
        let f = (1.0 / (1.0 + (-(f as f64)).exp())) as f32;
        self.descend(
            left as usize,
            score + std_log((1.0 - f as f64) as f32),
            dots,
            probs,
        );
        self.descend(right as usize, score + std_log(f), dots, probs);
    }
}

/// fastText's `std_log`: `log(x + 1e-5)`, in double, kept as a float.
#[inline]
fn std_log(x: f32) -> f32 {
    (x as f64 + 1e-5).ln() as f32
}

/// What fastText prints for probability `p`: `exp(std_log(p))`.
#[inline]
fn reported(p: f32) -> f32 {
    std_log(p).exp()
}

/// `HierarchicalSoftmaxLoss::buildTree`: the Huffman tree over label counts (sorted descending).
///
/// `None` when the counts (from the file) are not those of a real model — negative, or past the
/// sentinel count fastText gives nodes not yet built — and would make a node its own descendant, which
/// scoring would then walk forever.
fn huffman(counts: &[i64]) -> Option<Vec<Node>> {
    let n = counts.len();
    if n == 0 {
        return Some(Vec::new());
    }
    let mut tree = vec![
        Node {
            left: -1,
            right: -1,
            count: 1_000_000_000_000_000,
        };
        2 * n - 1
    ];
    for (node, &c) in tree.iter_mut().zip(counts) {
        node.count = c;
    }
    let mut leaf = n as i64 - 1;
    let mut node = n;
    for i in n..2 * n - 1 {
        let mut mini = [0usize; 2];
        for m in &mut mini {
            if leaf >= 0 && tree[leaf as usize].count < tree[node].count {
                *m = leaf as usize;
                leaf -= 1;
            } else {
                *m = node;
                node += 1;
            }
        }
        if mini.iter().any(|&m| m >= i) {
            return None;
        }
        tree[i].left = mini[0] as i32;
        tree[i].right = mini[1] as i32;
        tree[i].count = tree[mini[0]].count.saturating_add(tree[mini[1]].count);
    }
    Some(tree)
}

/// Large matrices on 2 MiB pages where the kernel allows it (Linux `madvise`): scoring reads
/// rows at random across the whole matrix, and huge pages take the TLB misses out of it
/// (measured 1.5x on a 2 GB model). Advice only; nothing changes if it is refused.
fn advise_huge_pages(v: &mut Vec<f32>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<f32>();
        let from = (start + HUGE - 1) & !(HUGE - 1);
        let to = end & !(HUGE - 1);
        if to > from {
            // SAFETY: the range lies inside the vector's own allocation; MADV_HUGEPAGE changes
            // how pages are backed, never their contents.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Model, Scratch, huffman};

    /// The projected scores against fastText's own order of sums (the exact path), on every
    /// committed model the projection applies to.
    #[test]
    fn projected_scores_are_fasttexts_to_the_last_digits() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples/fasttext");
        let text = std::fs::read_to_string(dir.join("test.txt")).unwrap();
        for name in [
            "binary/model.bin",
            "binary/model.ftz",
            "five-hs/model.bin",
            "five-ova/model.bin",
        ] {
            let projected = Model::load(&dir.join(name)).unwrap();
            let mut exact = Model::load(&dir.join(name)).unwrap();
            assert!(projected.projection.is_some(), "{name}");
            exact.projection = None;
            let (mut a, mut b) = (Scratch::default(), Scratch::default());
            let mut worst = 0.0f32;
            // Twice over, so rows are met both unfilled and filled.
            for line in text.lines().chain(text.lines()) {
                let p = projected.predict(line.as_bytes(), &mut a).unwrap();
                let e = exact.predict(line.as_bytes(), &mut b).unwrap();
                for (x, y) in p.iter().zip(e) {
                    worst = worst.max((x - y).abs());
                }
            }
            eprintln!("{name}: largest difference {worst:e}");
            assert!(worst <= 2e-6, "{name}: {worst:e}");
        }
    }

    #[test]
    fn label_counts_of_no_real_model_make_no_tree() {
        let tree = huffman(&[10, 5, 1]).unwrap();
        assert_eq!(tree.len(), 5);
        // A count past the sentinel count of unbuilt nodes would make a node its own child (found
        // by fuzzing: scoring then never ended).
        assert!(huffman(&[i64::MAX, 5]).is_none());
        assert!(huffman(&[2_000_000_000_000_000_000, 7, 3]).is_none());
    }
}

//! Supervised training by the official fastText 0.9.2 C++ code (`cpp/fasttext`, compiled into
//! pick with a memory-access patch that changes no float), so a model pick trains is the model
//! `fasttext supervised` trains for the same arguments and threads, in the same format.

use std::ffi::{CStr, CString, c_char, c_int};
use std::path::{Path, PathBuf};

use crate::{Loss, Model};

/// What `fasttext supervised` takes, every field set (no defaults inherited from the C++ side).
#[derive(Debug, Clone)]
pub struct Supervised {
    pub input: PathBuf,
    pub dim: i32,
    pub lr: f64,
    pub word_ngrams: i32,
    pub min_count: i32,
    pub epoch: i32,
    pub bucket: i32,
    pub minn: i32,
    pub maxn: i32,
    pub ws: i32,
    pub neg: i32,
    pub loss: Loss,
    pub threads: i32,
    pub seed: i32,
    pub verbose: i32,
    pub pretrained_vectors: Option<PathBuf>,
}

impl Supervised {
    /// The bucket count fastText really uses: `fasttext supervised` drops the hash buckets when
    /// there are neither word n-grams nor character n-grams to put in them.
    pub fn effective_bucket(&self) -> i32 {
        if self.word_ngrams <= 1 && self.maxn == 0 {
            0
        } else {
            self.bucket
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("fastText training on {}: {message}", input.display())]
pub struct TrainError {
    pub input: PathBuf,
    pub message: String,
}

fn c_path(p: &Path) -> Result<CString, String> {
    CString::new(p.to_string_lossy().as_bytes())
        .map_err(|_| format!("{}: a NUL in the path", p.display()))
}

/// `PickSupervised` in `cpp/train_guard.cc`, field for field.
#[repr(C)]
struct PickSupervised {
    input: *const c_char,
    pretrained_vectors: *const c_char,
    lr: f64,
    dim: c_int,
    word_ngrams: c_int,
    min_count: c_int,
    epoch: c_int,
    bucket: c_int,
    minn: c_int,
    maxn: c_int,
    ws: c_int,
    neg: c_int,
    loss: c_int,
    thread: c_int,
    seed: c_int,
    verbose: c_int,
}

unsafe extern "C" {
    /// `cpp/train_guard.cc`: trains, then writes the `.bin` and `.vec` files; every C++
    /// exception (a diverging run throws "Encountered NaN.") comes back in `err`.
    fn pick_fasttext_train(
        args: *const PickSupervised,
        bin: *const c_char,
        vec: *const c_char,
        err: *mut *mut c_char,
    ) -> c_int;
    fn pick_fasttext_free(s: *mut c_char);
}

/// What a training run learned, for its report.
#[derive(Debug)]
pub struct Trained {
    pub words: usize,
    /// Most frequent first.
    pub labels: Vec<String>,
}

/// Trains on `args.input`, then writes `bin` and `vec` as `fasttext supervised` writes
/// `<output>.bin` and `<output>.vec`.
pub fn train(args: &Supervised, bin: &Path, vec: &Path) -> Result<Trained, TrainError> {
    let fail = |message: String| TrainError {
        input: args.input.clone(),
        message,
    };
    let input = c_path(&args.input).map_err(fail)?;
    let pretrained = match &args.pretrained_vectors {
        Some(p) => Some(c_path(p).map_err(fail)?),
        None => None,
    };
    let bin_c = c_path(bin).map_err(fail)?;
    let vec_c = c_path(vec).map_err(fail)?;
    let loss = match args.loss {
        Loss::HierarchicalSoftmax => 1,
        Loss::NegativeSampling => 2,
        Loss::Softmax => 3,
        Loss::OneVsAll => 4,
    };
    let c_args = PickSupervised {
        input: input.as_ptr(),
        pretrained_vectors: pretrained.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
        lr: args.lr,
        dim: args.dim,
        word_ngrams: args.word_ngrams,
        min_count: args.min_count,
        epoch: args.epoch,
        bucket: args.effective_bucket(),
        minn: args.minn,
        maxn: args.maxn,
        ws: args.ws,
        neg: args.neg,
        loss,
        thread: args.threads,
        seed: args.seed,
        verbose: args.verbose,
    };
    let mut err: *mut c_char = std::ptr::null_mut();
    // SAFETY: every pointer in `c_args` and the paths outlive the call (fastText copies the
    // strings); `err` is either left NULL or set to a strdup'ed string, freed here once.
    unsafe {
        if pick_fasttext_train(&c_args, bin_c.as_ptr(), vec_c.as_ptr(), &mut err) != 0 {
            let message = if err.is_null() {
                "fastText failed".to_string()
            } else {
                let m = CStr::from_ptr(err).to_string_lossy().trim().to_string();
                pick_fasttext_free(err);
                m
            };
            return Err(fail(message));
        }
    }
    // The words and labels, as the file just written holds them (its matrix is mapped, not read).
    let model = Model::load(bin).map_err(|e| fail(e.to_string()))?;
    Ok(Trained {
        words: model.dict.nwords as usize,
        labels: model.labels().to_vec(),
    })
}

//! Supervised training by the official fastText 0.9.2 C++ code (the `cfasttext-sys` crate
//! compiles it into pick), so a model pick trains is the model `fasttext supervised` trains for
//! the same arguments and threads, in the same format.

use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};

use crate::Loss;
use cfasttext_sys as ft;

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

/// Owns a C string fastText allocated for an error.
fn take_error(err: *mut c_char) -> Option<String> {
    if err.is_null() {
        return None;
    }
    // SAFETY: fastText's wrapper sets `err` to a NUL-terminated strdup'ed string, freed here once.
    let message = unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned();
    unsafe { ft::cft_str_free(err) };
    Some(message)
}

unsafe extern "C" {
    /// `cpp/train_guard.cc`: `FastText::train` with every C++ exception (a diverging run throws
    /// "Encountered NaN.") returned in `err` instead of aborting the process.
    fn pick_fasttext_train(
        model: *mut std::ffi::c_void,
        args: *const std::ffi::c_void,
        err: *mut *mut c_char,
    ) -> i32;
}

struct Handles {
    args: *mut ft::fasttext_args_t,
    model: *mut ft::fasttext_t,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: both were created by their `_new` functions and are freed once.
        unsafe {
            ft::cft_args_free(self.args);
            ft::cft_fasttext_free(self.model);
        }
    }
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
        Loss::HierarchicalSoftmax => ft::loss_name_t::LOSS_HS,
        Loss::NegativeSampling => ft::loss_name_t::LOSS_NS,
        Loss::Softmax => ft::loss_name_t::LOSS_SOFTMAX,
        Loss::OneVsAll => ft::loss_name_t::LOSS_OVA,
    };
    // SAFETY: plain calls into fastText's C wrapper on handles owned by `Handles`; the strings
    // outlive the calls (fastText copies them).
    unsafe {
        let h = Handles {
            args: ft::cft_args_new(),
            model: ft::cft_fasttext_new(),
        };
        let a = h.args;
        ft::cft_args_set_input(a, input.as_ptr());
        ft::cft_args_set_model(a, ft::model_name_t::MODEL_SUP);
        ft::cft_args_set_loss(a, loss);
        ft::cft_args_set_dim(a, args.dim);
        ft::cft_args_set_lr(a, args.lr);
        ft::cft_args_set_word_ngrams(a, args.word_ngrams);
        ft::cft_args_set_min_count(a, args.min_count);
        ft::cft_args_set_epoch(a, args.epoch);
        ft::cft_args_set_bucket(a, args.effective_bucket());
        ft::cft_args_set_minn(a, args.minn);
        ft::cft_args_set_maxn(a, args.maxn);
        ft::cft_args_set_ws(a, args.ws);
        ft::cft_args_set_neg(a, args.neg);
        ft::cft_args_set_thread(a, args.threads);
        ft::cft_args_set_seed(a, args.seed);
        ft::cft_args_set_verbose(a, args.verbose);
        if let Some(p) = &pretrained {
            ft::cft_args_set_pretrained_vectors(a, p.as_ptr());
        }
        let mut err: *mut c_char = std::ptr::null_mut();
        pick_fasttext_train(h.model.cast(), a.cast_const().cast(), &mut err);
        if let Some(e) = take_error(err) {
            return Err(fail(e.trim().to_string()));
        }
        ft::cft_fasttext_save_model(h.model, bin_c.as_ptr(), &mut err);
        if let Some(e) = take_error(err) {
            return Err(fail(e));
        }
        ft::cft_fasttext_save_vectors(h.model, vec_c.as_ptr(), &mut err);
        if let Some(e) = take_error(err) {
            return Err(fail(e));
        }
        let vocab = ft::cft_fasttext_get_vocab(h.model);
        let words = (*vocab).length;
        ft::cft_fasttext_vocab_free(vocab);
        let labels = ft::cft_fasttext_get_labels(h.model);
        let names = (0..(*labels).length)
            .map(|i| {
                CStr::from_ptr(*(*labels).labels.add(i))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        ft::cft_fasttext_labels_free(labels);
        Ok(Trained {
            words,
            labels: names,
        })
    }
}

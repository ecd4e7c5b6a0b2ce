//! `pick train-fasttext`: official fastText supervised training on `train.txt` of one or more
//! convert-to-fasttext outputs (bonepick §4.2), writing `model.bin`, `model.vec` and
//! `train_params.json`. fastText itself runs inside pick (no `fasttext` binary needed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use pick_udfs::fasttext::Loss;
use pick_udfs::pyfmt::float_repr;

use crate::cli::flags::usage;
use crate::error::{PickError, Result};
use crate::report::{human_bytes, thousands};
use crate::train::fasttext::{Supervised, train};

pub fn parse_loss(s: &str) -> std::result::Result<Loss, String> {
    match s {
        "softmax" => Ok(Loss::Softmax),
        "hs" => Ok(Loss::HierarchicalSoftmax),
        "ova" => Ok(Loss::OneVsAll),
        "ns" => Ok(Loss::NegativeSampling),
        other => Err(format!("{other:?}: one of softmax, hs, ova, ns")),
    }
}

#[derive(Debug, Args)]
pub struct TrainFasttextArgs {
    /// A convert-to-fasttext output holding train.txt (repeat to train on several, in order).
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub dataset: Vec<PathBuf>,

    /// Directory to write model.bin, model.vec and train_params.json into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    #[arg(long = "learning-rate", default_value_t = 0.1, value_name = "LR")]
    pub learning_rate: f64,

    /// Longest word n-gram.
    #[arg(long = "word-ngrams", default_value_t = 3, value_name = "N")]
    pub word_ngrams: i32,

    /// Words seen fewer times are left out.
    #[arg(long = "min-count", default_value_t = 5, value_name = "N")]
    pub min_count: i32,

    #[arg(long, default_value_t = 3, value_name = "N")]
    pub epoch: i32,

    /// Hash buckets for word and character n-grams.
    #[arg(long, default_value_t = 2_000_000, value_name = "N")]
    pub bucket: i32,

    #[arg(long = "min-char-ngram", default_value_t = 0, value_name = "N")]
    pub min_char_ngram: i32,

    #[arg(long = "max-char-ngram", default_value_t = 0, value_name = "N")]
    pub max_char_ngram: i32,

    #[arg(long = "window-size", default_value_t = 5, value_name = "N")]
    pub window_size: i32,

    #[arg(long, default_value_t = 256, value_name = "N")]
    pub dimension: i32,

    /// softmax, hs (hierarchical softmax), ova (one-vs-all) or ns (negative sampling).
    #[arg(long, default_value = "softmax", value_parser = parse_loss, value_name = "LOSS")]
    pub loss: Loss,

    #[arg(long = "num-negatives", default_value_t = 5, value_name = "N")]
    pub num_negatives: i32,

    /// Training threads (0 = all cores). With more than one, fastText's training is not
    /// bit-for-bit repeatable (Hogwild updates).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub thread: usize,

    /// Word vectors (.vec) to start from.
    #[arg(long = "pretrained-vectors", value_name = "FILE")]
    pub pretrained_vectors: Option<PathBuf>,

    #[arg(long, default_value_t = 42)]
    pub seed: i32,

    /// fastText's verbosity: 0 quiet, 1 summary, 2 progress.
    #[arg(long, default_value_t = 2)]
    pub verbose: i32,
}

/// A number as Python's `str()` prints it (bonepick's command line).
fn py(v: f64) -> String {
    let mut s = String::new();
    float_repr(v, &mut s);
    s
}

/// The `fasttext supervised` command line that trains the same model.
fn command_line(a: &TrainFasttextArgs, s: &Supervised, prefix: &Path) -> String {
    let mut cmd = format!(
        "fasttext supervised -input {} -output {} -dim {} -lr {} -wordNgrams {} -minCount {} \
         -epoch {} -bucket {} -minn {} -maxn {} -ws {} -neg {} -seed {} -thread {} -loss {} -verbose {}",
        s.input.display(),
        prefix.display(),
        s.dim,
        py(s.lr),
        s.word_ngrams,
        s.min_count,
        s.epoch,
        a.bucket,
        s.minn,
        s.maxn,
        s.ws,
        s.neg,
        s.seed,
        s.threads,
        s.loss.name(),
        s.verbose
    );
    if let Some(p) = &s.pretrained_vectors {
        cmd.push_str(&format!(" -pretrainedVectors {}", p.display()));
    }
    cmd
}

/// Several inputs become one training file, in the order given.
fn combined_input(dirs: &[PathBuf], output: &Path) -> Result<PathBuf> {
    let mut files = Vec::new();
    for dir in dirs {
        let train = dir.join("train.txt");
        let meta = std::fs::metadata(&train).map_err(|_| {
            usage(format!(
                "{}: no train.txt (make one with convert-to-fasttext)",
                dir.display()
            ))
        })?;
        if meta.len() == 0 {
            return Err(usage(format!("{}: empty", train.display())));
        }
        files.push(train);
    }
    if let [one] = files.as_slice() {
        return Ok(one.clone());
    }
    let combined = output.join("combined_train.txt");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&combined).map_err(|e| PickError::io(&combined, e))?,
    );
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| PickError::io(file, e))?;
        out.write_all(&bytes)
            .and_then(|_| {
                if bytes.last() != Some(&b'\n') {
                    out.write_all(b"\n")
                } else {
                    Ok(())
                }
            })
            .map_err(|e| PickError::io(&combined, e))?;
    }
    out.flush().map_err(|e| PickError::io(&combined, e))?;
    Ok(combined)
}

pub fn run(args: TrainFasttextArgs, quiet: bool) -> Result<()> {
    if let Some(p) = &args.pretrained_vectors
        && !p.is_file()
    {
        return Err(usage(format!(
            "--pretrained-vectors: {}: no such file",
            p.display()
        )));
    }
    for (flag, v) in [
        ("--dimension", args.dimension),
        ("--epoch", args.epoch),
        ("--word-ngrams", args.word_ngrams),
        ("--window-size", args.window_size),
    ] {
        if v < 1 {
            return Err(usage(format!("{flag} must be at least 1, not {v}")));
        }
    }
    if args.bucket < 0 || args.min_char_ngram < 0 || args.max_char_ngram < args.min_char_ngram {
        return Err(usage(
            "--bucket must be >= 0 and --max-char-ngram >= --min-char-ngram >= 0".to_string(),
        ));
    }
    std::fs::create_dir_all(&args.output).map_err(|e| PickError::io(&args.output, e))?;
    let input = combined_input(&args.dataset, &args.output)?;
    let threads = if args.thread == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        args.thread
    };
    let spec = Supervised {
        input,
        dim: args.dimension,
        lr: args.learning_rate,
        word_ngrams: args.word_ngrams,
        min_count: args.min_count,
        epoch: args.epoch,
        bucket: args.bucket,
        minn: args.min_char_ngram,
        maxn: args.max_char_ngram,
        ws: args.window_size,
        neg: args.num_negatives,
        loss: args.loss,
        threads: threads as i32,
        seed: args.seed,
        verbose: if quiet { 0 } else { args.verbose },
        pretrained_vectors: args.pretrained_vectors.clone(),
    };
    let bin = args.output.join("model.bin");
    let vec = args.output.join("model.vec");
    // Written under temporary names and renamed, so a failed run leaves no half model.
    let (bin_tmp, vec_tmp) = (
        args.output.join(".model.bin.partial"),
        args.output.join(".model.vec.partial"),
    );
    let started = Instant::now();
    let trained = match train(&spec, &bin_tmp, &vec_tmp) {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&bin_tmp);
            let _ = std::fs::remove_file(&vec_tmp);
            return Err(PickError::Failed(e.to_string()));
        }
    };
    std::fs::rename(&bin_tmp, &bin).map_err(|e| PickError::io(&bin, e))?;
    std::fs::rename(&vec_tmp, &vec).map_err(|e| PickError::io(&vec, e))?;
    let elapsed = started.elapsed();

    let params = serde_json::json!({
        "train_command": command_line(&args, &spec, &args.output.join("model")),
        "parameters": {
            "dimension": args.dimension,
            "learning_rate": args.learning_rate,
            "word_ngrams": args.word_ngrams,
            "min_count": args.min_count,
            "epoch": args.epoch,
            "bucket": args.bucket,
            "min_char_ngram": args.min_char_ngram,
            "max_char_ngram": args.max_char_ngram,
            "window_size": args.window_size,
            "num_negatives": args.num_negatives,
            "loss": args.loss.name(),
            "seed": args.seed,
        }
    });
    let params_path = args.output.join("train_params.json");
    std::fs::write(
        &params_path,
        serde_json::to_string_pretty(&params).expect("JSON values serialize"),
    )
    .map_err(|e| PickError::io(&params_path, e))?;

    if !quiet {
        let size = std::fs::metadata(&bin).map_or(0, |m| m.len());
        eprintln!(
            "trained a {} model on {} ({} words, {} labels: {}) in {:.2}s with {threads} threads",
            args.loss.name(),
            spec.input.display(),
            thousands(trained.words as u64),
            trained.labels.len(),
            trained.labels.join(" "),
            elapsed.as_secs_f64()
        );
        eprintln!(
            "wrote {} ({}), {} and {}",
            bin.display(),
            human_bytes(size as f64),
            vec.display(),
            params_path.display()
        );
    }
    Ok(())
}

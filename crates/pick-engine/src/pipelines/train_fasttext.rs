//! `pick train-fasttext`: official fastText supervised training on `train.txt` of one or more
//! convert-to-fasttext outputs (bonepick §4.2), writing `model.bin`, `model.vec` and
//! `train_params.json`. fastText itself runs inside pick (no `fasttext` binary needed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pick_compat::pyfmt::float_repr;
use pick_fasttext::Loss;
use pick_fasttext::train::{Supervised, train};
use serde::Serialize;

use crate::error::{PickError, Result};
use crate::pipelines::usage;
use crate::write::{OutputDir, PendingFile, write_file};

#[derive(Debug, Clone)]
pub struct TrainFasttextParams {
    pub dataset: Vec<PathBuf>,
    pub output: PathBuf,
    pub learning_rate: f64,
    pub word_ngrams: i32,
    pub min_count: i32,
    pub epoch: i32,
    pub bucket: i32,
    pub min_char_ngram: i32,
    pub max_char_ngram: i32,
    pub window_size: i32,
    pub dimension: i32,
    pub loss: Loss,
    pub num_negatives: i32,
    /// 0 = all cores.
    pub thread: usize,
    pub pretrained_vectors: Option<PathBuf>,
    pub seed: i32,
    /// fastText's own verbosity (0 quiet, 1 summary, 2 progress), as recorded in
    /// train_params.json.
    pub verbose: i32,
    /// Whether fastText may write to stderr at all (its progress is for a terminal).
    pub fasttext_output: bool,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
}

#[derive(Debug, Serialize)]
pub struct TrainReport {
    pub loss: String,
    pub input: PathBuf,
    pub words: usize,
    /// Most frequent first.
    pub labels: Vec<String>,
    pub seconds: f64,
    pub threads: usize,
    pub model: PathBuf,
    pub model_bytes: u64,
    pub vectors: PathBuf,
    pub params: PathBuf,
}

/// A number as Python's `str()` prints it (bonepick's command line).
fn py(v: f64) -> String {
    let mut s = String::new();
    float_repr(v, &mut s);
    s
}

/// The `fasttext supervised` command line that trains the same model.
fn command_line(a: &TrainFasttextParams, s: &Supervised, prefix: &Path) -> String {
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
        let train = crate::store::local::file_in(dir, "train.txt")?.ok_or_else(|| {
            usage(format!(
                "{}: no train.txt (make one with convert-to-fasttext)",
                dir.display()
            ))
        })?;
        let meta = std::fs::metadata(&train).map_err(|e| PickError::io(&train, e))?;
        if meta.len() == 0 {
            return Err(usage(format!("{}: empty", train.display())));
        }
        files.push(train);
    }
    if let [one] = files.as_slice() {
        return Ok(one.clone());
    }
    let combined = output.join("combined_train.txt");
    let (pending, file) = PendingFile::create(&combined)?;
    let mut out = std::io::BufWriter::new(file);
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
    drop(out);
    pending.commit()?;
    Ok(combined)
}

pub fn run(args: &TrainFasttextParams) -> Result<TrainReport> {
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
    let out = OutputDir::prepare(&args.output, &args.dataset, args.overwrite)?;
    let input = combined_input(&args.dataset, out.path())?;
    let threads = if args.thread == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        args.thread
    };
    // What is recorded (train_params.json, the report) names the output's final place.
    let recorded_input = match input.strip_prefix(out.path()) {
        Ok(rel) => args.output.join(rel),
        Err(_) => input.clone(),
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
        verbose: args.verbose,
        pretrained_vectors: args.pretrained_vectors.clone(),
    };
    let started = Instant::now();
    let run = Supervised {
        verbose: if args.fasttext_output {
            spec.verbose
        } else {
            0
        },
        ..spec.clone()
    };
    let trained = train(
        &run,
        &out.path().join("model.bin"),
        &out.path().join("model.vec"),
    )
    .map_err(|e| PickError::Failed(e.to_string()))?;
    let elapsed = started.elapsed();
    let recorded = Supervised {
        input: recorded_input,
        ..spec.clone()
    };

    let params = serde_json::json!({
        "train_command": command_line(args, &recorded, &args.output.join("model")),
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
    write_file(
        &out.path().join("train_params.json"),
        pick_compat::json::to_string_pretty(&params).as_bytes(),
    )?;
    let model_bytes = std::fs::metadata(out.path().join("model.bin")).map_or(0, |m| m.len());
    out.commit()?;

    Ok(TrainReport {
        loss: args.loss.name().to_string(),
        input: recorded.input.clone(),
        words: trained.words,
        labels: trained.labels,
        seconds: elapsed.as_secs_f64(),
        threads,
        model: args.output.join("model.bin"),
        model_bytes,
        vectors: args.output.join("model.vec"),
        params: args.output.join("train_params.json"),
    })
}

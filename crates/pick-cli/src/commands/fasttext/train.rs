//! `pick train-fasttext`: official fastText supervised training (bonepick §4.2).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::train_fasttext::{TrainFasttextParams, run as train};
use pick_engine::units::{human_bytes, thousands};
use pick_fasttext::Loss;

use crate::args::Globals;

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

    #[arg(value_parser = crate::flags::py_float, long = "learning-rate", default_value_t = 0.1, value_name = "LR")]
    pub learning_rate: f64,

    /// Longest word n-gram.
    #[arg(value_parser = crate::flags::py_int::<i32>, long = "word-ngrams", default_value_t = 3, value_name = "N")]
    pub word_ngrams: i32,

    /// Words seen fewer times are left out.
    #[arg(value_parser = crate::flags::py_int::<i32>, long = "min-count", default_value_t = 5, value_name = "N")]
    pub min_count: i32,

    #[arg(value_parser = crate::flags::py_int::<i32>, long, default_value_t = 3, value_name = "N")]
    pub epoch: i32,

    /// Hash buckets for word and character n-grams.
    #[arg(value_parser = crate::flags::py_int::<i32>, long, default_value_t = 2_000_000, value_name = "N")]
    pub bucket: i32,

    #[arg(value_parser = crate::flags::py_int::<i32>, long = "min-char-ngram", default_value_t = 0, value_name = "N")]
    pub min_char_ngram: i32,

    #[arg(value_parser = crate::flags::py_int::<i32>, long = "max-char-ngram", default_value_t = 0, value_name = "N")]
    pub max_char_ngram: i32,

    #[arg(value_parser = crate::flags::py_int::<i32>, long = "window-size", default_value_t = 5, value_name = "N")]
    pub window_size: i32,

    #[arg(value_parser = crate::flags::py_int::<i32>, long, default_value_t = 256, value_name = "N")]
    pub dimension: i32,

    /// softmax, hs (hierarchical softmax), ova (one-vs-all) or ns (negative sampling).
    #[arg(long, default_value = "softmax", value_parser = parse_loss, value_name = "LOSS")]
    pub loss: Loss,

    #[arg(value_parser = crate::flags::py_int::<i32>, long = "num-negatives", default_value_t = 5, value_name = "N")]
    pub num_negatives: i32,

    /// Training threads (0 = all cores). With more than one, fastText's training is not
    /// bit-for-bit repeatable (Hogwild updates).
    #[arg(value_parser = crate::flags::py_int::<usize>, long, default_value_t = 0, value_name = "N")]
    pub thread: usize,

    /// Word vectors (.vec) to start from.
    #[arg(long = "pretrained-vectors", value_name = "FILE")]
    pub pretrained_vectors: Option<PathBuf>,

    #[arg(value_parser = crate::flags::py_int::<i32>, long, default_value_t = 42)]
    pub seed: i32,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    /// fastText's verbosity: 0 quiet, 1 summary, 2 progress.
    #[arg(value_parser = crate::flags::py_int::<i32>, long, default_value_t = 2)]
    pub verbose: i32,
}

pub fn run(args: TrainFasttextArgs, g: Globals) -> Result<()> {
    let params = TrainFasttextParams {
        dataset: args.dataset,
        output: args.output,
        learning_rate: args.learning_rate,
        word_ngrams: args.word_ngrams,
        min_count: args.min_count,
        epoch: args.epoch,
        bucket: args.bucket,
        min_char_ngram: args.min_char_ngram,
        max_char_ngram: args.max_char_ngram,
        window_size: args.window_size,
        dimension: args.dimension,
        loss: args.loss,
        num_negatives: args.num_negatives,
        thread: args.thread,
        pretrained_vectors: args.pretrained_vectors,
        seed: args.seed,
        verbose: if g.quiet { 0 } else { args.verbose },
        // fastText's own progress line (carriage returns) belongs on a terminal; in a pipe or a
        // log it would be thousands of lines, so there only pick's summary line is written.
        fasttext_output: std::io::stderr().is_terminal(),
        overwrite: args.overwrite,
    };
    let r = train(&params)?;
    if !g.quiet {
        eprintln!(
            "trained a {} model on {} ({} words, {} labels: {}) in {:.2}s with {} threads",
            r.loss,
            r.input.display(),
            thousands(r.words as u64),
            r.labels.len(),
            r.labels.join(" "),
            r.seconds,
            r.threads
        );
        eprintln!(
            "wrote {} ({}), {} and {}",
            r.model.display(),
            human_bytes(r.model_bytes as f64),
            r.vectors.display(),
            r.params.display()
        );
    }
    Ok(())
}

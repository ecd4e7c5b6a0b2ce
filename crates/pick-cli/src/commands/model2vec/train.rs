//! `pick train-model2vec`: fine-tune a Model2Vec model with a classifier or regressor head
//! (bonepick §1.3, §5.2, §5.3).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_engine::Result;
use pick_engine::pipelines::train_model2vec::{
    ClassWeight, TrainModel2vecParams, resolve_model, run as train,
};
use pick_engine::units::thousands;

use crate::args::Globals;
use crate::commands::model2vec::RowArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossClassWeight {
    Uniform,
    Balanced,
    Sqrt,
}

#[derive(Debug, Args)]
pub struct TrainModel2vecArgs {
    /// A dataset with train/ (and optionally valid/) splits; repeat to train on several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub dataset: Vec<String>,

    /// Directory to write model/ (a model2vec pipeline) and report.yaml into; without it the
    /// model is trained and reported but not saved.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// The base static model: a folder, or a Hugging Face id already in the local hub cache.
    #[arg(
        short = 'm',
        long = "model-name",
        default_value = "minishlab/potion-base-32M",
        value_name = "NAME"
    )]
    pub model_name: String,

    #[arg(value_parser = crate::flags::py_float, long = "learning-rate", default_value_t = 1e-3, value_name = "LR")]
    pub learning_rate: f64,

    /// Rows per step (default: 32 to 512 by training size, as model2vec chooses).
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "batch-size", value_name = "N")]
    pub batch_size: Option<usize>,

    /// Epochs before early stopping may end training.
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "min-epochs", value_name = "N")]
    pub min_epochs: Option<usize>,

    /// At most this many epochs (-1: until early stopping).
    #[arg(value_parser = crate::flags::py_int::<i64>, long = "max-epochs", default_value_t = -1, allow_negative_numbers = true, value_name = "N")]
    pub max_epochs: i64,

    /// Validation checks without improvement before stopping.
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "early-stopping-patience", default_value_t = 5, value_name = "N")]
    pub early_stopping_patience: usize,

    /// Class weights in the loss (classification).
    #[arg(long = "loss-class-weight", value_enum, ignore_case = true, default_value_t = LossClassWeight::Uniform)]
    pub loss_class_weight: LossClassWeight,

    /// Train a regressor on numeric labels instead of a classifier.
    #[arg(long)]
    pub regression: bool,

    /// Seed of the head's initialization, the shuffles and the validation split.
    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = 42)]
    pub seed: u64,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,

    #[command(flatten)]
    pub rows: RowArgs,
}

pub async fn run(args: TrainModel2vecArgs, g: Globals) -> Result<()> {
    let params = TrainModel2vecParams {
        model: resolve_model(&args.model_name)?,
        model_name: args.model_name,
        dataset: args.dataset,
        output: args.output,
        rows: args.rows.spec(g.quiet)?,
        learning_rate: args.learning_rate,
        batch_size: args.batch_size,
        min_epochs: args.min_epochs,
        max_epochs: (args.max_epochs >= 0).then_some(args.max_epochs as usize),
        patience: Some(args.early_stopping_patience),
        class_weight: match args.loss_class_weight {
            LossClassWeight::Uniform => ClassWeight::Uniform,
            LossClassWeight::Balanced => ClassWeight::Balanced,
            LossClassWeight::Sqrt => ClassWeight::Sqrt,
        },
        regression: args.regression,
        seed: args.seed,
        threads: args.rows.num_proc,
        overwrite: args.overwrite,
    };
    let r = train(&params, &g.observer(false)).await?;
    if !g.quiet {
        let best = &r.checks[r.best];
        let kind = match &r.classes {
            Some(c) => format!("a classifier ({} classes: {})", c.len(), c.join(" ")),
            None => "a regressor".to_string(),
        };
        eprintln!(
            "trained {kind} on {} rows (validation: {} rows, {}) with batches of {}, {} epochs \
             in {:.2}s ({:.2}s tokenizing) on {} threads",
            thousands(r.train_rows as u64),
            thousands(r.validation_rows as u64),
            r.validation,
            r.batch_size,
            r.epochs,
            r.train_seconds,
            r.tokenize_seconds,
            r.threads
        );
        eprintln!(
            "kept epoch {} (val loss {:.4}, val {} {:.4})",
            best.epoch,
            best.val_loss,
            if r.classes.is_some() {
                "accuracy"
            } else {
                "R²"
            },
            best.val_score
        );
        if let (Some(m), Some(rep)) = (&r.model, &r.report) {
            eprintln!("wrote {} and {}", m.display(), rep.display());
        }
    }
    Ok(())
}

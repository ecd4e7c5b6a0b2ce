//! `pick distill-model2vec`: a static model distilled from a local BERT-family sentence
//! transformer, as model2vec 0.10's `distill` does (bonepick §1.3, §5.5), on the CPU, without
//! Python.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pick_distill::{PcaDims, Pooling, Quantize};
use pick_engine::Result;
use pick_engine::pipelines::distill_model2vec::{DistillParams, run as distill};
use pick_engine::units::thousands;

use crate::args::Globals;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantizeTo {
    Float16,
    Float32,
    Float64,
    Int8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolingArg {
    Mean,
    Last,
    First,
    Pooler,
}

#[derive(Debug, Args)]
pub struct DistillArgs {
    /// The sentence transformer: a folder with config.json, model.safetensors (or
    /// pytorch_model.bin) and tokenizer.json, a URL, or a Hugging Face id already in the local
    /// hub cache. BERT-family models with a WordPiece tokenizer.
    #[arg(short = 'm', long = "model-name-or-path", value_name = "MODEL")]
    pub model: String,

    /// Words to add to the vocabulary, one per line (.gz and .zst read as such).
    #[arg(short = 'v', long = "vocabulary-path", value_name = "FILE")]
    pub vocabulary: Option<PathBuf>,

    /// Where the static model is written (model.safetensors, config.json, tokenizer.json).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// PCA components: a number, `auto` (the transformer's width), or a share of the variance
    /// to keep (0.9).
    #[arg(short = 'd', long = "pca-dims", default_value = "256", value_parser = pca_dims, value_name = "DIMS")]
    pub pca_dims: PcaDims,

    /// SIF coefficient of the token weights (above 0, below 1).
    #[arg(short = 's', long = "sif-coefficient", default_value_t = 1e-4, value_parser = crate::flags::py_float, value_name = "C")]
    pub sif_coefficient: f64,

    /// Tokens to leave out (matched at their start, as Python's re.match).
    #[arg(
        short = 't',
        long = "token-remove-pattern",
        default_value = r"\[unused\d+\]",
        value_name = "REGEX"
    )]
    pub token_remove_pattern: String,

    /// Accepted for bonepick's command lines; pick runs no model code but its own BERT.
    #[arg(short = 'r', long = "trust-remote-code")]
    pub trust_remote_code: bool,

    /// The type the embeddings are saved in (bonepick's `-q TYPE` works too).
    #[arg(long = "quantize-to", value_enum, default_value_t = QuantizeTo::Float16)]
    pub quantize_to: QuantizeTo,

    /// Cluster the vocabulary's vectors into this many rows (k-means, seeded).
    #[arg(short = 'k', long = "vocabulary-quantization", value_parser = crate::flags::py_int::<usize>, value_name = "K")]
    pub vocabulary_quantization: Option<usize>,

    /// How a token's hidden states become its vector.
    #[arg(short = 'p', long = "pooling", value_enum, default_value_t = PoolingArg::Mean)]
    pub pooling: PoolingArg,

    /// Replace the output directory if it is not empty (it is swapped in whole at the end).
    #[arg(long)]
    pub overwrite: bool,
}

fn pca_dims(s: &str) -> std::result::Result<PcaDims, String> {
    PcaDims::parse(s).ok_or_else(|| {
        format!("`{s}` is not `auto`, a whole number of components, or a share below 1")
    })
}

pub async fn run(args: DistillArgs, g: Globals) -> Result<()> {
    let params = DistillParams {
        model_name: args.model,
        output: args.output,
        pca_dims: args.pca_dims,
        sif_coefficient: args.sif_coefficient,
        token_remove_pattern: Some(args.token_remove_pattern).filter(|p| !p.is_empty()),
        vocabulary_path: args.vocabulary,
        vocabulary_quantization: args.vocabulary_quantization,
        quantize_to: match args.quantize_to {
            QuantizeTo::Float16 => Quantize::Float16,
            QuantizeTo::Float32 => Quantize::Float32,
            QuantizeTo::Float64 => Quantize::Float64,
            QuantizeTo::Int8 => Quantize::Int8,
        },
        pooling: match args.pooling {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Last => Pooling::Last,
            PoolingArg::First => Pooling::First,
            PoolingArg::Pooler => Pooling::Pooler,
        },
        overwrite: args.overwrite,
    };
    let observer = g.observer(false);
    let out = params.output.clone();
    let r = tokio::task::block_in_place(|| distill(&params, &observer))?;
    if !g.quiet {
        eprintln!(
            "distilled {} tokens from a {}-wide transformer to {} dimensions in {:.2}s ({:.0} \
             tokens/s): {}",
            thousands(r.tokens as u64),
            r.hidden,
            r.dim,
            r.seconds,
            r.tokens as f64 / r.seconds.max(1e-9),
            out.display()
        );
    }
    Ok(())
}

//! The Model2Vec commands: distil static models, train, evaluate and score with model2vec 0.10
//! pipelines.

pub mod distill;
pub mod eval;
pub mod train;

use clap::Args;
use pick_engine::ops::labelled::LabelledSpec;
use pick_text::Normalizer;

use crate::args::ReadArgs;
use crate::flags::TextLabelArgs;

/// The rows a Model2Vec command reads: text and label, the cut and the normalizer.
#[derive(Debug, Clone, Args)]
pub struct RowArgs {
    #[command(flatten)]
    pub fields: TextLabelArgs,

    /// Normalizer applied to each text (after the cut), as at training (see normalize-dataset).
    #[arg(long, value_name = "NAME")]
    pub normalizer: Option<Normalizer>,

    /// Cut each text to this many characters before normalizing.
    #[arg(value_parser = crate::flags::py_int::<u64>, long = "max-length", value_name = "N")]
    pub max_length: Option<u64>,

    /// Threads (0 = all cores).
    #[arg(value_parser = crate::flags::py_int::<usize>, short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    #[command(flatten)]
    pub read: ReadArgs,
}

impl RowArgs {
    pub fn spec(&self, quiet: bool) -> pick_engine::Result<LabelledSpec> {
        let (text, label) = self.fields.expressions(quiet)?;
        Ok(LabelledSpec {
            text,
            label,
            normalizer: self.normalizer,
            max_length: self.max_length,
            partitions: self.num_proc,
            read: self.read.options(),
        })
    }
}

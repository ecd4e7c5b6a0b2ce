//! `pick eval-fasttext`: a fastText model on the `test.txt` of convert-to-fasttext outputs
//! (bonepick §4.5, §6.1).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::eval_fasttext::{EvalFasttextParams, run as eval};

use crate::args::Globals;
use crate::output::Out;
use crate::output::table::classification_table as table;

#[derive(Debug, Args)]
pub struct EvalFasttextArgs {
    /// A convert-to-fasttext output holding test.txt (repeat to evaluate on several together).
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub dataset: Vec<PathBuf>,

    /// Directory holding model.bin (or a .bin/.ftz file); results_<hash>.yaml is written there.
    #[arg(short = 'm', long = "model-dir", value_name = "DIR")]
    pub model: PathBuf,

    /// Accepted for bonepick's command lines; test.txt already holds label and text.
    #[arg(short = 't', long = "text-field", hide = true)]
    pub text_field: Option<String>,

    /// Accepted for bonepick's command lines; test.txt already holds label and text.
    #[arg(short = 'l', long = "label-field", hide = true)]
    pub label_field: Option<String>,

    /// Threads (0 = all cores).
    #[arg(value_parser = crate::flags::py_int::<usize>, short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Draw the ROC and precision-recall curves per class and the confusion matrix into DIR
    /// (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

pub fn run(args: EvalFasttextArgs, g: Globals) -> Result<()> {
    let params = EvalFasttextParams {
        dataset: args.dataset,
        model: args.model,
        num_proc: args.num_proc,
        plot: args.plot,
    };
    let r = eval(&params)?;
    Out.text(&r.yaml)?;
    if !g.quiet {
        if !r.unknown.is_empty() {
            eprintln!(
                "warning: the model has no label {} (scored 0)",
                r.unknown.join(", ")
            );
        }
        if r.unscored > 0 {
            eprintln!(
                "{} of {} examples have no word the model knows and were left out, as \
                 `fasttext test` leaves them out",
                r.unscored, r.examples
            );
        }
        eprintln!("{}", table(&r.result));
        eprintln!(
            "{} examples from {} file(s); results in {}",
            r.examples,
            r.files,
            r.results_file.display()
        );
        crate::output::plots_written(&r.plots);
    }
    Ok(())
}

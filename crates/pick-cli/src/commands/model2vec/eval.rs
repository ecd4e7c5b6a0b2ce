//! `pick eval-model2vec`: a Model2Vec pipeline on the `test/` split (bonepick §5.4, §6.1).

use std::path::PathBuf;

use clap::Args;
use pick_engine::Result;
use pick_engine::pipelines::eval_model2vec::{EvalModel2vecParams, Outcome, run as eval};

use crate::args::Globals;
use crate::commands::model2vec::RowArgs;
use crate::output::Out;
use crate::output::table::classification_table as table;

#[derive(Debug, Args)]
pub struct EvalModel2vecArgs {
    /// A dataset with a test/ split (repeat to evaluate on several together).
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub dataset: Vec<String>,

    /// A train-model2vec output (holding model/) or a model2vec pipeline folder;
    /// results_<hash>.yaml is written there.
    #[arg(short = 'm', long = "model-dir", value_name = "DIR")]
    pub model: PathBuf,

    #[command(flatten)]
    pub rows: RowArgs,

    /// Draw a classifier's ROC and precision-recall curves per class and its confusion
    /// matrix into DIR (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

pub async fn run(args: EvalModel2vecArgs, g: Globals) -> Result<()> {
    let params = EvalModel2vecParams {
        dataset: args.dataset,
        model: args.model,
        rows: args.rows.spec(g.quiet)?,
        threads: args.rows.num_proc,
        plot: args.plot,
    };
    let r = eval(&params, &g.observer(false)).await?;
    Out.text(&r.yaml)?;
    if !g.quiet {
        if !r.unknown.is_empty() {
            eprintln!(
                "warning: the model has no class {} (scored 0)",
                r.unknown.join(", ")
            );
        }
        match &r.outcome {
            Outcome::Classification(c) => eprintln!("{}", table(c)),
            Outcome::Regression(m) => {
                let mut t = comfy_table::Table::new();
                t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                t.set_header(["mse", "mae", "r2", "spearman", "support"]);
                t.add_row([
                    format!("{:.4}", m.mse),
                    format!("{:.4}", m.mae),
                    format!("{:.4}", m.r2),
                    m.spearman.map_or("-".into(), |v| format!("{v:.4}")),
                    r.examples.to_string(),
                ]);
                eprintln!("{t}");
            }
        }
        eprintln!(
            "{} examples with {}; results in {}",
            r.examples,
            r.model.display(),
            r.results_file.display()
        );
        crate::output::plots_written(&r.plots);
    }
    Ok(())
}

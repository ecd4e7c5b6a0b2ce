//! `pick train-calibration`: a linear or log-linear map from prediction components to gold
//! labels, printed as a jq expression (bonepick §6.3).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use pick_engine::Result;
use pick_engine::pipelines::calibration::{ModelType as Model, TrainCalibrationParams, train};
use pick_engine::units::thousands;

use crate::args::{Globals, ReadArgs};
use crate::output::Out;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelType {
    Linear,
    #[value(name = "log-linear")]
    LogLinear,
}

#[derive(Debug, Args)]
pub struct TrainCalibrationArgs {
    /// Dataset with prediction components and gold labels; repeat for several.
    #[arg(short = 'd', long = "dataset-dir", value_name = "DIR", required = true)]
    pub datasets: Vec<String>,

    /// jq expression for the prediction components (an object of numbers).
    #[arg(short = 'p', long = "prediction-expression", value_name = "JQ")]
    pub prediction: String,

    /// jq expression for the gold label.
    #[arg(short = 'l', long = "label-expression", value_name = "JQ")]
    pub label: String,

    #[arg(short = 'm', long = "model-type", value_enum, default_value_t = ModelType::Linear)]
    pub model: ModelType,

    /// Write the fit as YAML here.
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Threads (0 = all cores).
    #[arg(value_parser = crate::flags::py_int::<usize>, long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    #[command(flatten)]
    pub read: ReadArgs,
}

pub async fn run(args: TrainCalibrationArgs, g: Globals) -> Result<()> {
    let params = TrainCalibrationParams {
        datasets: args.datasets,
        prediction: args.prediction,
        label: args.label,
        model: match args.model {
            ModelType::Linear => Model::Linear,
            ModelType::LogLinear => Model::LogLinear,
        },
        output: args.output,
        partitions: args.num_proc,
        read: args.read.options(),
    };
    let r = train(&params, &g.observer(false)).await?;
    let (fit, err, names, expr) = (&r.fit, &r.errors, &r.names, &r.expression);
    let out = Out;
    out.line(format!("Fit ({})", r.model.name()))?;
    out.line(format!(
        "  Samples: {}   R²: {:.4}   RMSE: {:.4}   MAE: {:.4}   MSE: {:.4}\n",
        thousands(r.samples as i64),
        err.r2,
        err.rmse,
        err.mae,
        err.mse
    ))?;
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| fit.weights[b].abs().total_cmp(&fit.weights[a].abs()));
    let top = fit.weights.iter().map(|w| w.abs()).fold(0.0, f64::max);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["Component", "Weight", ""]);
    for i in order {
        let w = fit.weights[i];
        let len = if top > 0.0 {
            (w.abs() / top * 20.0) as usize
        } else {
            0
        };
        t.add_row(vec![
            names[i].clone(),
            format!("{w:.6}"),
            (if w < 0.0 { "-" } else { "+" }).repeat(len),
        ]);
    }
    t.add_row(vec![
        "(bias)".to_string(),
        format!("{:.6}", fit.bias),
        String::new(),
    ]);
    out.line(format!("{t}\n\njq expression:\n{expr}"))?;
    if let (Some(path), false) = (&params.output, g.quiet) {
        eprintln!("fit written to {}", path.display());
    }
    Ok(())
}

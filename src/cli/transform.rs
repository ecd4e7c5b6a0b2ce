//! `pick transform-dataset`: each row rebuilt from two jq expressions, `{**T(row), **L(row)}`,
//! shard for shard (bonepick §7.1). The work is one SQL statement (`--show-sql`).

use std::sync::Arc;

use clap::Args;
use pick_udfs::jq::Program;

use crate::cli::mirror::{Mirror, MirrorArgs, mirror};
use crate::cli::normalize::{quote_literal, required_value};
use crate::dataset::Dataset;
use crate::error::{PickError, Result};

#[derive(Debug, Args)]
pub struct TransformArgs {
    /// jq expression giving the text part of the new row (an object).
    #[arg(
        short = 't',
        long = "text-transform",
        default_value = "{text: .text}",
        value_name = "JQ"
    )]
    pub text: String,

    /// jq expression giving the label part of the new row (an object); its keys win.
    #[arg(
        short = 'l',
        long = "label-transform",
        default_value = "{score: .score}",
        value_name = "JQ"
    )]
    pub label: String,

    #[command(flatten)]
    pub io: MirrorArgs,
}

/// One jq program for both transforms: the first output of each, both objects, merged.
pub fn merged_program(text: &str, label: &str) -> String {
    format!(
        "first({text}) as $t | first({label}) as $l \
         | if ($t | type) != \"object\" then error(\"the text transform gave \\($t | type), not an object\") \
           elif ($l | type) != \"object\" then error(\"the label transform gave \\($l | type), not an object\") \
           else $t + $l end"
    )
}

pub async fn run(args: TransformArgs, quiet: bool) -> Result<()> {
    for (flag, expr) in [
        ("-t/--text-transform", &args.text),
        ("-l/--label-transform", &args.label),
    ] {
        Program::compile(expr).map_err(|e| PickError::Usage(format!("{flag}: {e}")))?;
    }
    let dataset = Arc::new(Dataset::open(&args.io.input, args.io.read.options())?);
    let program = merged_program(&args.text, &args.label);
    let rebuilt = format!("jq(_json, {})", quote_literal(&program));
    // A column named `_json` is written as the row itself.
    let sql = if args.io.read.skip_bad_rows {
        format!(
            "SELECT _json FROM (SELECT {rebuilt} AS _json, _row FROM t) WHERE _json IS NOT NULL"
        )
    } else {
        let row = required_value(&dataset, &rebuilt, "output of the transforms");
        format!("SELECT {row} AS _json FROM t")
    };
    let done = mirror(
        Mirror {
            dataset: Arc::clone(&dataset),
            sql,
            output: &args.io.output,
            format: None,
            partitions: args.io.num_proc,
            verb: "transform",
            show_sql: args.io.show_sql,
        },
        quiet,
    )
    .await?;
    if !quiet {
        done.report("transformed", &dataset, &args.io.output);
        let read = dataset
            .stats
            .rows
            .load(std::sync::atomic::Ordering::Relaxed);
        if args.io.read.skip_bad_rows && read > done.rows {
            eprintln!(
                "skipped {} rows where the transforms gave nothing",
                read - done.rows
            );
        }
    }
    Ok(())
}

//! `pick balance-dataset`: every label of every split cut down to the split's rarest label
//! (bonepick §7.3). Unlike bonepick, each label keeps exactly that many rows (the ones with the
//! smallest seeded key, not a coin flip per row), the result is the same for a seed whatever
//! the threads or file order, and rows keep all their fields and their label's type (B18, B22).
//!
//! Three queries: label counts per split; the key cut-off per label (keys only); then the rows
//! under their cut-off, shuffled, written `≤ 100 000` rows per shard.

use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use clap::Args;

use crate::cli::ReadArgs;
use crate::cli::flags::{TextLabelArgs, usage};
use crate::cli::inputs::Inputs;
use crate::cli::normalize::quote_literal;
use crate::dataset::Codec;
use crate::dataset::discover::SPLITS;
use crate::dataset::sharded::{ShardedWriter, Written};
use crate::dataset::shuffle;
use crate::dataset::sink::OutputFormat;
use crate::error::{PickError, Result};
use crate::report::human_bytes;

/// Rows per output shard, as bonepick writes them.
pub const SHARD_ROWS: u64 = 100_000;

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The text and label (`-tt`/`-ll`; the deprecated `-t`/`-l` also name the output keys).
    #[command(flatten)]
    pub fields: TextLabelArgs,

    /// Dataset with train/ (valid/, test/) splits; repeat to merge several.
    #[arg(short = 'i', long = "input-dir", value_name = "DIR", required = true)]
    pub inputs: Vec<String>,

    /// Directory to write `<split>/shard_K.jsonl.zst` into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Seed of the choice of rows and of their order.
    #[arg(short = 's', long, default_value_t = 42)]
    pub seed: i64,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// A label's rows in one split and the key at or under which its rows are kept.
#[derive(Debug, Clone)]
struct LabelCut {
    rows: u64,
    bytes: u64,
    cut: Option<f64>,
}

pub async fn run(args: BalanceArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let (text, label) = args.fields.expressions(quiet)?;
    let text_key = args
        .fields
        .text_field
        .clone()
        .unwrap_or_else(|| "text".into());
    let label_key = args
        .fields
        .label_field
        .clone()
        .unwrap_or_else(|| "score".into());

    let inputs = Inputs::open(&args.inputs, args.read.options())?;
    let splits: Vec<&str> = SPLITS
        .iter()
        .copied()
        .filter(|s| {
            inputs
                .datasets
                .iter()
                .any(|d| d.shards.iter().any(|sh| sh.split.as_deref() == Some(*s)))
        })
        .collect();
    if splits.is_empty() {
        return Err(usage(format!(
            "no train/, valid/ or test/ directory with shards under {}",
            args.inputs.join(", ")
        )));
    }
    let engine = inputs.engine(args.num_proc)?;
    let skip = args.read.skip_bad_rows;
    let value = |expr: &str, what: &str| {
        let v = format!("jq(_json, {})", quote_literal(expr));
        if skip {
            v
        } else {
            format!(
                "require_value({v}, {}, _path, _row)",
                quote_literal(&format!("{what} (`{expr}`)"))
            )
        }
    };
    let label_sql = format!("label({}, '.')", value(&label, "label"));
    let text_sql = value(&text, "text");
    let key = format!("seeded_random({}, _dir, _file, _row)", args.seed);
    let order = format!("seeded_random({}, _dir, _file, _row, 'order')", args.seed);
    let rows = inputs.rows_cte();
    let in_splits = format!(
        "_split IN ({})",
        splits
            .iter()
            .map(|s| quote_literal(s))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // 1. Labels per split (texts are checked here, once).
    let count_sql = format!(
        "{rows} SELECT _split, {label_sql} AS label, count({text_sql}) AS n, \
         CAST(sum(octet_length(_json)) AS BIGINT) AS bytes FROM rows \
         WHERE {in_splits} GROUP BY 1, 2 ORDER BY 1, 2"
    );
    if args.show_sql {
        println!("{count_sql};");
    }
    let mut per_split: BTreeMap<String, BTreeMap<Option<String>, LabelCut>> = BTreeMap::new();
    for b in engine.sql(&count_sql).await?.collect().await? {
        let (s, l, n, bytes) = (
            b.column(0).as_string::<i32>(),
            arrow::compute::cast(b.column(1), &arrow::datatypes::DataType::Utf8)?,
            b.column(2).as_primitive::<Int64Type>(),
            b.column(3).as_primitive::<Int64Type>(),
        );
        let l = l.as_string::<i32>();
        for i in 0..b.num_rows() {
            let label = (!l.is_null(i)).then(|| l.value(i).to_string());
            per_split.entry(s.value(i).to_string()).or_default().insert(
                label,
                LabelCut {
                    rows: n.value(i) as u64,
                    bytes: bytes.value(i) as u64,
                    cut: None,
                },
            );
        }
    }
    let skipped: u64 = per_split
        .values_mut()
        .filter_map(|labels| labels.remove(&None))
        .map(|c| c.rows)
        .sum();
    let targets: BTreeMap<String, u64> = per_split
        .iter()
        .filter_map(|(s, labels)| Some((s.clone(), labels.values().map(|c| c.rows).min()?)))
        .collect();

    // 2. The key cut-off of each label: its target-th smallest key.
    if !targets.is_empty() {
        let target_rows: Vec<String> = targets
            .iter()
            .map(|(s, k)| format!("({}, {k})", quote_literal(s)))
            .collect();
        let cut_sql = format!(
            "{rows}, keyed AS (SELECT _split, {label_sql} AS label, {key} AS k FROM rows WHERE {in_splits}), \
             ranked AS (SELECT _split, label, k, row_number() OVER (PARTITION BY _split, label ORDER BY k) AS n FROM keyed) \
             SELECT r._split, r.label, max(r.k) AS cut FROM ranked r JOIN (VALUES {}) AS target(split, rows) \
             ON r._split = target.split WHERE r.label IS NOT NULL AND r.n <= target.rows GROUP BY 1, 2 ORDER BY 1, 2",
            target_rows.join(", ")
        );
        if args.show_sql {
            println!("{cut_sql};");
        }
        for b in engine.sql(&cut_sql).await?.collect().await? {
            let (s, l, c) = (
                b.column(0).as_string::<i32>(),
                b.column(1).as_string::<i32>(),
                b.column(2).as_primitive::<Float64Type>(),
            );
            for i in 0..b.num_rows() {
                if let Some(cut) = per_split
                    .get_mut(s.value(i))
                    .and_then(|m| m.get_mut(&Some(l.value(i).to_string())))
                {
                    cut.cut = Some(c.value(i));
                }
            }
        }
    }

    // 3. Each split's kept rows, shuffled, with the text and label written under their keys.
    let identity = text == crate::cli::flags::field_path(&text_key)
        && label == crate::cli::flags::field_path(&label_key);
    let row_sql = if identity {
        "_json".to_string()
    } else {
        let program = format!(
            ". + {{{}: first({text}), {}: first({label})}}",
            serde_json::Value::String(text_key.clone()),
            serde_json::Value::String(label_key.clone())
        );
        format!("jq(_json, {})", quote_literal(&program))
    };
    let mut written = Written::default();
    let mut summary = Vec::new();
    for (split, labels) in &per_split {
        let cases: Vec<String> = labels
            .iter()
            .filter_map(|(l, c)| {
                Some(format!(
                    "WHEN {} THEN {:?}",
                    quote_literal(l.as_ref()?),
                    c.cut?
                ))
            })
            .collect();
        if cases.is_empty() {
            continue;
        }
        let write_sql = format!(
            "{rows} SELECT {order} AS k, {row_sql} AS _json FROM rows WHERE _split = {} \
             AND {key} <= CASE {label_sql} {} ELSE -1.0 END",
            quote_literal(split),
            cases.join(" ")
        );
        if args.show_sql {
            println!("{write_sql};\n-- written in order of k (an external shuffle)");
        }
        let target = targets[split];
        let kept_bytes: u64 = labels
            .values()
            .map(|c| (c.bytes as f64 * target as f64 / c.rows.max(1) as f64) as u64)
            .sum();
        let dir = args.output.join(split);
        let plan = (0u64..).map(|k| (dir.join(format!("shard_{k:05}.jsonl.zst")), SHARD_ROWS));
        let open = |_| {
            Ok(ShardedWriter::new(
                plan,
                OutputFormat::Jsonl(Codec::Zstd),
                shuffle::schema(),
            ))
        };
        let w = shuffle::shuffle_into(&engine, &write_sql, kept_bytes, &args.output, open).await?;
        let expected = targets[split] * labels.len() as u64;
        if w.rows() != expected {
            return Err(PickError::Failed(format!(
                "{split}: wrote {} rows where {expected} were chosen (two rows with the same key?)",
                w.rows()
            )));
        }
        for (l, c) in labels {
            summary.push(format!(
                "  {split:<5} {:<20} {:>10} -> {}",
                l.as_deref().unwrap_or(""),
                c.rows,
                targets[split]
            ));
        }
        written.files.extend(w.files);
    }
    if !quiet {
        eprintln!("label rows per split (before -> after):");
        for line in &summary {
            eprintln!("{line}");
        }
        eprintln!(
            "balanced to {} rows in {} files under {} ({}) in {:.2}s",
            written.rows(),
            written.files.len(),
            args.output.display(),
            human_bytes(written.bytes() as f64),
            started.elapsed().as_secs_f64()
        );
        let bad = inputs.bad_rows() + skipped;
        if bad > 0 {
            eprintln!("skipped {bad} bad row{}", if bad == 1 { "" } else { "s" });
        }
    }
    Ok(())
}

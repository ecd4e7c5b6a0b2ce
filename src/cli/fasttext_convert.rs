//! `pick convert-to-fasttext`: a dataset's `train/`, `valid/` and `test/` as fastText training
//! files, `__label__<label> <text>` per row, and `report.yaml` (bonepick §4.1, §2.4). The text
//! (`normalize(...)`, `fasttext_text(...)`) is made in SQL on every core, shard by shard in file
//! order. Fixed from bonepick: one row is one line whatever the normalizer (B8); with `--auto`,
//! values below the training minimum go to the first bin, not the last (B9); the row order is
//! the files' sorted order, not completion order (B18).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use clap::Args;
use futures::TryStreamExt;
use pick_udfs::labels::normalize_label;
use pick_udfs::text::Normalizer;

use crate::cli::ReadArgs;
use crate::cli::flags::{TextLabelArgs, usage};
use crate::cli::normalize::{quote_literal, required_jq, required_label};
use crate::dataset::sink::PendingFile;
use crate::dataset::{Dataset, Shard};
use crate::engine::Engine;
use crate::error::{PickError, Result};
use crate::yaml::Yaml;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The text and label (`-tt`/`-ll`; with --multi-label the label is an object of criteria).
    #[command(flatten)]
    pub fields: TextLabelArgs,

    /// Dataset with train/ and test/ (and optionally valid/).
    #[arg(short = 'i', long = "input-dir", value_name = "DIR")]
    pub input: String,

    /// Directory to write train.txt, valid.txt, test.txt and report.yaml into.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output: PathBuf,

    /// Threads (0 = all cores).
    #[arg(short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Text normalizer (see normalize-dataset).
    #[arg(
        short = 'n',
        long = "normalization",
        default_value = "whitespace",
        value_name = "NAME"
    )]
    pub normalizer: Normalizer,

    /// Cut each text to this many characters before normalizing.
    #[arg(long = "max-length", value_name = "N")]
    pub max_length: Option<u64>,

    /// Bin numeric labels into N equal-count bins (bin_0 .. bin_{N-1}) from train's values.
    #[arg(long = "auto", value_name = "N")]
    pub auto: Option<usize>,

    /// The label expression gives {criterion: truthy}; every true criterion is a label.
    #[arg(long = "multi-label", conflicts_with = "auto")]
    pub multi_label: bool,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// Quantile bin edges over train's sorted values: `[s0] + s[floor(i·n/N)] + [s_{n−1}]`.
pub fn bin_edges(sorted: &[f64], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    let mut e = vec![sorted[0]];
    e.extend((1..bins).map(|i| sorted[i * n / bins]));
    e.push(sorted[n - 1]);
    e
}

/// bonepick's bin of a value, except that values below the first edge go to bin 0 (B9).
pub fn bin_of(edges: &[f64], v: f64) -> usize {
    let bins = edges.len() - 1;
    if v < edges[0] {
        return 0;
    }
    for i in 0..bins {
        let hit = if edges[i] == edges[i + 1] {
            v == edges[i]
        } else {
            edges[i] <= v && v < edges[i + 1]
        };
        if hit {
            return i;
        }
    }
    bins - 1
}

/// Python truthiness of a JSON value.
fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
    }
}

/// The criteria of a multi-label object that hold, sorted by their original names.
fn multi_labels(json: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| PickError::Failed(e.to_string()))?;
    let serde_json::Value::Object(map) = v else {
        return Err(PickError::Failed(format!(
            "--multi-label: the label expression gave `{json}`, not an object"
        )));
    };
    let mut keys: Vec<&String> = map
        .iter()
        .filter(|(_, v)| truthy(v))
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|k| normalize_label(k)).collect())
}

pub async fn run(args: ConvertArgs, quiet: bool) -> Result<()> {
    let (text, label) = args.fields.expressions(quiet)?;
    let dataset = Arc::new(Dataset::open(&args.input, args.read.options())?);
    let split = |name: &str| -> Vec<Arc<Shard>> {
        dataset
            .shards
            .iter()
            .filter(|s| s.split.as_deref() == Some(name))
            .cloned()
            .collect()
    };
    for required in ["train", "test"] {
        if split(required).is_empty() {
            return Err(usage(format!(
                "{}: no {required}/ split (convert-to-fasttext reads train/, valid/, test/)",
                args.input
            )));
        }
    }
    let text_value = required_label(&dataset, &text, "text");
    let cut = match args.max_length {
        Some(n) => format!("substr({text_value}, 1, {n})"),
        None => text_value,
    };
    let text_sql = format!(
        "fasttext_text(normalize({cut}, {}))",
        quote_literal(args.normalizer.name())
    );
    let label_sql = if args.multi_label {
        required_jq(&dataset, &label, "label")
    } else {
        required_label(&dataset, &label, "label")
    };
    let sql = format!("SELECT {label_sql} AS label, {text_sql} AS text FROM t ORDER BY _row");
    if args.show_sql {
        println!("{sql};");
    }

    // --auto: the bin edges from train's labels.
    let edges = match args.auto {
        None => None,
        Some(n) => {
            let mut values = Vec::new();
            for shard in split("train") {
                let engine = Engine::new(dataset.options.clone(), args.num_proc);
                engine.register_dataset("t", dataset.subset(vec![shard]))?;
                let q = format!("SELECT {label_sql} FROM t");
                for b in engine.sql(&q).await?.collect().await? {
                    let l = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                    for v in l.as_string::<i32>().iter().flatten() {
                        values.push(v.trim().parse::<f64>().map_err(|_| {
                            PickError::Failed(format!("--auto: the label `{v}` is not a number"))
                        })?);
                    }
                }
            }
            values.sort_by(f64::total_cmp);
            let mut distinct = values.clone();
            distinct.dedup();
            if n < 2 || n > distinct.len() {
                return Err(usage(format!(
                    "--auto {n}: needs 2 to {} bins (the distinct train labels)",
                    distinct.len()
                )));
            }
            Some(bin_edges(&values, n))
        }
    };

    let mut counts = Vec::new();
    for name in ["train", "valid", "test"] {
        let shards = split(name);
        if shards.is_empty() {
            continue;
        }
        let dest = args.output.join(format!("{name}.txt"));
        let (pending, file) = PendingFile::create(&dest)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut rows = 0u64;
        let mut line = String::new();
        for shard in shards {
            let engine = Engine::new(dataset.options.clone(), args.num_proc);
            engine.register_dataset("t", dataset.subset(vec![shard]))?;
            let mut stream = engine.sql(&sql).await?.execute_stream().await?;
            while let Some(b) = stream.try_next().await? {
                let labels = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                let texts = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
                let (labels, texts) = (labels.as_string::<i32>(), texts.as_string::<i32>());
                for i in 0..b.num_rows() {
                    if labels.is_null(i) || texts.is_null(i) {
                        continue;
                    }
                    let raw = labels.value(i);
                    let names = if args.multi_label {
                        multi_labels(raw)?
                    } else if let Some(edges) = &edges {
                        let v = raw.trim().parse::<f64>().map_err(|_| {
                            PickError::Failed(format!("--auto: the label `{raw}` is not a number"))
                        })?;
                        vec![format!("bin_{}", bin_of(edges, v))]
                    } else {
                        vec![normalize_label(raw)]
                    };
                    if names.is_empty() {
                        continue;
                    }
                    line.clear();
                    for n in &names {
                        line.push_str("__label__");
                        line.push_str(n);
                        line.push(' ');
                    }
                    line.push_str(texts.value(i));
                    line.push('\n');
                    out.write_all(line.as_bytes())
                        .map_err(|e| PickError::io(&dest, e))?;
                    rows += 1;
                }
            }
        }
        out.flush().map_err(|e| PickError::io(&dest, e))?;
        drop(out);
        pending.commit()?;
        counts.push((name, rows));
        if !quiet {
            eprintln!("{name}: {rows} rows -> {}", dest.display());
        }
    }

    let mut report = vec![];
    if let (Some(n), Some(e)) = (args.auto, &edges) {
        report.push((
            "auto_bins",
            Yaml::map([
                (
                    "bin_edges",
                    Yaml::List(e.iter().map(|v| Yaml::Float(*v)).collect()),
                ),
                (
                    "bin_labels",
                    Yaml::List((0..n).map(|i| Yaml::str(format!("bin_{i}"))).collect()),
                ),
                ("num_bins", Yaml::Int(n as i64)),
            ]),
        ));
    }
    report.extend([
        ("input_dir", Yaml::str(&args.input)),
        ("label_expression", Yaml::str(&label)),
        (
            "max_length",
            args.max_length.map_or(Yaml::Null, |n| Yaml::Int(n as i64)),
        ),
        ("multi_label", Yaml::Bool(args.multi_label)),
        ("normalization", Yaml::str(args.normalizer.name())),
        (
            "num_rows",
            Yaml::Map(
                ["test", "train", "valid"]
                    .iter()
                    .filter_map(|s| {
                        counts
                            .iter()
                            .find(|c| c.0 == *s)
                            .map(|c| (s.to_string(), Yaml::Int(c.1 as i64)))
                    })
                    .collect(),
            ),
        ),
        ("output_dir", Yaml::str(args.output.display().to_string())),
        ("text_expression", Yaml::str(&text)),
    ]);
    let path = args.output.join("report.yaml");
    let (pending, mut file) = PendingFile::create(&path)?;
    file.write_all(Yaml::map(report).to_text().as_bytes())
        .map_err(|e| PickError::io(&path, e))?;
    pending.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_bonepick_but_low_values_go_first() {
        let s: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = bin_edges(&s, 3);
        assert_eq!(e, vec![1.0, 4.0, 7.0, 10.0]);
        assert_eq!(bin_of(&e, 1.0), 0);
        assert_eq!(bin_of(&e, 4.0), 1);
        assert_eq!(bin_of(&e, 10.0), 2);
        assert_eq!(bin_of(&e, 99.0), 2);
        assert_eq!(bin_of(&e, -5.0), 0, "bonepick B9 put this in the last bin");
        // A single-value bin matches only its value.
        let e = vec![1.0, 1.0, 3.0];
        assert_eq!(bin_of(&e, 1.0), 0);
        assert_eq!(bin_of(&e, 2.0), 1);
    }

    #[test]
    fn multi_labels_are_truthy_criteria_in_key_order() {
        let got = multi_labels(r#"{"a": 1, "C D": true, "b": 0, "e": "", "f": [1]}"#).unwrap();
        assert_eq!(got, ["c_d", "a", "f"]);
    }
}

//! `pick infer-fasttext` and `pick infer-model2vec`: every row of a dataset gains
//! `.metadata.<classifier>` = `{label: probability}` (or a regressor's value) from an official
//! fastText model (bonepick §4.4) or a Model2Vec pipeline, shard for shard. The model is read
//! once and shared by every thread; shards are scored in parallel across and within files,
//! streamed (never a whole file in memory, no subprocess). The work is one SQL statement
//! (`--show-sql`). Fixed from bonepick: texts with line breaks are scored as one document
//! whatever the normalizer (B8). bonepick has no infer-model2vec; it takes infer-fasttext's
//! flags and writes the same layout. Several models score in one pass: each row is read, and
//! its text normalized, once, and each model's predictions go under its own key.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::DataType;
use pick_fasttext::model_file;
use pick_text::Normalizer;
use serde::Serialize;

use crate::dataset::{Codec, Dataset, ReadOptions, ShardFormat};
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::{Mirror, Mirrored, ShardQuery, mirror};
use crate::pipelines::train_model2vec::pipeline_dir;
use crate::pipelines::{load_fasttext, load_model2vec, usage};
use crate::plan::rows::{fields, required_label, required_value};
use crate::plan::{Params, field_name, ident};
use crate::session::Exec;
use crate::write::{OutputDir, OutputFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InferFormat {
    /// The input's own format and file names, rows as JSON with the new metadata.
    Same,
    Parquet,
    Jsonl,
    JsonlZst,
}

/// The kind of classifier that scores the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classifier {
    /// A fastText `.bin`/`.ftz` (or a directory holding `model.bin`).
    Fasttext,
    /// A Model2Vec pipeline folder (or a train-model2vec output holding `model/`).
    Model2vec,
}

#[derive(Debug, Clone)]
pub struct InferParams {
    pub input: String,
    pub output: PathBuf,
    pub kind: Classifier,
    /// Each model and the key under `.metadata` its predictions go to.
    pub models: Vec<Model>,
    /// jq expression for the text.
    pub text: String,
    pub normalizer: Option<Normalizer>,
    pub max_length: Option<u64>,
    pub format: InferFormat,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
    /// Where the rows are read, scored and written (a cluster: one job).
    pub exec: Exec,
}

/// One classifier of an inference pass.
#[derive(Debug, Clone)]
pub struct Model {
    pub path: PathBuf,
    pub classifier: String,
}

#[derive(Debug, Serialize)]
pub struct InferReport {
    pub written: Mirrored,
    pub models: Vec<ModelReport>,
}

#[derive(Debug, Serialize)]
pub struct ModelReport {
    pub classifier: String,
    pub model: PathBuf,
    pub labels: Vec<String>,
}

/// What `require_value` says of a row whose `metadata` holds another kind of value.
const NOT_AN_OBJECT: &str = "`metadata` object to add the predictions to (the row's `metadata` is \
                             another kind of value, which pick does not overwrite)";

/// The `metadata` column with each `(classifier, prediction)` added, for columnar output.
fn metadata_struct(dataset: &Dataset, predictions: &[(&str, String)]) -> String {
    let schema = &dataset.layout.schema;
    let mut fields = Vec::new();
    if let Ok(field) = schema.field_with_name("metadata")
        && let DataType::Struct(children) = field.data_type()
    {
        let replaced = |name: &str| predictions.iter().any(|(c, _)| *c == name);
        for child in children.iter().filter(|c| !replaced(c.name())) {
            fields.push(format!(
                "{}, \"metadata\"[{}]",
                field_name(child.name()),
                field_name(child.name())
            ));
        }
    }
    for (classifier, prediction) in predictions {
        fields.push(format!("{}, {prediction}", field_name(classifier)));
    }
    format!("named_struct({}) AS \"metadata\"", fields.join(", "))
}

/// The model's file or folder, its labels, and the SQL function that scores with it; the
/// model is read (or fails) here, before anything is written.
fn classifier(p: &InferParams, m: &Model) -> Result<(PathBuf, Vec<String>, &'static str)> {
    let local = crate::store::local::materialize(&m.path)?;
    Ok(match p.kind {
        Classifier::Fasttext => {
            let model = load_fasttext(&local)?;
            (
                model_file(&local),
                model.labels().to_vec(),
                "fasttext_predict",
            )
        }
        Classifier::Model2vec => {
            let dir = pipeline_dir(&local);
            let model = load_model2vec(&dir)?;
            let Some(head) = &model.head else {
                return Err(usage(format!(
                    "{}: a static model without a head (no head.safetensors); infer-model2vec \
                     needs a classifier or regressor pipeline (make one with train-model2vec)",
                    dir.display()
                )));
            };
            let labels = head
                .classes
                .clone()
                .unwrap_or_else(|| vec!["(value)".to_string()]);
            (dir, labels, "model2vec_predict")
        }
    })
}

/// The model as the scoring query names it. Locally, the checked local copy. On a cluster,
/// an object store's model is named by its URL (each executor fetches it once), the file or
/// folder within it as locally; a local path must be one the executors see too.
fn model_location(p: &InferParams, m: &Model, local: &std::path::Path) -> String {
    let remote = m.path.to_string_lossy();
    if !p.exec.is_local() && crate::store::is_url(&remote) {
        let root = crate::store::local::materialize(&m.path).ok();
        if let Some(rel) = root.as_deref().and_then(|r| local.strip_prefix(r).ok()) {
            let rel = rel.to_string_lossy();
            return if rel.is_empty() {
                remote.into_owned()
            } else {
                format!("{}/{rel}", remote.trim_end_matches('/'))
            };
        }
    }
    if p.exec.is_local() {
        return local.to_string_lossy().into_owned();
    }
    // Executors run elsewhere: a local path is named as this process resolves it.
    std::path::absolute(local)
        .unwrap_or_else(|_| local.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

pub async fn run(p: &InferParams, observer: &dyn Observer) -> Result<InferReport> {
    pick_jq::Program::compile(&p.text)
        .map_err(|e| PickError::Usage(format!("--text-expression: {e}")))?;
    if p.models.is_empty() {
        return Err(PickError::Usage("no model to score with".into()));
    }
    for (i, m) in p.models.iter().enumerate() {
        if p.models[..i].iter().any(|o| o.classifier == m.classifier) {
            return Err(PickError::Usage(format!(
                "-c {}: two models would write their predictions under the same key",
                m.classifier
            )));
        }
    }
    let loaded = p
        .models
        .iter()
        .map(|m| classifier(p, m))
        .collect::<Result<Vec<_>>>()?;
    let dataset = Arc::new(Dataset::open(&p.input, p.read.clone())?);

    let mut params = Params::default();
    let mut text_sql = required_label(&mut params, &dataset, &p.text, "text");
    if let Some(n) = p.max_length {
        text_sql = format!("substr({text_sql}, 1, {})", params.int(n as i64));
    }
    if let Some(norm) = p.normalizer {
        text_sql = format!("normalize({text_sql}, {})", params.str(norm.name()));
    }
    // The same text expression in every prediction: DataFusion computes it once per row.
    let predictions: Vec<(&str, String)> = p
        .models
        .iter()
        .zip(&loaded)
        .map(|(m, (path, _, function))| {
            let location = params.str(model_location(p, m, path));
            (
                m.classifier.as_str(),
                format!("{function}({location}, {text_sql})"),
            )
        })
        .collect();
    // Rows of JSON shards get the prediction spliced into their own text; columnar shards (and
    // Parquet output) get a rebuilt `metadata` column.
    let all_json = dataset
        .shards
        .iter()
        .all(|s| matches!(s.format, ShardFormat::JsonLines(_)));
    let columnar = match p.format {
        InferFormat::Parquet => Some(Some(OutputFormat::Parquet)),
        InferFormat::Same if !all_json => Some(None),
        _ => None,
    };
    let (query, format) = match columnar {
        Some(format) => {
            if let Ok(field) = dataset.layout.schema.field_with_name("metadata")
                && !matches!(field.data_type(), DataType::Struct(_) | DataType::Null)
            {
                return Err(PickError::Usage(format!(
                    "{}: the `metadata` column is {}, not an object; pick adds the predictions \
                     under `metadata` and will not replace it (rename the column first)",
                    dataset.root.display(),
                    field.data_type()
                )));
            }
            let names = fields(&dataset);
            let mut cols: Vec<String> = names
                .iter()
                .filter(|n| **n != "metadata")
                .map(|n| ident(n))
                .collect();
            let at = names
                .iter()
                .position(|n| *n == "metadata")
                .unwrap_or(cols.len());
            cols.insert(at, metadata_struct(&dataset, &predictions));
            (ShardQuery::new(cols.join(", "), params), format)
        }
        None => {
            // json_set gives NULL where the row's `metadata` is a value of its own (a string, a
            // number, a list): that row is an error naming it, never a row without its metadata.
            let mut set = "_json".to_string();
            for (classifier, prediction) in &predictions {
                let key = params.str(*classifier);
                set = format!("json_set({set}, {prediction}, 'metadata', {key})");
            }
            let row = required_value(&mut params, &dataset, &set, NOT_AN_OBJECT);
            let select = format!("{row} AS _json");
            let format = match p.format {
                InferFormat::Jsonl => Some(OutputFormat::Jsonl(Codec::Plain)),
                InferFormat::JsonlZst => Some(OutputFormat::Jsonl(Codec::Zstd)),
                _ => None,
            };
            (ShardQuery::new(select, params), format)
        }
    };
    let out = OutputDir::prepare_for(
        &p.output,
        std::slice::from_ref(&dataset.root),
        p.overwrite,
        !p.exec.is_local(),
    )?;
    let written = mirror(
        Mirror {
            dataset,
            query,
            output: out.path(),
            format,
            partitions: p.partitions,
            verb: "infer",
            exec: p.exec.clone(),
        },
        observer,
    )
    .await?;
    out.commit()?;
    Ok(InferReport {
        written,
        models: p
            .models
            .iter()
            .zip(loaded)
            .map(|(m, (model, labels, _))| ModelReport {
                classifier: m.classifier.clone(),
                model,
                labels,
            })
            .collect(),
    })
}

//! What `annotate-dataset` and `batch-annotate-submit` share: rows read shard after shard and
//! turned into work (kept as they are, or a chat request with its cache key), answers and
//! failures written into the rows' own JSON text, and the rows written out in input order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use pick_llm::cache::{Cache, Cached};
use pick_llm::prompt::{Kind, Library, Prompt, TextInput};
use pick_llm::request::{self, Request, Settings};
use serde_json::Value;

use crate::dataset::{Codec, Dataset, ReadOptions, Shard, ShardFormat};
use crate::error::{PickError, Result};
use crate::ops::per_shard::{ShardQuery, output_name};
use crate::plan::{Params, Query};
use crate::write::{FileSink, OutputFormat};

/// Which rows are annotated, and how their requests are made.
#[derive(Debug, Clone)]
pub struct RowsSpec {
    pub inputs: Vec<String>,
    /// jq: the text to annotate (a string), or a conversation (a list of `{role, content}`).
    pub input_expression: String,
    pub task: String,
    pub system: Option<String>,
    pub prompt_dirs: Vec<PathBuf>,
    pub settings: Settings,
    pub max_text_length: usize,
    pub limit_rows: Option<u64>,
    /// Annotate rows that already carry the prompt's key too.
    pub reprocess_all_rows: bool,
    pub read: ReadOptions,
}

impl RowsSpec {
    /// The prompt library and the task prompt (both prompts checked) and the input datasets,
    /// or a usage error before anything is sent or written.
    pub fn open(&self) -> Result<(Library, Prompt, Vec<Arc<Dataset>>)> {
        crate::plan::check_jq("--input-field-expression", &self.input_expression)?;
        let library = Library::load(&self.prompt_dirs).map_err(llm)?;
        let task = library.get(Kind::Task, &self.task).map_err(llm)?.clone();
        if let Some(s) = &self.system {
            library.get(Kind::System, s).map_err(llm)?;
        }
        let datasets = self
            .inputs
            .iter()
            .map(|d| Dataset::open(d, self.read.clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        Ok((library, task, datasets))
    }

    /// What turns rows into work, reading answers from `cache` when there is one.
    pub fn prepare(&self, library: Library, task: &Prompt, cache: Option<Arc<Cache>>) -> Prepare {
        Prepare {
            library,
            task: self.task.clone(),
            system: self.system.clone(),
            settings: self.settings.clone(),
            response_format: task
                .schema
                .as_ref()
                .map(|s| request::response_format(&task.name, s)),
            max_text_length: self.max_text_length,
            reprocess: self.reprocess_all_rows,
            limit: self.limit_rows,
            taken: 0,
            cache,
        }
    }

    /// The statement each shard is read with: `_file, _row, _json` and the input as JSON.
    pub fn query(&self) -> Query {
        let mut params = Params::default();
        let expr = params.str(&self.input_expression);
        ShardQuery::new(
            format!("_file, _row, _json, jq(_json, {expr}) AS input"),
            params,
        )
        .query()
    }
}

/// Refuses inputs two of which would be written to the same output path.
pub fn check_destinations(datasets: &[Arc<Dataset>]) -> Result<()> {
    let mut names: Vec<(String, String)> = datasets
        .iter()
        .flat_map(|d| {
            d.shards
                .iter()
                .map(|s| (destination(s).0, s.path.display().to_string()))
        })
        .collect();
    names.sort();
    match names.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(w) => Err(PickError::Usage(format!(
            "{} and {} would both be written to {}",
            w[0].1, w[1].1, w[0].0
        ))),
        None => Ok(()),
    }
}

/// The key a failed row's error is written under.
pub fn error_key(task: &str) -> String {
    format!("{task}_error")
}

/// One row (or a shard boundary) on its way from the reader to the writer.
pub enum Work {
    Start(PathBuf, OutputFormat),
    End,
    /// Written as read (already annotated, or past the limit).
    Keep(String, Kept),
    Cached(String, Cached),
    Ask(String, Request),
}

#[derive(Clone, Copy)]
pub enum Kept {
    Annotated,
    OverLimit,
}

pub fn llm(e: pick_llm::LlmError) -> PickError {
    match e {
        pick_llm::LlmError::UnknownPrompt { .. }
        | pick_llm::LlmError::Prompt { .. }
        | pick_llm::LlmError::Usage(_) => PickError::Usage(e.to_string()),
        other => PickError::Failed(other.to_string()),
    }
}

/// What the reader needs to turn rows into requests.
pub struct Prepare {
    pub library: Library,
    pub task: String,
    pub system: Option<String>,
    pub settings: Settings,
    pub response_format: Option<Value>,
    pub max_text_length: usize,
    pub reprocess: bool,
    pub limit: Option<u64>,
    pub taken: u64,
    pub cache: Option<Arc<Cache>>,
}

impl Prepare {
    /// The work for one batch of `_file`, `_row`, `_json`, `input` (the jq value as JSON).
    pub fn batch(&mut self, batch: &RecordBatch, root: &Path) -> Result<Vec<Work>> {
        let files = batch.column(0).as_string::<i32>();
        let rows = batch
            .column(1)
            .as_primitive::<arrow::datatypes::UInt64Type>();
        let json = batch.column(2).as_string::<i32>();
        let inputs = batch.column(3).as_string::<i32>();
        let system = match &self.system {
            Some(s) => Some(self.library.render_system(s).map_err(llm)?),
            None => None,
        };
        let mut work = Vec::with_capacity(batch.num_rows());
        let mut asks: Vec<usize> = Vec::new();
        for i in 0..batch.num_rows() {
            let row = json.value(i);
            let at = || format!("{}/{}", root.display(), files.value(i));
            if !self.reprocess {
                let has = pick_compat::json_edit::has_key(row, &self.task).map_err(|e| {
                    PickError::BadRow {
                        file: at(),
                        line: rows.value(i) + 1,
                        message: format!("not a JSON object: {e}"),
                    }
                })?;
                if has {
                    work.push(Work::Keep(row.to_string(), Kept::Annotated));
                    continue;
                }
            }
            if self.limit.is_some_and(|l| self.taken >= l) {
                work.push(Work::Keep(row.to_string(), Kept::OverLimit));
                continue;
            }
            self.taken += 1;
            let bad = |message: String| PickError::BadRow {
                file: at(),
                line: rows.value(i) + 1,
                message,
            };
            let input = if inputs.is_null(i) {
                return Err(bad("the input expression gives nothing for this row".into()));
            } else {
                text_input(inputs.value(i), self.max_text_length).map_err(bad)?
            };
            let user = self.library.render_task(&self.task, &input).map_err(llm)?;
            let req = request::build(
                &self.settings,
                system.as_deref(),
                &user,
                self.response_format.as_ref(),
            );
            asks.push(work.len());
            work.push(Work::Ask(row.to_string(), req));
        }
        if let Some(cache) = &self.cache
            && !asks.is_empty()
        {
            let keys: Vec<_> = asks
                .iter()
                .map(|&w| match &work[w] {
                    Work::Ask(_, r) => r.key,
                    _ => unreachable!("asks index Ask work"),
                })
                .collect();
            let found = tokio::task::block_in_place(|| cache.get_many(&keys)).map_err(llm)?;
            for (&w, hit) in asks.iter().zip(found) {
                if let Some(hit) = hit {
                    let Work::Ask(row, _) = std::mem::replace(&mut work[w], Work::End) else {
                        unreachable!("asks index Ask work")
                    };
                    work[w] = Work::Cached(row, hit);
                }
            }
        }
        Ok(work)
    }
}

/// The jq value of a row as the prompt's input: a text, or a list of `{role, content}` turns.
pub fn text_input(json: &str, max: usize) -> std::result::Result<TextInput, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    match value {
        Value::String(s) => Ok(TextInput::new(&s, max)),
        Value::Array(turns) => {
            let turns = turns
                .iter()
                .map(|t| match (t["role"].as_str(), t["content"].as_str()) {
                    (Some(r), Some(c)) => Ok((r.to_string(), c.to_string())),
                    _ => Err(
                        "the input is a list, but not of {\"role\", \"content\"} turns".to_string(),
                    ),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(TextInput::conversation(&turns, max))
        }
        Value::Null => Err("the input expression gives null for this row".into()),
        other => Err(format!(
            "the input expression gives {}, not a text or a list of turns",
            pick_llm::answer::preview(&other.to_string(), 60)
        )),
    }
}

/// Where a shard is written and as what: JSON lines keep their name and compression;
/// columnar shards become `.jsonl.zst` (rows gain a nested answer).
pub fn destination(shard: &Shard) -> (String, OutputFormat) {
    match shard.format {
        ShardFormat::JsonLines(codec) => (shard.rel.clone(), OutputFormat::Jsonl(codec)),
        ShardFormat::Parquet | ShardFormat::Arrow => (
            output_name(&shard.rel, ".jsonl.zst"),
            OutputFormat::Jsonl(Codec::Zstd),
        ),
    }
}

/// `row` with `value` under `key`, and without a stale `<prompt>_error`.
pub fn edit(row: &str, key: &str, value: &str, error_key: &str) -> Result<String> {
    let remove: &[&str] = if error_key.is_empty() {
        &[]
    } else {
        &[error_key]
    };
    pick_compat::json_edit::replace(row, key, value, remove)
        .map_err(|e| PickError::Failed(format!("a row is not a JSON object: {e}")))
}

pub fn row_schema() -> Arc<ArrowSchema> {
    Arc::new(ArrowSchema::new(vec![Field::new(
        "_json",
        DataType::Utf8,
        false,
    )]))
}

pub fn flush(sink: &mut FileSink, rows: &mut Vec<String>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let array = StringArray::from_iter_values(rows.drain(..));
    let batch = RecordBatch::try_new(row_schema(), vec![Arc::new(array)])?;
    sink.write(&batch)
}

/// The reader's batch with its text columns as `Utf8` (views and large strings cast).
pub fn utf8_columns(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut columns = Vec::with_capacity(batch.num_columns());
    let mut fields = Vec::with_capacity(batch.num_columns());
    for (i, c) in batch.columns().iter().enumerate() {
        let f = batch.schema().field(i).clone();
        if matches!(c.data_type(), DataType::Utf8View | DataType::LargeUtf8) {
            columns.push(arrow::compute::cast(c, &DataType::Utf8)?);
            fields.push(f.with_data_type(DataType::Utf8));
        } else if f.name() == "_row" && c.data_type() != &DataType::UInt64 {
            columns.push(arrow::compute::cast(c, &DataType::UInt64)?);
            fields.push(f.with_data_type(DataType::UInt64));
        } else {
            columns.push(Arc::clone(c));
            fields.push(f);
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(ArrowSchema::new(fields)),
        columns,
    )?)
}

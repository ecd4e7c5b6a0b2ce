//! `pick annotate-dataset`: every row gains `<prompt>: <answer>` from an LLM behind any
//! OpenAI-compatible chat-completions endpoint (bonepick §8.2), as a stream rather than waves:
//! rows are read shard after shard, their prompts rendered and looked up in the answer cache,
//! and the rest sent with at most `--max-concurrent-requests` in flight; a window of rows
//! (completed or not) lets fast answers overtake a slow one, and rows are written in input
//! order, each shard to the same relative path under the output. Nothing is dropped (B12): a
//! row whose request failed is written with `<prompt>_error` and counted, and a rerun asks
//! again; rows past `--limit-rows` are written as they are, so every file is whole.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use futures::{StreamExt, TryStreamExt};
use pick_llm::answer::Schema;
use pick_llm::cache::{Cache, Cached};
use pick_llm::client::{Answer, Client, Endpoint, Failure, Limits};
use pick_llm::prompt::Library;
use serde::Serialize;

use crate::dataset::Dataset;
use crate::error::{PickError, Result};
use crate::observe::Observer;
pub use crate::ops::llm_rows::error_key;
use crate::ops::llm_rows::{
    Kept, RowsSpec, Work, check_destinations, destination, edit, flush, llm, row_schema,
    text_input, utf8_columns,
};
use crate::ops::per_shard::shard_engine;
use crate::write::{FileSink, OutputDir, OutputFormat};

#[derive(Debug, Clone)]
pub struct AnnotateParams {
    pub rows: RowsSpec,
    pub output: PathBuf,
    pub endpoint: Endpoint,
    pub limits: Limits,
    /// The cache directory; `None` disables the cache.
    pub cache: Option<PathBuf>,
    /// Dollars per million prompt and completion tokens, for the cost line.
    pub prices: Option<(f64, f64)>,
    pub overwrite: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct AnnotateReport {
    pub output: PathBuf,
    pub task: String,
    pub files: usize,
    pub rows: u64,
    /// Rows that already had the prompt's key, copied through.
    pub already_annotated: u64,
    /// Rows past `--limit-rows`, copied through without an answer.
    pub over_limit: u64,
    /// Rows answered by the endpoint in this run.
    pub answered: u64,
    /// Rows answered from the cache.
    pub cached: u64,
    /// Rows written with `<prompt>_error`.
    pub failed: u64,
    pub requests: u64,
    pub retries: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    /// Dollars for the tokens bought in this run (with `--price-per-mtok`).
    pub cost: Option<f64>,
    pub cache: Option<PathBuf>,
    pub elapsed_seconds: f64,
}

/// What the writer receives, in input order.
enum Done {
    Start(PathBuf, OutputFormat),
    End,
    Keep(String, Kept),
    Cached(String, Cached),
    Answered(String, std::result::Result<Answer, Failure>),
}

/// The rendered messages for `input` (the input expression's value as JSON), without sending
/// anything (`--show-prompt`).
pub fn show_prompt(p: &AnnotateParams, input: &str) -> Result<Vec<(String, String)>> {
    let p = &p.rows;
    let library = Library::load(&p.prompt_dirs).map_err(llm)?;
    let mut out = Vec::new();
    if let Some(s) = &p.system {
        out.push(("system".into(), library.render_system(s).map_err(llm)?));
    }
    let input = text_input(input, p.max_text_length).map_err(PickError::Usage)?;
    out.push((
        "user".into(),
        library.render_task(&p.task, &input).map_err(llm)?,
    ));
    Ok(out)
}

/// The input (as JSON) of the first row a run would annotate.
pub async fn first_input(p: &AnnotateParams) -> Result<String> {
    let p = &p.rows;
    let (_, _, datasets) = p.open()?;
    let query = p.query();
    for dataset in &datasets {
        for shard in &dataset.shards {
            let engine = shard_engine(dataset, shard, 1)?;
            let mut stream = engine.query(&query).await?.execute_stream().await?;
            while let Some(batch) = stream.try_next().await? {
                let batch = utf8_columns(&batch)?;
                let json = batch.column(2).as_string::<i32>();
                let input = batch.column(3).as_string::<i32>();
                for i in 0..batch.num_rows() {
                    let has = !p.reprocess_all_rows
                        && pick_compat::json_edit::has_key(json.value(i), &p.task).unwrap_or(false);
                    if !has && !input.is_null(i) {
                        return Ok(input.value(i).to_string());
                    }
                }
            }
        }
    }
    Err(PickError::Usage(
        "no row to annotate: every row already has an answer (or no input)".into(),
    ))
}

pub async fn run(p: &AnnotateParams, observer: &dyn Observer) -> Result<AnnotateReport> {
    let started = Instant::now();
    let (library, task, datasets) = p.rows.open()?;
    let schema = match &task.schema {
        Some(s) => Some(Arc::new(Schema::compile(&task.name, s).map_err(llm)?)),
        None => None,
    };
    check_destinations(&datasets)?;
    let cache = match &p.cache {
        Some(dir) => Some(Arc::new(Cache::open(dir).map_err(llm)?)),
        None => None,
    };
    let client = Arc::new(Client::new(p.endpoint.clone(), p.limits.clone()).map_err(llm)?);
    let roots: Vec<PathBuf> = datasets.iter().map(|d| d.root.clone()).collect();
    let out = OutputDir::prepare(&p.output, &roots, p.overwrite)?;
    let out_path = out.path().to_path_buf();

    let mut prepare = p.rows.prepare(library, &task, cache.clone());

    // The reader: shard after shard, rows turned into work, in order.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Work>>(4096);
    let query = p.rows.query();
    let reader = {
        let datasets = datasets.clone();
        tokio::spawn(async move {
            let result: Result<()> = async {
                for dataset in &datasets {
                    for shard in &dataset.shards {
                        let (name, format) = destination(shard);
                        if tx
                            .send(Ok(Work::Start(out_path.join(name), format)))
                            .await
                            .is_err()
                        {
                            return Ok(());
                        }
                        let engine = shard_engine(dataset, shard, 1)?;
                        let mut stream = engine.query(&query).await?.execute_stream().await?;
                        while let Some(batch) = stream.try_next().await? {
                            let batch = utf8_columns(&batch)?;
                            for w in prepare.batch(&batch, &dataset.root)? {
                                if tx.send(Ok(w)).await.is_err() {
                                    return Ok(());
                                }
                            }
                        }
                        if tx.send(Ok(Work::End)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        })
    };

    let writer = match &cache {
        Some(c) => Some(c.writer().map_err(llm)?),
        None => None,
    };
    let answers = writer.as_ref().map(|w| w.sender());
    let window = (p.limits.max_concurrent * 2).max(1024);
    let mut ordered = tokio_stream(rx)
        .map(|work| {
            let client = Arc::clone(&client);
            let schema = schema.clone();
            let answers = answers.clone();
            async move {
                Ok::<_, PickError>(match work? {
                    Work::Start(path, f) => Done::Start(path, f),
                    Work::End => Done::End,
                    Work::Keep(row, k) => Done::Keep(row, k),
                    Work::Cached(row, c) => Done::Cached(row, c),
                    Work::Ask(row, req) => {
                        let task = tokio::spawn(async move {
                            let result = client.annotate(&req, schema.as_deref()).await?;
                            if let (Ok(answer), Some(tx)) = (&result, &answers) {
                                let _ = tx.send((
                                    req.key,
                                    Cached {
                                        answer: answer.value.to_string(),
                                        usage: answer.usage,
                                    },
                                ));
                            }
                            Ok::<_, pick_llm::LlmError>(result)
                        });
                        let result = task
                            .await
                            .map_err(|e| PickError::Failed(format!("a request task failed: {e}")))?
                            .map_err(llm)?;
                        Done::Answered(row, result)
                    }
                })
            }
        })
        .buffered(window);

    let mut total_rows = 0u64;
    for d in &datasets {
        total_rows += count_rows(d).await?;
    }
    let bar = observer.count(total_rows, "annotate");
    let mut report = AnnotateReport {
        output: p.output.clone(),
        task: p.rows.task.clone(),
        cache: cache.as_ref().map(|c| c.path().to_path_buf()),
        ..Default::default()
    };
    let task = &p.rows.task;
    let error_key = error_key(task);
    let mut sink: Option<FileSink> = None;
    let mut rows: Vec<String> = Vec::new();
    let mut last_message = Instant::now();
    let result: Result<()> = async {
        while let Some(done) = ordered.next().await {
            match done? {
                Done::Start(path, format) => {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| PickError::io(parent, e))?;
                    }
                    sink = Some(FileSink::create(&path, format, row_schema())?);
                }
                Done::End => {
                    let mut s = sink.take().expect("a shard was started");
                    bar.inc(rows.len() as u64);
                    flush(&mut s, &mut rows)?;
                    s.finish()?;
                    report.files += 1;
                }
                Done::Keep(row, kept) => {
                    match kept {
                        Kept::Annotated => report.already_annotated += 1,
                        Kept::OverLimit => report.over_limit += 1,
                    }
                    rows.push(row);
                }
                Done::Cached(row, c) => {
                    report.cached += 1;
                    rows.push(edit(&row, task, &c.answer, &error_key)?);
                }
                Done::Answered(row, Ok(answer)) => {
                    report.answered += 1;
                    rows.push(edit(&row, task, &answer.value.to_string(), &error_key)?);
                }
                Done::Answered(row, Err(failure)) => {
                    report.failed += 1;
                    let failure = serde_json::to_string(&failure).expect("serializes");
                    rows.push(edit(&row, &error_key, &failure, "")?);
                }
            }
            report.rows = report.already_annotated
                + report.over_limit
                + report.cached
                + report.answered
                + report.failed;
            if rows.len() >= 1024
                && let Some(s) = sink.as_mut()
            {
                bar.inc(rows.len() as u64);
                flush(s, &mut rows)?;
            }
            if last_message.elapsed() >= Duration::from_millis(500) {
                last_message = Instant::now();
                bar.message(&progress_line(&report, &client, started));
            }
        }
        Ok(())
    }
    .await;
    drop(ordered);
    let reader_result = reader.await;
    result?;
    reader_result.map_err(|e| PickError::Failed(format!("the reader failed: {e}")))?;
    if let Some(w) = writer {
        drop(answers);
        w.finish().map_err(llm)?;
    }
    bar.finish();
    out.commit()?;

    let s = &client.stats;
    report.requests = s.requests.load(Ordering::Relaxed);
    report.retries = s.retries.load(Ordering::Relaxed);
    report.prompt_tokens = s.prompt_tokens.load(Ordering::Relaxed);
    report.completion_tokens = s.completion_tokens.load(Ordering::Relaxed);
    report.reasoning_tokens = s.reasoning_tokens.load(Ordering::Relaxed);
    report.cost = p.prices.map(|(input, output)| {
        (report.prompt_tokens as f64 * input + report.completion_tokens as f64 * output) / 1e6
    });
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn progress_line(r: &AnnotateReport, client: &Client, started: Instant) -> String {
    let s = &client.stats;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    format!(
        "{:.0} rows/s · {} in flight · {} answered · {} cached · {} retries · {} failed",
        r.rows as f64 / secs,
        s.in_flight.load(Ordering::Relaxed),
        r.answered,
        r.cached,
        s.retries.load(Ordering::Relaxed),
        r.failed,
    )
}

/// Rows of a dataset (for the progress bar's total and its ETA).
async fn count_rows(dataset: &Dataset) -> Result<u64> {
    let engine = crate::session::Engine::new(dataset.options.clone(), 0)?;
    engine.register_dataset("t", dataset.subset(dataset.shards.clone()))?;
    let batches = engine
        .sql("SELECT count(*) FROM t")
        .await?
        .collect()
        .await?;
    Ok(batches.first().filter(|b| b.num_rows() > 0).map_or(0, |b| {
        b.column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0) as u64
    }))
}

fn tokio_stream<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

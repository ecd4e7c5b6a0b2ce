//! `pick batch-annotate-submit` and `batch-annotate-retrieve`: annotation through the OpenAI
//! Batch API (bonepick §8.5), half the price, answers within a day. Submit reads the rows as
//! `annotate-dataset` does, keeps a copy of every input file (`rows/`), writes the requests in
//! files of at most `--annotation-batch-size` rows (`requests/`), uploads each and starts its
//! batch, recording every batch in `manifest.json` as soon as it exists (a failed submit
//! never forgets a batch it paid for). Exactly `--limit-rows` rows are requested (B24).
//! Retrieve polls the batches, downloads each final one's results once (`results/`, so a
//! rerun resumes), and writes every input file whole: answers under the prompt's key, and
//! requests that failed, expired or never ran under `<prompt>_error`, never dropped.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use pick_llm::answer::Schema;
use pick_llm::batch::{BatchApi, BatchStatus, request_line, result_line};
use pick_llm::client::{Endpoint, Failure};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::Codec;
use crate::error::{PickError, Result};
use crate::observe::Observer;
use crate::ops::llm_rows::{
    RowsSpec, Work, check_destinations, destination, edit, error_key, flush, llm, row_schema,
    utf8_columns,
};
use crate::ops::per_shard::shard_engine;
use crate::write::{FileSink, OutputDir, OutputFormat, write_file};

const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone)]
pub struct SubmitParams {
    pub rows: RowsSpec,
    pub batch_dir: PathBuf,
    pub endpoint: Endpoint,
    /// Requests per batch.
    pub batch_size: u64,
    /// Orders the input files (a seeded shuffle), which decides the rows `--limit-rows` takes.
    pub seed: i64,
    pub backoff: Duration,
}

/// What a batch directory holds, written by submit and read by retrieve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub model: String,
    pub task: String,
    pub system: Option<String>,
    pub schema: Option<Value>,
    pub files: Vec<ManifestFile>,
    pub batches: Vec<ManifestBatch>,
    pub requests: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The output path, relative to the output directory.
    pub output: String,
    pub source: PathBuf,
    /// The copy of the input rows, relative to the batch directory.
    pub rows: String,
    /// `plain`, `zstd` or `gzip`: how the output is compressed.
    pub codec: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestBatch {
    pub id: String,
    pub input_file_id: String,
    pub requests_file: String,
    pub requests: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct SubmitReport {
    pub batch_dir: PathBuf,
    pub files: usize,
    pub rows: u64,
    pub requests: u64,
    pub already_annotated: u64,
    pub over_limit: u64,
    pub batches: Vec<String>,
}

fn codec_name(c: Codec) -> &'static str {
    match c {
        Codec::Plain => "plain",
        Codec::Zstd => "zstd",
        Codec::Gzip => "gzip",
    }
}

fn codec_of(name: &str) -> Codec {
    match name {
        "zstd" => Codec::Zstd,
        "gzip" => Codec::Gzip,
        _ => Codec::Plain,
    }
}

fn save_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(m).expect("a manifest serializes");
    write_file(&dir.join(MANIFEST), text.as_bytes())
}

pub fn load_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| PickError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| PickError::BadRow {
        file: path.display().to_string(),
        line: e.line() as u64,
        message: e.to_string(),
    })
}

/// A zstd-compressed JSON-lines file being written.
struct Lines {
    path: PathBuf,
    out: zstd::stream::write::Encoder<'static, std::io::BufWriter<std::fs::File>>,
}

impl Lines {
    fn create(path: PathBuf) -> Result<Lines> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PickError::io(parent, e))?;
        }
        let file = std::fs::File::create(&path).map_err(|e| PickError::io(&path, e))?;
        let out = zstd::stream::write::Encoder::new(
            std::io::BufWriter::new(file),
            crate::write::sink::zstd_level(),
        )
        .map_err(|e| PickError::io(&path, e))?;
        Ok(Lines { path, out })
    }

    fn line(&mut self, text: &[u8]) -> Result<()> {
        self.out
            .write_all(text)
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|e| PickError::io(&self.path, e))
    }

    fn finish(self) -> Result<()> {
        let path = self.path;
        self.out
            .finish()
            .and_then(|mut w| w.flush())
            .map_err(|e| PickError::io(&path, e))
    }
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| PickError::io(path, e))?;
    let reader: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(zstd::stream::read::Decoder::new(file).map_err(|e| PickError::io(path, e))?)
    } else {
        Box::new(file)
    };
    std::io::BufReader::new(reader)
        .lines()
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| PickError::io(path, e))
}

pub async fn submit(p: &SubmitParams, observer: &dyn Observer) -> Result<SubmitReport> {
    let (library, task, datasets) = p.rows.open()?;
    check_destinations(&datasets)?;
    if p.batch_size == 0 {
        return Err(PickError::Usage(
            "--annotation-batch-size must be at least 1".into(),
        ));
    }
    if std::fs::read_dir(&p.batch_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(PickError::Usage(format!(
            "the batch directory {} is not empty: it may hold batches already paid for; \
             retrieve them, or choose another directory",
            p.batch_dir.display()
        )));
    }
    let api = BatchApi::new(p.endpoint.clone(), p.backoff).map_err(llm)?;
    // Files in a seeded order: which rows a limit takes does not depend on names alone.
    let mut order: Vec<(f64, usize, usize)> = Vec::new();
    for (di, d) in datasets.iter().enumerate() {
        for (si, s) in d.shards.iter().enumerate() {
            // Relative paths: the same order wherever the data lives.
            let mut h = pick_metrics::seeded::KeyHasher::new(p.seed);
            h.write(&(di as u64).to_le_bytes());
            h.write(s.rel.as_bytes());
            order.push((h.finish(), di, si));
        }
    }
    order.sort_by(|a, b| a.0.total_cmp(&b.0));

    std::fs::create_dir_all(&p.batch_dir).map_err(|e| PickError::io(&p.batch_dir, e))?;
    let mut manifest = Manifest {
        model: p.rows.settings.model.clone(),
        task: p.rows.task.clone(),
        system: p.rows.system.clone(),
        schema: task.schema.clone(),
        files: Vec::new(),
        batches: Vec::new(),
        requests: 0,
    };
    let mut prepare = p.rows.prepare(library, &task, None);
    let query = p.rows.query();
    let mut report = SubmitReport {
        batch_dir: p.batch_dir.clone(),
        ..Default::default()
    };
    let mut requests: Option<(Lines, u64)> = None;
    let mut request_files: Vec<(String, u64)> = Vec::new();
    let total: u64 = order
        .iter()
        .map(|&(_, d, s)| datasets[d].shards[s].size)
        .sum();
    let bar = observer.progress(total, "prepare");
    for (n, &(_, di, si)) in order.iter().enumerate() {
        let dataset = &datasets[di];
        let shard = &dataset.shards[si];
        let (output, format) = destination(shard);
        let OutputFormat::Jsonl(codec) = format else {
            unreachable!("annotation writes JSON lines")
        };
        let rows_name = format!("rows/{n:05}.jsonl.zst");
        let mut rows = Lines::create(p.batch_dir.join(&rows_name))?;
        let engine = shard_engine(dataset, shard, 1)?;
        let mut stream = engine.query(&query).await?.execute_stream().await?;
        let mut index = 0u64;
        while let Some(batch) = stream.try_next().await? {
            let batch = utf8_columns(&batch)?;
            for w in prepare.batch(&batch, &dataset.root)? {
                let row = match w {
                    Work::Keep(row, crate::ops::llm_rows::Kept::Annotated) => {
                        report.already_annotated += 1;
                        row
                    }
                    Work::Keep(row, crate::ops::llm_rows::Kept::OverLimit) => {
                        report.over_limit += 1;
                        row
                    }
                    Work::Ask(row, req) => {
                        if requests.as_ref().is_none_or(|r| r.1 >= p.batch_size) {
                            if let Some((lines, count)) = requests.take() {
                                lines.finish()?;
                                request_files.last_mut().expect("open file").1 = count;
                            }
                            let name = format!("requests/{:05}.jsonl.zst", request_files.len());
                            requests = Some((Lines::create(p.batch_dir.join(&name))?, 0));
                            request_files.push((name, 0));
                        }
                        let (lines, count) = requests.as_mut().expect("opened above");
                        let mut line = request_line(&format!("{n}-{index}"), &req.body);
                        line.pop();
                        lines.line(&line)?;
                        *count += 1;
                        report.requests += 1;
                        row
                    }
                    Work::Cached(..) | Work::Start(..) | Work::End => {
                        unreachable!("submit reads no cache and marks no shards")
                    }
                };
                rows.line(row.as_bytes())?;
                index += 1;
                report.rows += 1;
            }
        }
        rows.finish()?;
        bar.inc(shard.size);
        manifest.files.push(ManifestFile {
            output,
            source: shard.path.clone(),
            rows: rows_name,
            codec: codec_name(codec).into(),
        });
    }
    if let Some((lines, count)) = requests.take() {
        lines.finish()?;
        request_files.last_mut().expect("open file").1 = count;
    }
    bar.finish();
    manifest.requests = report.requests;
    report.files = manifest.files.len();
    save_manifest(&p.batch_dir, &manifest)?;
    for (name, count) in request_files {
        // Batch APIs take the requests as plain JSON lines.
        let text = read_lines(&p.batch_dir.join(&name))?.join("\n") + "\n";
        let file_name = name.replace('/', "-").replace(".zst", "");
        let file_id = api
            .upload(&file_name, text.into_bytes())
            .await
            .map_err(llm)?;
        let id = api.create(&file_id).await.map_err(llm)?;
        observer.note(&format!("submitted batch {id} ({count} requests)"));
        manifest.batches.push(ManifestBatch {
            id: id.clone(),
            input_file_id: file_id,
            requests_file: name,
            requests: count,
        });
        save_manifest(&p.batch_dir, &manifest)?;
        report.batches.push(id);
    }
    Ok(report)
}

#[derive(Debug, Clone)]
pub struct RetrieveParams {
    pub batch_dir: PathBuf,
    pub output: PathBuf,
    pub endpoint: Endpoint,
    /// Seconds to wait for batches still running; `None` waits as long as it takes.
    pub timeout: Option<Duration>,
    pub poll_every: Duration,
    /// Write now, with the rows of unfinished batches recorded as failed.
    pub skip_in_progress: bool,
    pub overwrite: bool,
    pub backoff: Duration,
}

#[derive(Debug, Default, Serialize)]
pub struct RetrieveReport {
    pub output: PathBuf,
    pub files: usize,
    pub rows: u64,
    pub answered: u64,
    pub failed: u64,
    pub passed_through: u64,
    /// Final status of each batch (`in_progress` for one skipped).
    pub batches: Vec<(String, String)>,
}

fn status_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("results").join(format!("{id}.status.json"))
}

pub async fn retrieve(p: &RetrieveParams, observer: &dyn Observer) -> Result<RetrieveReport> {
    let manifest = load_manifest(&p.batch_dir)?;
    let api = BatchApi::new(p.endpoint.clone(), p.backoff).map_err(llm)?;
    let schema = match &manifest.schema {
        Some(s) => Some(Schema::compile(&manifest.task, s).map_err(llm)?),
        None => None,
    };
    let results = p.batch_dir.join("results");
    std::fs::create_dir_all(&results).map_err(|e| PickError::io(&results, e))?;

    // Poll until every batch is final (their results downloaded once), or time runs out.
    let started = Instant::now();
    let mut statuses: HashMap<String, BatchStatus> = HashMap::new();
    for b in &manifest.batches {
        if let Ok(text) = std::fs::read_to_string(status_path(&p.batch_dir, &b.id))
            && let Ok(s) = serde_json::from_str::<BatchStatus>(&text)
        {
            statuses.insert(b.id.clone(), s);
        }
    }
    loop {
        let pending: Vec<&ManifestBatch> = manifest
            .batches
            .iter()
            .filter(|b| !statuses.contains_key(&b.id))
            .collect();
        if pending.is_empty() {
            break;
        }
        for b in pending {
            let s = api.status(&b.id).await.map_err(llm)?;
            if !s.is_final() {
                continue;
            }
            for (file, suffix) in [(&s.output_file_id, "output"), (&s.error_file_id, "errors")] {
                if let Some(f) = file {
                    let dest = results.join(format!("{}.{suffix}.jsonl", b.id));
                    api.download(f, &dest).await.map_err(llm)?;
                }
            }
            let text = serde_json::to_string(&s).expect("serializes");
            write_file(&status_path(&p.batch_dir, &b.id), text.as_bytes())?;
            observer.note(&format!("batch {} is {}", b.id, s.status));
            statuses.insert(b.id.clone(), s);
        }
        let left = manifest.batches.len() - statuses.len();
        if left == 0 || p.skip_in_progress {
            break;
        }
        if p.timeout.is_some_and(|t| started.elapsed() >= t) {
            return Err(PickError::Failed(format!(
                "{left} batches are still running after {:.0}s: run batch-annotate-retrieve again \
                 later (results downloaded so far are kept), or pass --skip-in-progress",
                started.elapsed().as_secs_f64()
            )));
        }
        tokio::time::sleep(p.poll_every).await;
    }

    // Every request's outcome, by custom id.
    let mut outcome: HashMap<String, std::result::Result<String, String>> = HashMap::new();
    let mut report = RetrieveReport {
        output: p.output.clone(),
        ..Default::default()
    };
    let mut batch_of: HashMap<String, (String, String)> = HashMap::new();
    for b in &manifest.batches {
        let status = statuses
            .get(&b.id)
            .map_or("in_progress".to_string(), |s| s.status.clone());
        report.batches.push((b.id.clone(), status.clone()));
        for line in read_lines(&p.batch_dir.join(&b.requests_file))? {
            if let Some(id) = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v["custom_id"].as_str().map(str::to_string))
            {
                batch_of.insert(id, (b.id.clone(), status.clone()));
            }
        }
        for suffix in ["output", "errors"] {
            let path = results.join(format!("{}.{suffix}.jsonl", b.id));
            if !path.exists() {
                continue;
            }
            for line in read_lines(&path)? {
                if let Some((id, r)) = result_line(&line) {
                    outcome.insert(id, r);
                }
            }
        }
    }

    let out = OutputDir::prepare(&p.output, std::slice::from_ref(&p.batch_dir), p.overwrite)?;
    let error_key = error_key(&manifest.task);
    for (n, f) in manifest.files.iter().enumerate() {
        let dest = out.path().join(&f.output);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PickError::io(parent, e))?;
        }
        let mut sink =
            FileSink::create(&dest, OutputFormat::Jsonl(codec_of(&f.codec)), row_schema())?;
        let mut rows = Vec::new();
        for (index, row) in read_lines(&p.batch_dir.join(&f.rows))?
            .into_iter()
            .enumerate()
        {
            let id = format!("{n}-{index}");
            let written = match batch_of.get(&id) {
                None => {
                    report.passed_through += 1;
                    row
                }
                Some((batch, status)) => {
                    let answer = match outcome.remove(&id) {
                        Some(Ok(content)) => pick_llm::answer::parse(schema.as_ref(), &content),
                        Some(Err(e)) => Err(e),
                        None => Err(format!("no result: batch {batch} is {status}")),
                    };
                    match answer {
                        Ok(v) => {
                            report.answered += 1;
                            edit(&row, &manifest.task, &v.to_string(), &error_key)?
                        }
                        Err(e) => {
                            report.failed += 1;
                            let failure = Failure {
                                error: e,
                                attempts: 1,
                                status: None,
                            };
                            let failure = serde_json::to_string(&failure).expect("serializes");
                            edit(&row, &error_key, &failure, "")?
                        }
                    }
                }
            };
            rows.push(written);
            report.rows += 1;
            if rows.len() >= 1024 {
                flush(&mut sink, &mut rows)?;
            }
        }
        flush(&mut sink, &mut rows)?;
        sink.finish()?;
        report.files += 1;
    }
    out.commit()?;
    Ok(report)
}

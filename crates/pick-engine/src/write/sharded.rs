//! One ordered stream of rows cut into consecutive files of planned row counts (reshard,
//! balance, import). A file is created only when its first row arrives, so no empty shard is
//! ever written, and each is committed whole or not at all.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::error::{PickError, Result};
use crate::write::sink::{FileSink, OutputFormat};

/// A file to write and how many rows it takes.
pub type Planned = (PathBuf, u64);

/// What was written: each file with its row count and size on disk.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<(PathBuf, u64, u64)>,
}

impl Written {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.1).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.2).sum()
    }
}

/// Writes batches into the files of a plan, in order. Rows beyond the plan are an error; a
/// plan longer than the rows leaves its last files unwritten.
pub struct ShardedWriter<P: Iterator<Item = Planned>> {
    plan: P,
    format: OutputFormat,
    schema: SchemaRef,
    current: Option<(FileSink, PathBuf, u64)>,
    /// Files being finished on threads of their own, oldest first.
    finishing: VecDeque<JoinHandle<Result<(PathBuf, u64, u64)>>>,
    pub written: Written,
}

impl<P: Iterator<Item = Planned>> ShardedWriter<P> {
    pub fn new(
        plan: impl IntoIterator<IntoIter = P>,
        format: OutputFormat,
        schema: SchemaRef,
    ) -> Self {
        ShardedWriter {
            plan: plan.into_iter(),
            format,
            schema,
            current: None,
            finishing: VecDeque::new(),
            written: Written::default(),
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                let Some((path, rows)) = self.plan.by_ref().find(|(_, rows)| *rows > 0) else {
                    return Err(PickError::Failed(format!(
                        "{} more rows than the output plan holds",
                        batch.num_rows() - offset
                    )));
                };
                let sink = FileSink::create(&path, self.format, self.schema.clone())?;
                self.current = Some((sink, path, rows));
            }
            let (sink, _, left) = self.current.as_mut().expect("opened above");
            let take = (*left).min((batch.num_rows() - offset) as u64) as usize;
            sink.write(&batch.slice(offset, take))?;
            offset += take;
            *left -= take as u64;
            if *left == 0 {
                self.close()?;
            }
        }
        Ok(())
    }

    /// Finishes the current file on a thread of its own while the next one fills. Finishing
    /// compresses whatever the encoder still holds, which is the whole file when it is
    /// smaller than one zstd job (about 8 MB at level 3): done in line, that left the other
    /// cores idle between files. At most one file per core is in flight.
    fn close(&mut self) -> Result<()> {
        if let Some((sink, path, _)) = self.current.take() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            while self.finishing.len() >= cores {
                self.collect_oldest()?;
            }
            self.finishing.push_back(std::thread::spawn(move || {
                let rows = sink.finish()?;
                let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                Ok((path, rows, bytes))
            }));
        }
        Ok(())
    }

    fn collect_oldest(&mut self) -> Result<()> {
        if let Some(handle) = self.finishing.pop_front() {
            let file = handle.join().map_err(|_| {
                PickError::Failed("a thread finishing an output file panicked".into())
            })??;
            self.written.files.push(file);
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Written> {
        self.close()?;
        while !self.finishing.is_empty() {
            self.collect_oldest()?;
        }
        Ok(std::mem::take(&mut self.written))
    }
}

//! The answer cache: one SQLite file under `--cache-location`, a row per valid answer keyed by
//! the request's key (`request::Key`). Answers are written as they arrive by one writer thread
//! in batched transactions (WAL), so a run killed mid-way keeps every answer committed up to a
//! quarter second before, and its rerun pays for none of them again. Failures are never
//! cached. Several runs may share a cache: SQLite serialises their writes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use crate::client::Usage;
use crate::error::LlmError;
use crate::request::Key;

pub const FILE_NAME: &str = "pick-answers.sqlite";

/// How long an answer may wait for its commit, and how many share one.
const COMMIT_EVERY: Duration = Duration::from_millis(250);
const COMMIT_ROWS: usize = 1024;

/// A cached answer: its JSON text and what it cost when it was bought.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub answer: String,
    pub usage: Usage,
}

pub struct Cache {
    path: PathBuf,
    reader: Mutex<Connection>,
}

fn open(path: &Path) -> Result<Connection, LlmError> {
    let err = |source| LlmError::Cache {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(60)).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS answers (
             key BLOB PRIMARY KEY,
             answer TEXT NOT NULL,
             prompt_tokens INTEGER NOT NULL,
             completion_tokens INTEGER NOT NULL,
             reasoning_tokens INTEGER NOT NULL,
             created INTEGER NOT NULL
         ) WITHOUT ROWID;",
    )
    .map_err(err)?;
    Ok(conn)
}

impl Cache {
    /// The cache in directory `dir` (created).
    pub fn open(dir: &Path) -> Result<Cache, LlmError> {
        std::fs::create_dir_all(dir).map_err(|source| LlmError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let reader = open(&path)?;
        Ok(Cache {
            path,
            reader: Mutex::new(reader),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LlmError + '_ {
        |source| LlmError::Cache {
            path: self.path.clone(),
            source,
        }
    }

    /// The cached answer of each key, in one read transaction.
    pub fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Cached>>, LlmError> {
        let mut conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction().map_err(self.err())?;
        let mut out = Vec::with_capacity(keys.len());
        {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT answer, prompt_tokens, completion_tokens, reasoning_tokens
                     FROM answers WHERE key = ?1",
                )
                .map_err(self.err())?;
            for key in keys {
                let row = stmt
                    .query_row(params![&key.0[..]], |r| {
                        Ok(Cached {
                            answer: r.get(0)?,
                            usage: Usage {
                                prompt_tokens: r.get::<_, i64>(1)? as u64,
                                completion_tokens: r.get::<_, i64>(2)? as u64,
                                reasoning_tokens: r.get::<_, i64>(3)? as u64,
                            },
                        })
                    })
                    .optional()
                    .map_err(self.err())?;
                out.push(row);
            }
        }
        tx.commit().map_err(self.err())?;
        Ok(out)
    }

    /// A writer thread over its own connection; answers sent to it are committed in batches.
    pub fn writer(&self) -> Result<CacheWriter, LlmError> {
        let conn = open(&self.path)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let path = self.path.clone();
        let thread = std::thread::Builder::new()
            .name("pick-cache".into())
            .spawn(move || write_loop(conn, rx, &path))
            .map_err(|source| LlmError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(CacheWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }
}

pub struct CacheWriter {
    tx: Option<Sender<(Key, Cached)>>,
    thread: Option<std::thread::JoinHandle<Result<u64, LlmError>>>,
}

impl CacheWriter {
    pub fn sender(&self) -> Sender<(Key, Cached)> {
        self.tx.clone().expect("open until finished")
    }

    /// Commits what is pending and returns how many answers were written.
    pub fn finish(mut self) -> Result<u64, LlmError> {
        self.tx.take();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(LlmError::Usage("the cache writer panicked".into())),
            None => Ok(0),
        }
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_loop(
    mut conn: Connection,
    rx: Receiver<(Key, Cached)>,
    path: &Path,
) -> Result<u64, LlmError> {
    let err = |source| LlmError::Cache {
        path: path.to_path_buf(),
        source,
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    };
    let mut pending: Vec<(Key, Cached)> = Vec::new();
    let mut since = Instant::now();
    let mut written = 0u64;
    loop {
        let wait = COMMIT_EVERY.saturating_sub(since.elapsed());
        let closed = match rx.recv_timeout(if pending.is_empty() {
            Duration::from_secs(3600)
        } else {
            wait
        }) {
            Ok(entry) => {
                if pending.is_empty() {
                    since = Instant::now();
                }
                pending.push(entry);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let due = pending.len() >= COMMIT_ROWS || since.elapsed() >= COMMIT_EVERY;
        if !pending.is_empty() && (due || closed) {
            let tx = conn.transaction().map_err(err)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO answers
                         (key, answer, prompt_tokens, completion_tokens, reasoning_tokens, created)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(err)?;
                let t = now();
                for (key, c) in pending.drain(..) {
                    stmt.execute(params![
                        &key.0[..],
                        c.answer,
                        c.usage.prompt_tokens as i64,
                        c.usage.completion_tokens as i64,
                        c.usage.reasoning_tokens as i64,
                        t
                    ])
                    .map_err(err)?;
                    written += 1;
                }
            }
            tx.commit().map_err(err)?;
        }
        if closed {
            return Ok(written);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (a, b) = (Key([1; 32]), Key([2; 32]));
        let w = cache.writer().unwrap();
        let usage = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            reasoning_tokens: 2,
        };
        w.sender()
            .send((
                a,
                Cached {
                    answer: r#"{"score":3}"#.into(),
                    usage,
                },
            ))
            .unwrap();
        assert_eq!(w.finish().unwrap(), 1);
        let got = Cache::open(dir.path()).unwrap().get_many(&[a, b]).unwrap();
        assert_eq!(got[0].as_ref().unwrap().answer, r#"{"score":3}"#);
        assert_eq!(got[0].as_ref().unwrap().usage, usage);
        assert!(got[1].is_none());
    }
}

//! The sqllogictest suite: every `tests/slt/*.slt` file runs, through the `sqllogictest` crate
//! (the runner DataFusion uses for its own `.slt` files), on a fresh `pick_engine::Engine` with
//! data-samples registered as `s`.
//!
//! Records:
//! - `statement ok` then SQL: the statement must succeed (rows it returns are ignored).
//! - `statement error <regex>` then SQL: the statement must fail, and the regex must match
//!   somewhere in the message the CLI prints (`pick_engine::error::describe`). It is a regular
//!   expression, not a substring: `( ) | [ ] { } . * + ? ^ $ \` are literal only when escaped
//!   (`\(`); an unescaped `.` still matches itself.
//! - `query <types> [rowsort]` then SQL, `----` and the expected rows: one line per row, columns
//!   separated by one space, NULL as `NULL`, the empty string as `(empty)`, values as arrow's
//!   `ArrayFormatter` prints them. The type letters (`T`, `I`, `R`, `B`, any other) are kept as
//!   written and not checked. `rowsort` sorts the rows the engine returns, not the expected
//!   ones: write those in sorted order (completion does).
//!
//! Paths: cargo runs the test in the package directory (`crates/pick-cli`), not at the
//! repository root, so a file that names files under data-samples says `control substitution
//! on` and writes `$SAMPLES` for the absolute path of data-samples. With substitution on, `$`
//! and `\` in that file's SQL must be escaped as `\$` and `\\`.
//!
//! Completion: `cargo test` cannot pass DataFusion's `--complete` flag to a test, so an
//! environment variable turns it on:
//!
//! ```sh
//! PICK_SLT_COMPLETE=1 cargo test --test it slt::
//! ```
//!
//! rewrites every `.slt` file in place with what the engine returns now: results that differ
//! are replaced (type letters are kept unless their number is wrong), an error record whose
//! regex no longer matches gets the actual message (regex-escaped), and a failing
//! `statement ok` or `query` becomes an error record. Review the diff before committing it.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use async_trait::async_trait;
use pick_engine::{Engine, PickError};
use sqllogictest::{ColumnType, DBOutput, Runner, default_column_validator, default_validator};

/// Set to `1`, the test regenerates the expected results instead of checking them.
const COMPLETE: &str = "PICK_SLT_COMPLETE";

/// A letter of `query <types>`, kept as written: DataFusion's `DFColumnType` would turn the
/// letters it does not know into `?` whenever completion rewrites a record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Letter(char);

impl ColumnType for Letter {
    fn from_char(value: char) -> Option<Self> {
        Some(Letter(value))
    }

    fn to_char(&self) -> char {
        self.0
    }
}

/// The letter completion writes for a column of a record that has none (or too few or too
/// many): DataFusion's conventions.
fn letter(t: &DataType) -> Letter {
    Letter(match t {
        DataType::Boolean => 'B',
        t if t.is_integer() => 'I',
        t if t.is_floating() || t.is_decimal() => 'R',
        t if t.is_string() => 'T',
        DataType::Date32 | DataType::Date64 | DataType::Time32(_) | DataType::Time64(_) => 'D',
        DataType::Timestamp(..) => 'P',
        _ => '?',
    })
}

/// An error as the CLI prints it; `statement error` regexes are matched against this.
#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl From<PickError> for SltError {
    fn from(e: PickError) -> Self {
        SltError(pick_engine::error::describe(&e))
    }
}

/// Where a file's statements run: a local engine, or Ballista's standalone cluster (a
/// scheduler and an executor in this process, pick's codecs and functions in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Local,
    #[cfg(feature = "cluster")]
    Cluster,
}

/// One connection of the runner: a fresh engine with data-samples registered as `s`.
struct Session {
    engine: Engine,
    place: Place,
}

impl Session {
    async fn open(samples: &Path, place: Place) -> Result<Session, SltError> {
        let engine = match place {
            Place::Local => Engine::new(Default::default(), 0)?,
            #[cfg(feature = "cluster")]
            Place::Cluster => {
                let cluster = pick_cluster::Cluster::Standalone { slots: 2 };
                let exec = pick_engine::session::Exec::Cluster(std::sync::Arc::new(cluster));
                Engine::open(Default::default(), 4, &exec).await?
            }
        };
        engine.register("s", samples.to_str().expect("UTF-8 path"))?;
        Ok(Session { engine, place })
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for Session {
    type Error = SltError;
    type ColumnType = Letter;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Letter>, SltError> {
        let df = self.engine.sql(sql).await?;
        let types: Vec<Letter> = df
            .schema()
            .fields()
            .iter()
            .map(|f| letter(f.data_type()))
            .collect();
        let batches = df.collect().await.map_err(PickError::from)?;
        let rows = render(&batches)?;
        // DDL (CREATE VIEW ...) has neither columns nor rows.
        if rows.is_empty() && types.is_empty() {
            Ok(DBOutput::StatementComplete(0))
        } else {
            Ok(DBOutput::Rows { types, rows })
        }
    }

    async fn shutdown(&mut self) {}

    /// For `skipif pick` / `onlyif pick`, and `skipif pick-cluster` for a record whose
    /// answer cannot be the same on a cluster (the comment above it says why).
    fn engine_name(&self) -> &str {
        match self.place {
            Place::Local => "pick",
            #[cfg(feature = "cluster")]
            Place::Cluster => "pick-cluster",
        }
    }
}

/// Rows of cells: NULL as `NULL`, the empty string as `(empty)`.
fn render(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, SltError> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut rows = vec![];
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SltError(e.to_string()))?;
        for r in 0..b.num_rows() {
            rows.push(
                fmts.iter()
                    .map(|f| {
                        let v = f.value(r).to_string();
                        if v.is_empty() {
                            "(empty)".to_string()
                        } else {
                            v
                        }
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Cells and expected lines compare as they are (the crate's default collapses whitespace).
#[allow(clippy::ptr_arg)]
fn exact(s: &String) -> String {
    s.clone()
}

/// Completion keeps the letters as written when there is one per column.
#[allow(clippy::ptr_arg)]
fn one_letter_per_column(actual: &Vec<Letter>, written: &Vec<Letter>) -> bool {
    actual.len() == written.len()
}

async fn run_file(
    path: &Path,
    samples: &Path,
    parquet: &Path,
    place: Place,
    complete: bool,
) -> Result<(), String> {
    let mut runner = Runner::new(move || async move { Session::open(samples, place).await });
    runner.set_var(
        "SAMPLES".to_string(),
        samples.to_str().expect("UTF-8 path").to_string(),
    );
    runner.set_var(
        "SAMPLES_PARQUET".to_string(),
        parquet.to_str().expect("UTF-8 path").to_string(),
    );
    runner.with_normalizer(exact);
    runner.with_validator(default_validator);
    runner.with_column_validator(default_column_validator);
    let result = if complete {
        runner
            .update_test_file(path, " ", default_validator, exact, one_letter_per_column)
            .await
            .map_err(|e| format!("completing {}: {e}", path.display()))
    } else {
        runner
            .run_file_async(path)
            .await
            .map_err(|e| e.display(false).to_string())
    };
    runner.shutdown_async().await;
    result
}

/// data-samples as Parquet (`pick export`, the layout mirrored), for `$SAMPLES_PARQUET`.
fn parquet_copy(samples: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("samples-parquet");
    let done = std::process::Command::new(env!("CARGO_BIN_EXE_pick"))
        .args(["export", "-q", "-i"])
        .arg(samples)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("pick runs");
    assert!(done.success(), "pick export of data-samples failed");
    out
}

/// Every `.slt` file at `place`; completion only ever rewrites from a local run.
fn run_all(place: Place) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root");
    let samples = root.join("data-samples");
    let complete = place == Place::Local && std::env::var(COMPLETE).is_ok_and(|v| v == "1");
    let dir = root.join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let tmp = tempfile::tempdir().unwrap();
    let parquet = parquet_copy(&samples, tmp.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut failures = vec![];
    for f in &files {
        match rt.block_on(run_file(f, &samples, &parquet, place, complete)) {
            Ok(()) if complete => eprintln!("completed {}", f.display()),
            Ok(()) => {}
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} .slt files failed ({place:?}):\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn slt_files() {
    run_all(Place::Local);
}

/// The same files, the same answers, on a cluster: every query planned by the client, its
/// datasets and scans through pick's codecs, its functions resolved on the executor.
#[cfg(feature = "cluster")]
#[test]
fn slt_files_on_a_cluster() {
    run_all(Place::Cluster);
}

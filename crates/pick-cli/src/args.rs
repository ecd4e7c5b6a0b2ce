//! The flag blocks several commands share, flattened into each command that takes them.

use clap::Args;
use pick_engine::dataset::{InferRows, ReadOptions};

/// How datasets are read, shared by every command that reads one.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Leave out rows that cannot be read (counted and reported) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,

    /// Rows of each JSON shard read to infer the schema; 0 reads every row.
    #[arg(value_parser = crate::flags::py_int::<u64>, long, default_value_t = pick_engine::dataset::infer::DEFAULT_INFER_ROWS, value_name = "N")]
    pub infer_rows: u64,
}

impl ReadArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            skip_bad_rows: self.skip_bad_rows,
            infer_rows: InferRows((self.infer_rows > 0).then_some(self.infer_rows)),
        }
    }
}

/// Threads, `--show-sql` and the read options: the block every data command takes. (Seeds are
/// per command: bonepick's defaults and short flags differ from command to command.)
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Threads (0 = all cores).
    #[arg(value_parser = crate::flags::py_int::<usize>, short = 'p', long = "num-proc", default_value_t = 0, value_name = "N")]
    pub num_proc: usize,

    /// Print the SQL that does the work, then run it.
    #[arg(long)]
    pub show_sql: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// What every command gets besides its own flags.
#[derive(Debug, Clone, Copy)]
pub struct Globals {
    pub quiet: bool,
}

impl Globals {
    /// The terminal observer for a command; `show_sql` from its flags.
    pub fn observer(self, show_sql: bool) -> crate::output::Terminal {
        crate::output::Terminal {
            quiet: self.quiet,
            show_sql,
        }
    }
}

/// `--cluster`: run the command's query on a Ballista cluster (`pick cluster`).
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Run the query on the cluster whose scheduler is at df://HOST:PORT (`standalone`: a
    /// scheduler and an executor inside this process). Paths must be readable where the
    /// executors run: a shared file system or an object store. Commands that write a dataset
    /// run as one job whose executors write the output there too.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
}

impl ClusterArgs {
    /// Where the command's queries run.
    pub fn exec(&self) -> pick_engine::Result<pick_engine::session::Exec> {
        match &self.cluster {
            None => Ok(pick_engine::session::Exec::Local),
            #[cfg(feature = "cluster")]
            Some(url) => pick_cluster::Cluster::exec(url),
            #[cfg(not(feature = "cluster"))]
            Some(url) => Err(pick_engine::PickError::Usage(format!(
                "--cluster {url}: this pick was built without its `cluster` feature"
            ))),
        }
    }
}

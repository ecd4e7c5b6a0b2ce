//! `pick cluster scheduler` and `pick cluster executor`: the processes of a Ballista cluster
//! that runs pick's queries (`--cluster df://HOST:PORT`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use pick_cluster::{ExecutorOptions, SchedulerOptions, log_to_stderr, run_executor, run_scheduler};
use pick_engine::Result;

use crate::args::Globals;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Run a scheduler: clients send it queries, executors ask it for tasks.
    Scheduler(SchedulerArgs),
    /// Run an executor: it asks the scheduler for tasks and runs them with pick's functions.
    Executor(ExecutorArgs),
}

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on (clients and executors connect here).
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    pub bind: SocketAddr,

    /// The host name others reach this scheduler at, when not the bind address.
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,

    /// Seconds an executor may be silent before its tasks run on the others.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub executor_timeout: u64,
}

#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub scheduler: String,

    /// Address of this executor's data service (Arrow Flight); each executor on a host needs
    /// its own port.
    #[arg(long, default_value = "127.0.0.1:50051", value_name = "HOST:PORT")]
    pub bind: SocketAddr,

    /// The host name the scheduler and the other executors reach this one at.
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,

    /// Tasks run at once (0 = one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub slots: usize,

    /// Directory for shuffle files (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

pub async fn run(cmd: ClusterCommand, g: Globals) -> Result<()> {
    log_to_stderr(g.quiet);
    match cmd {
        ClusterCommand::Scheduler(args) => {
            if !g.quiet {
                eprintln!("pick scheduler on {} (df://{})", args.bind, args.bind);
            }
            run_scheduler(SchedulerOptions {
                bind: args.bind,
                advertise: args.advertise,
                executor_timeout: Duration::from_secs(args.executor_timeout),
            })
            .await
        }
        ClusterCommand::Executor(args) => {
            if !g.quiet {
                eprintln!(
                    "pick executor on {}, {} slots, scheduler {}",
                    args.bind,
                    if args.slots == 0 {
                        "one per core".to_string()
                    } else {
                        args.slots.to_string()
                    },
                    args.scheduler
                );
            }
            run_executor(ExecutorOptions {
                scheduler: args.scheduler,
                bind: args.bind,
                advertise: args.advertise,
                slots: args.slots,
                work_dir: args.work_dir,
            })
            .await
        }
    }
}

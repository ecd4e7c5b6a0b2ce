//! `pick`: parses the command line, runs the command's pipeline, presents its report. Exit 1
//! for runtime errors, 2 for usage errors, 0 when standard output was closed by its reader,
//! 130 when interrupted (Ctrl-C, SIGTERM), 101 for an internal error (a panic: a bug).

mod args;
mod commands;
mod flags;
mod output;
#[cfg(test)]
mod worklog;

use std::process::ExitCode;

use clap::Parser;
use pick_engine::error::describe;

use crate::commands::Cli;

/// On Ctrl-C (or SIGTERM) the staging and scratch directories of the running command are
/// removed before exiting 130: the output keeps its previous state and nothing is left behind.
/// The signal handler only writes a byte to a pipe; a thread waiting on the pipe does the rest.
fn remove_staging_on_interrupt() {
    use std::sync::atomic::{AtomicI32, Ordering};
    static WAKE: AtomicI32 = AtomicI32::new(-1);
    extern "C" fn handler(_: libc::c_int) {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the descriptor stays open for the process.
        unsafe {
            libc::write(WAKE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1);
        }
    }
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: a pipe for two valid descriptors; handlers installed once, at start.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return;
        }
        WAKE.store(fds[1], Ordering::Relaxed);
        let handler = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    std::thread::spawn(move || {
        let mut byte = 0u8;
        // SAFETY: reading one byte from the pipe's own end.
        if unsafe { libc::read(fds[0], (&mut byte as *mut u8).cast(), 1) } == 1 {
            pick_engine::write::staging::remove_registered();
            std::process::exit(130);
        }
    });
}

/// A panic, wherever it happens (DataFusion's threads included), is a bug: one line says so
/// and what to report, the running command's staging is removed, so its output keeps its
/// previous state, and pick exits 101 (Rust's code for a panic) without a backtrace. Not in
/// a cluster's scheduler and executors: Ballista fails the task that panicked, and the
/// process serves on.
fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error in pick {}: {}{at}; this is a bug, please report it with the \
             command line that ran (outputs were left as they were)",
            env!("CARGO_PKG_VERSION"),
            what.replace('\n', " ")
        );
        pick_engine::write::staging::remove_registered();
        std::process::exit(101);
    }));
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(flags::rewrite_bonepick_shorts(std::env::args_os()));
    remove_staging_on_interrupt();
    if !cli.is_cluster_role() {
        report_panics();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

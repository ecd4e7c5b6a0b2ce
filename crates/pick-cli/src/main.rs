//! `pick`: parses the command line, runs the command's pipeline, presents its report. Exit 1
//! for runtime errors, 2 for usage errors, 0 when standard output was closed by its reader.

mod args;
mod commands;
mod flags;
mod output;

use std::process::ExitCode;

use clap::Parser;
use pick_engine::error::describe;

use crate::commands::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse_from(flags::rewrite_two_letter_shorts(std::env::args_os()));
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

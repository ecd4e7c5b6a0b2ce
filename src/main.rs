use std::process::ExitCode;

use clap::Parser;
use pick::cli::{Cli, run};
use pick::error::describe;

fn main() -> ExitCode {
    let cli = Cli::parse_from(pick::cli::flags::rewrite_two_letter_shorts(
        std::env::args_os(),
    ));
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}

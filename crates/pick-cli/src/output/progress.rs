//! The terminal's `Observer`: indicatif bars on stderr (hidden when stderr is not a terminal
//! or with `--quiet`), notes on stderr (none with `--quiet`), and statements on stdout with
//! `--show-sql`.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pick_engine::{Observer, Progress};

pub struct Terminal {
    pub quiet: bool,
    pub show_sql: bool,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn set(&self, position: u64) {
        self.0.set_position(position);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
    fn message(&self, line: &str) {
        self.0.set_message(line.to_string());
    }
}

/// A byte-counting progress bar on stderr; hidden when stderr is not a terminal or `quiet`.
pub fn bar(total_bytes: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A row-counting progress bar on stderr, with the live figures as its message.
pub fn row_bar(total: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "[{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

impl Observer for Terminal {
    fn progress(&self, total: u64, what: &str) -> Arc<dyn Progress> {
        Arc::new(Bar(bar(total, what, self.quiet)))
    }

    fn count(&self, total: u64, what: &str) -> Arc<dyn Progress> {
        Arc::new(Bar(row_bar(total, what, self.quiet)))
    }

    fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    fn statement(&self, sql: &str) {
        if self.show_sql {
            let _ = crate::output::Out.line(sql);
        }
    }
}

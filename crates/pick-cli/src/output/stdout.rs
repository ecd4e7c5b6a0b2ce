//! Standard output for results. Every write goes through `Out`, which reports a closed pipe as
//! an error that `main` turns into a quiet exit 0 (`PickError::is_broken_pipe`), instead of the
//! panic `println!` gives.

use std::fmt::Display;
use std::io::Write;

use pick_engine::{PickError, Result};

#[derive(Default)]
pub struct Out;

impl Out {
    /// `text` and a newline.
    pub fn line(&self, text: impl Display) -> Result<()> {
        self.write(format_args!("{text}\n"))
    }

    /// `text` as it is.
    pub fn text(&self, text: impl Display) -> Result<()> {
        self.write(format_args!("{text}"))
    }

    fn write(&self, args: std::fmt::Arguments) -> Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_fmt(args)
            .and_then(|_| out.flush())
            .map_err(|e| PickError::io("<stdout>", e))
    }
}

//! A one-line progress indicator on stderr, for work that takes more than a moment.
//!
//! It draws only when stderr is a terminal, so scripts, pipes and `--json` runs see nothing,
//! and it redraws at most ten times a second, so that counting 10,000 tiny tasks costs one
//! branch each when nobody is watching.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(100);

pub struct Progress {
    label: &'static str,
    enabled: bool,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(label: &'static str) -> Self {
        Progress {
            label,
            enabled: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    /// Shows `count unit` after the label, if the last redraw is old enough.
    pub fn show(&mut self, count: u64, unit: &str) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < REDRAW) {
            return;
        }
        self.last = Some(now);
        eprint!("\r\x1b[2K{}: {count} {unit}", self.label);
        let _ = std::io::stderr().flush();
    }

    /// Clears the line, so the report starts on a clean one.
    pub fn done(&mut self) {
        if self.enabled && self.last.is_some() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done();
        self.last = None;
    }
}

//! What the common `main` needs to know about a program's method: its name, and whether it
//! survives a worker that aborts its process.
//!
//! It sits apart from `cli`, so that the baseline (`sequential`) can name itself without
//! importing the command line that runs it: `cli` uses `sequential`, never the other way round.

/// A method as the reports and the common flags see it.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// The name in reports: "threading", "threadpool", "async", "multiprocessing".
    pub name: &'static str,
    /// Whether the method survives a worker that aborts its process (`--inject crash@N`): only
    /// worker processes do; in-process methods would die with it, so they refuse the flag.
    pub survives_crash: bool,
}

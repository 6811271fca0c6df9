//! One error type for everything that stops a run before or around its tasks.
//!
//! A task's own failure is not an `Error`: it is data, a `Status` in that task's outcome, and
//! the run goes on. An `Error` means the run cannot be made at all (bad flags, a file that is
//! not a database, a fork that failed), and the program exits 2 with its message on one line.

use std::fmt;

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong: a flag, a file, a database. Fixable by the user.
    #[error("{0}")]
    Input(String),
    /// The machine would not do what the run needs (a thread, a process, a pipe).
    #[error("{0}")]
    System(String),
}

impl Error {
    pub fn input(message: impl fmt::Display) -> Self {
        Error::Input(message.to_string())
    }

    pub fn system(message: impl fmt::Display) -> Self {
        Error::System(message.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! How a run writes, as plain data: the write flags, and the table every writing run has.
//!
//! These are read by the fixture (which makes the scratch copy a writing run works on), by the
//! report, and by the code that writes (`writes`); none of them runs anything, so this file
//! uses nothing else of the crate.

use std::time::Duration;

/// The table every writing run gets in its scratch copy. The `writes` preset inserts into it,
/// and after the run a fresh connection counts its rows (`rows_in_db_after` in the report).
pub const TABLE: &str = "task_writes";

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS task_writes (
    id      INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    payload TEXT NOT NULL
)";

/// How a write transaction starts (`--begin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Begin {
    /// `BEGIN DEFERRED`, SQLite's default: the write lock is asked for at the first write.
    Deferred,
    /// `BEGIN IMMEDIATE`: the write lock is taken (or waited for) at the start.
    #[default]
    Immediate,
}

/// `PRAGMA synchronous` (`--synchronous`): what a commit waits for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// SQLite's default: every commit is on disk before it returns (an `fsync` per commit).
    #[default]
    Full,
    /// In WAL mode, commits are synced at checkpoints only: a power cut may lose the last few,
    /// never corrupt the file.
    Normal,
}

/// Who writes (`--writer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WriterKind {
    /// Every worker writes on its own connection.
    #[default]
    Shared,
    /// One writer, fed through a channel, commits what is queued in one transaction.
    Single,
    /// Every worker writes on its own connection, taking one lock of the program's before
    /// `BEGIN IMMEDIATE` and giving it back after `COMMIT`: writers queue on the lock, not in
    /// SQLite's busy handler (a `Mutex` in a process; a lock file shared by processes).
    Lock,
}

/// The write flags of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSettings {
    pub busy_timeout: Duration,
    pub begin: Begin,
    pub synchronous: Synchronous,
    pub writer: WriterKind,
    /// How long each write transaction waits after its first statement, holding the write
    /// lock (`--hold-ms`): what an `.await` on something else inside a transaction does.
    pub hold: Duration,
}

impl Default for WriteSettings {
    /// rusqlite's busy timeout (5 s), `BEGIN IMMEDIATE`, SQLite's `synchronous`, shared writers,
    /// no wait inside a transaction.
    fn default() -> WriteSettings {
        WriteSettings {
            busy_timeout: Duration::from_secs(5),
            begin: Begin::Immediate,
            synchronous: Synchronous::Full,
            writer: WriterKind::Shared,
            hold: Duration::ZERO,
        }
    }
}

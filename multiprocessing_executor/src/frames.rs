//! The messages that cross the pipes and the writer's sockets, and how they are framed. The
//! parent writes a [`Job`] down a child's job pipe; the child writes [`ChildMessage`]s up its
//! result pipe. A frame is a 4-byte little-endian length, then that many bytes of postcard. With
//! `--writer single`, a child sends a [`WriteRequest`] to the writer process and gets a
//! [`WriteAnswer`] back, each one datagram (which keeps its own boundaries: no length in
//! front); the writer's last word to the parent is a [`WriterTally`], framed.
//!
//! postcard is the maintained serde format of bincode's kind (bincode's last release is only a
//! compile error telling its users to move). It is compact and not self-describing: a reader
//! must know the type it reads, so these are small types of their own, with no untagged enums
//! and no fields left out when empty (the JSON report types rely on both; postcard would
//! misread them). The child already has the whole workload in memory (fork copied it), so a job
//! is just a task id. This module knows nothing of the pool or of the child's loop: both use
//! it, it uses neither.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::unistd::Pid;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared::{Attempt, Error, Status};

use crate::memory::ChildMemory;

/// Parent to child: run this task.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    pub task: usize,
    /// Whether the parent counts it short, so that jobs may wait behind it, and the answers
    /// before it with them (see `pipelining.rs`).
    pub short: bool,
}

/// Child to parent.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ChildMessage {
    /// The child can take jobs (its connection it opens at its first query: see
    /// `lazy_connection.rs`). `at` is when, by the child's clock, so that the startup measured
    /// is the child's own, not how soon the parent looked.
    Ready { at: Duration },
    /// The child could not open the database, at its first query, and exits.
    Unavailable(String),
    /// One task's attempt.
    Done { task: usize, attempt: WireAttempt },
    /// The child's last word, when its job pipe closed: its own memory figures, where the
    /// platform gives them (see `memory.rs`).
    Exiting(ChildMemory),
}

/// [`Attempt`] as it crosses a pipe. Times are offsets from the run's [`shared::Clock`], which
/// the child got a copy of with everything else at the fork; `Instant` is the system-wide
/// monotonic clock, so its offsets and the parent's agree.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireAttempt {
    started: Duration,
    sql_started: Option<Duration>,
    finished: Duration,
    status: WireStatus,
}

impl WireAttempt {
    pub fn finished(&self) -> Duration {
        self.finished
    }

    /// How long the task took from its start, latency included.
    pub fn took(&self) -> Duration {
        self.finished.saturating_sub(self.started)
    }
}

impl From<Attempt> for WireAttempt {
    fn from(attempt: Attempt) -> WireAttempt {
        WireAttempt {
            started: attempt.started,
            sql_started: attempt.sql_started,
            finished: attempt.finished,
            status: attempt.status.into(),
        }
    }
}

impl From<WireAttempt> for Attempt {
    fn from(attempt: WireAttempt) -> Attempt {
        Attempt {
            started: attempt.started,
            sql_started: attempt.sql_started,
            finished: attempt.finished,
            status: attempt.status.into(),
        }
    }
}

/// [`Status`] as it crosses a pipe or a socket (a task that ran is never reported as not run).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireStatus {
    Ok { rows: u64, checksum: u64 },
    Failed(String),
    TimedOut,
}

impl From<Status> for WireStatus {
    fn from(status: Status) -> WireStatus {
        match status {
            Status::Ok { rows, checksum } => WireStatus::Ok { rows, checksum },
            Status::Failed(message) => WireStatus::Failed(message),
            // A task that ran is never `NotRun`; the arm only keeps the match whole.
            Status::TimedOut | Status::NotRun => WireStatus::TimedOut,
        }
    }
}

impl From<WireStatus> for Status {
    fn from(status: WireStatus) -> Status {
        match status {
            WireStatus::Ok { rows, checksum } => Status::Ok { rows, checksum },
            WireStatus::Failed(message) => Status::Failed(message),
            WireStatus::TimedOut => Status::TimedOut,
        }
    }
}

/// Worker child to writer process: write this task, unless `deadline` (an offset from the run's
/// [`shared::Clock`], as in [`WireAttempt`]) has passed. The answer goes to the address the
/// datagram came from.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WriteRequest {
    pub task: usize,
    pub deadline: Duration,
}

/// Writer process to worker child: how the write of `task` went, once committed (or not).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WriteAnswer {
    pub task: usize,
    pub status: WireStatus,
}

/// Writer process to parent, when told to finish: what it did, and its memory figures (see
/// [`ChildMessage::Exiting`]).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct WriterTally {
    pub commits: shared::GroupCommits,
    pub memory: ChildMemory,
}

/// One message as the bytes of its frame.
///
/// The guide's "data must be picklable", checked by the compiler: whatever crosses a pipe must
/// implement `Serialize`, so a type that cannot be written down does not compile where it is
/// framed (`frame` is postcard's `to_stdvec` with a length in front):
///
/// ```compile_fail,E0277
/// struct Job {
///     connection: rusqlite::Connection, // a handle to this process's SQLite, meaningless in another
/// }
/// let job = Job { connection: rusqlite::Connection::open_in_memory().unwrap() };
/// let bytes = postcard::to_stdvec(&job); // error: `Job: Serialize` is not satisfied
/// ```
///
/// Its twin, with the data that does make sense in another process, compiles:
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Job {
///     task: usize,
/// }
/// let bytes = postcard::to_stdvec(&Job { task: 3 }).unwrap();
/// assert_eq!(bytes, [3]);
/// ```
pub(crate) fn frame(message: &impl Serialize) -> Vec<u8> {
    let mut bytes = Vec::new();
    frame_into(&mut bytes, message);
    bytes
}

/// [`frame`], written at the end of `bytes`: a task's job or answer costs no allocation of its
/// own, once the buffer it goes into has grown.
pub(crate) fn frame_into(bytes: &mut Vec<u8>, message: &impl Serialize) {
    let at = bytes.len();
    bytes.extend_from_slice(&[0; 4]);
    // Our own plain structs and enums always serialise.
    *bytes = postcard::to_extend(message, std::mem::take(bytes)).expect("a frame serialises");
    let length = (bytes.len() - at - 4) as u32;
    bytes[at..at + 4].copy_from_slice(&length.to_le_bytes());
}

/// Reads one frame, blocking; `None` at end of file (the other side closed its end).
pub(crate) fn read_frame<T: DeserializeOwned>(reader: &mut impl Read) -> io::Result<Option<T>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_le_bytes(length) as usize;
    // A job is a few bytes: read on the stack, not into an allocation of its own.
    let (mut small, mut large) = ([0u8; 32], Vec::new());
    let body = match length <= small.len() {
        true => &mut small[..length],
        false => {
            large.resize(length, 0);
            &mut large[..]
        }
    };
    reader.read_exact(body)?;
    postcard::from_bytes(body)
        .map(Some)
        .map_err(io::Error::other)
}

/// The parent's read end of a child's result pipe, with the bytes read from it that do not
/// make a whole frame yet. The parent never blocks on it mid-run: it reads only what `poll`
/// said is there, and keeps a partial frame for the next read.
pub(crate) struct ResultPipe {
    pipe: File,
    partial: Vec<u8>,
    /// The child's, for the error if it writes a frame that does not decode.
    pid: Pid,
}

impl ResultPipe {
    pub fn new(pipe: File, pid: Pid) -> ResultPipe {
        ResultPipe {
            pipe,
            partial: Vec::new(),
            pid,
        }
    }

    /// One `read`, and the complete messages it brings, or `None` at end of file: the child
    /// has exited (or closed its pipe, which it does only by exiting).
    pub fn read_some(&mut self, buffer: &mut [u8]) -> shared::Result<Option<Vec<ChildMessage>>> {
        match self.pipe.read(buffer) {
            Ok(0) => Ok(None),
            Ok(n) => {
                self.partial.extend_from_slice(&buffer[..n]);
                self.split_frames().map(Some)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Some(Vec::new())),
            Err(_) => Ok(None),
        }
    }

    /// Reads up to end of file, for a child that has ended or is ending: everything it wrote is
    /// in the pipe, and nothing more will come.
    pub fn read_to_end(&mut self) -> shared::Result<Vec<ChildMessage>> {
        let mut rest = Vec::new();
        let _ = self.pipe.read_to_end(&mut rest);
        self.partial.extend_from_slice(&rest);
        self.split_frames()
    }

    /// Takes every complete frame off the front of `partial`, leaving a partial one for later.
    fn split_frames(&mut self) -> shared::Result<Vec<ChildMessage>> {
        let bytes = &self.partial;
        let mut messages = Vec::new();
        let mut at = 0;
        while bytes.len() - at >= 4 {
            // The slice is exactly 4 bytes long, so the conversion cannot fail.
            let length = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
            let end = at + 4 + length as usize;
            if bytes.len() < end {
                break;
            }
            let message = postcard::from_bytes(&bytes[at + 4..end]).map_err(|e| {
                let pid = self.pid;
                Error::system(format!("worker pid {pid} sent a malformed frame: {e}"))
            })?;
            messages.push(message);
            at = end;
        }
        self.partial.drain(..at);
        Ok(messages)
    }
}

impl AsFd for ResultPipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pipe.as_fd()
    }
}

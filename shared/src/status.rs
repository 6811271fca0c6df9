//! How a task ended, and when: the plain data every other part of a run passes around.
//!
//! A worker runs a task and gets back an [`Attempt`]: when it started, when its SQL started,
//! when it finished (offsets from the run's [`Clock`]), and its [`Status`]. A single writer
//! tallies the statuses of the tasks it committed in [`GroupCommits`]. Nothing here runs
//! anything, so every file that runs, writes or reports a task can use it.

use std::any::Any;
use std::time::{Duration, Instant};

/// The start of a run: every time in a report is an offset from it.
///
/// `Instant` is the monotonic clock, shared by every thread and, after `fork()`, by every child
/// process, so offsets taken anywhere in a run can be drawn on one timeline.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Time since the start of the run.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// The run's clock in a process that did not inherit it: one started `elapsed` ago, as the
    /// process that started it measured (a spawned worker process, which inherits no memory).
    pub fn started_ago(elapsed: Duration) -> Clock {
        let now = Instant::now();
        Clock {
            start: now.checked_sub(elapsed).unwrap_or(now),
        }
    }

    /// The instant at `offset` from the start of the run.
    pub fn at(&self, offset: Duration) -> Instant {
        self.start + offset
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The query ran to the end: how many rows, and a digest of every value in them.
    Ok { rows: u64, checksum: u64 },
    /// The query or the code running it failed, with the reason.
    Failed(String),
    /// The task ran past its timeout and was stopped.
    TimedOut,
    /// The task never started (the run ended first, or its worker was lost before it).
    NotRun,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Ok { .. } => "ok",
            Status::Failed(_) => "failed",
            Status::TimedOut => "timed_out",
            Status::NotRun => "not_run",
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok { .. })
    }

    /// How a task ends whose code panicked, for every method that catches the panic.
    pub fn panicked(payload: &(dyn Any + Send)) -> Status {
        Status::Failed(format!("panicked: {}", panic_message(payload)))
    }
}

/// One task's run on a worker: when it started, when its SQL started (after the latency), when
/// it finished, and how it ended. Offsets from the run's [`Clock`].
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub started: Duration,
    /// `None` when the task never reached its SQL (it timed out while waiting, or panicked).
    pub sql_started: Option<Duration>,
    pub finished: Duration,
    pub status: Status,
}

/// The payload of an injected panic, so that its message is recognisable and the panic hook
/// can stay quiet about it (see [`quiet_injected_panics`](crate::quiet_injected_panics)).
#[derive(Debug)]
pub struct InjectedPanic {
    pub task: usize,
}

/// The message of a panic payload: panics carry a `&str`, a `String` or anything else.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(injected) = payload.downcast_ref::<InjectedPanic>() {
        format!("injected panic in task {}", injected.task)
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// What a single writer did over a run: the report's note on it, for a thread and a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupCommits {
    /// Rows committed: those of the tasks answered ok.
    pub rows: u64,
    /// Transactions, one per batch: each is one commit, whatever the number of tasks in it.
    pub transactions: u64,
    /// The most tasks one transaction carried.
    pub largest_batch: usize,
}

impl GroupCommits {
    /// Counts one batch, from the statuses [`commit_together`](crate::commit_together) gave
    /// its tasks.
    pub fn record(&mut self, statuses: &[Status]) {
        self.transactions += 1;
        self.largest_batch = self.largest_batch.max(statuses.len());
        for status in statuses {
            if let Status::Ok { rows, .. } = status {
                self.rows += rows;
            }
        }
    }

    /// One sentence for the report: `writer` is who wrote ("one writer thread").
    pub fn sentence(&self, writer: &str) -> String {
        let per_commit = if self.transactions > 0 {
            self.rows as f64 / self.transactions as f64
        } else {
            0.0
        };
        format!(
            "{writer} committed {} in {}: {per_commit:.1} rows a commit on average, at most {} \
             in one",
            counted(self.rows, "row", "rows"),
            counted(self.transactions, "transaction", "transactions"),
            counted(self.largest_batch as u64, "task", "tasks"),
        )
    }
}

/// A count and its noun, singular for one: "1 task", "8 tasks", "1 worker process". Both forms
/// are given, since English does not always add an s ("child", "children").
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

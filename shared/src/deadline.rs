//! A task's deadline, enforced on its SQL by SQLite's progress handler: every few thousand
//! virtual-machine steps SQLite asks whether to go on, and past the deadline the answer is no,
//! so the statement stops with `SQLITE_INTERRUPT`.
//!
//! The handler is installed once per connection, as it opens ([`stop_at_deadlines`]), and
//! reads the deadline of the task that its thread runs, which each task sets and clears
//! ([`InterruptAtDeadline`]). Installing it around each task instead, with the deadline in the
//! closure, cost a boxed closure and two calls into SQLite per task: 48 ns against 3, a sixth
//! of a `SELECT 1` (`cargo bench -p bench --bench task`; docs/benchmarks.md has the breakdown).
//!
//! It imports nothing of this crate, so that both the connection's opening (`database`) and
//! the SQL (`sql`) can use it.

use std::cell::Cell;
use std::time::Instant;

use rusqlite::Connection;

/// How often, in SQLite virtual-machine steps, the progress handler checks the deadline: often
/// enough that a query stops soon after it, and seldom enough that the check (one read of the
/// clock) is a small part of the work between two checks.
const PROGRESS_STEPS: i32 = 2_000;

thread_local! {
    /// The deadline of the task whose SQL this thread runs, if it runs one. A statement runs on
    /// the thread that steps it, so a connection's handler, whichever thread runs it, reads the
    /// deadline of the task it is running.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Installs the progress handler that stops a statement past the deadline of the task running
/// it. Called once per connection, as it opens (`Database::open` does): a connection opened any
/// other way runs its tasks' SQL with no deadline.
pub(crate) fn stop_at_deadlines(conn: &Connection) -> rusqlite::Result<()> {
    let past_deadline = || {
        DEADLINE
            .get()
            .is_some_and(|deadline| Instant::now() >= deadline)
    };
    conn.progress_handler(PROGRESS_STEPS, Some(past_deadline))
}

/// The deadline of a task's statements, set for as long as this lives and cleared on drop,
/// panics included, so that no later statement on this thread is stopped at this task's
/// deadline. The handler that reads it is the connection's ([`stop_at_deadlines`]).
pub(crate) struct InterruptAtDeadline {
    /// The deadline this one replaced, given back on drop.
    outer: Option<Instant>,
}

impl InterruptAtDeadline {
    pub(crate) fn new(deadline: Instant) -> InterruptAtDeadline {
        InterruptAtDeadline {
            outer: DEADLINE.replace(Some(deadline)),
        }
    }
}

impl Drop for InterruptAtDeadline {
    fn drop(&mut self) {
        DEADLINE.set(self.outer);
    }
}

/// The deadline this thread's task runs to, if it runs one.
#[cfg(test)]
pub(crate) fn current() -> Option<Instant> {
    DEADLINE.get()
}

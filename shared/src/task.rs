//! Running one task: its latency, its SQL, its faults, the panics it may raise.
//!
//! Every method runs a task's SQL through [`execute`], so the rows count and the checksum of a
//! task are the same whichever method ran it, and each report can be checked against the
//! sequential baseline. What differs between methods is everything around it: who waits the
//! task's latency and how, which thread or process runs the SQL, and how the outcome gets back.
//! The SQL itself, and how it is stopped at the task's deadline, is in `sql`.

use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::sql::{raise_injected_fault, run_sql, status_of};
use crate::status::{Attempt, Clock, InjectedPanic, Status};
use crate::workload::Task;

/// Runs a task start to finish on the calling thread, the way every blocking method does:
/// waits its latency with a blocking sleep (the thread does nothing else meanwhile: that is the
/// cost async avoids), then runs its SQL on `conn` with [`execute`].
///
/// `started` is when the task started, on the run's `clock`, as the caller read it (a reading
/// of the clock costs about what a `SELECT 1` does, so each is read once). The timeout counts
/// from it, latency included: a wait that would end past the deadline is cut
/// short and the task is timed out without running its SQL.
pub fn run_blocking(
    conn: &Connection,
    task: &Task,
    timeout: Duration,
    clock: &Clock,
    started: Duration,
) -> Attempt {
    run_blocking_with(task, timeout, clock, started, || conn)
}

/// [`run_blocking`], taking the connection only after the wait: `connect` is called when the
/// SQL is about to run (for example to borrow one from a [`ConnectionPool`]), so that threads
/// waiting their latency hold no connection. Time spent in `connect` counts as waiting.
///
/// [`ConnectionPool`]: crate::pool::ConnectionPool
pub fn run_blocking_with<C: TaskConnection>(
    task: &Task,
    timeout: Duration,
    clock: &Clock,
    started: Duration,
    connect: impl FnOnce() -> C,
) -> Attempt {
    let deadline = clock.at(started) + timeout;
    let latency = task.latency();
    if !latency.is_zero() {
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(latency.min(left));
        if left < latency {
            return Attempt {
                started,
                sql_started: None,
                finished: clock.now(),
                status: Status::TimedOut,
            };
        }
    }
    let sql_started;
    let status = match &task.writes {
        // A write handed to the single writer needs no connection here, and holding one while
        // it waits to be committed would keep other tasks from theirs.
        Some(writes) if writes.is_single() => {
            sql_started = clock.now();
            writes.hand_over(task, deadline)
        }
        _ => {
            let conn = connect();
            // Read again only if time can have passed since `started`: with no latency and a
            // connection at hand, the SQL starts when the task does, and a second read would
            // give the same figure, for what a `SELECT 1` costs.
            sql_started = match latency.is_zero() && !conn.waited() {
                true => started,
                false => clock.now(),
            };
            execute_at(&conn, task, deadline, clock.at(sql_started))
        }
    };
    Attempt {
        started,
        sql_started: Some(sql_started),
        finished: clock.now(),
        status,
    }
}

/// The connection a task's SQL runs on, as [`run_blocking_with`]'s `connect` gives it: one at
/// hand, lent by a [`ConnectionPool`](crate::pool::ConnectionPool), or opened on first use.
pub trait TaskConnection: Deref<Target = Connection> {
    /// Whether getting it may have taken time: a pool's wait for a connection given back, or an
    /// open. The task's SQL then starts later than the task, and the clock is read again.
    fn waited(&self) -> bool;
}

impl TaskConnection for &Connection {
    fn waited(&self) -> bool {
        false
    }
}

/// Runs `work` and turns a panic inside it into a failed attempt, so that a bug in one task
/// costs that task and not the worker running it (and with it every task queued behind).
/// `started` is when the task started, on the run's `clock`, which a panicked attempt reports.
///
/// `AssertUnwindSafe` is sound here because all the work shares with the rest of the run is its
/// connection, and SQLite keeps a connection consistent when a statement is dropped mid-way.
pub fn catch_panic(clock: &Clock, started: Duration, work: impl FnOnce() -> Attempt) -> Attempt {
    panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Attempt {
        started,
        sql_started: None,
        finished: clock.now(),
        status: Status::panicked(payload.as_ref()),
    })
}

/// Keeps the default panic hook from printing a message and a backtrace hint for the panics
/// that `--inject panic` causes on purpose: the report already shows them as failed tasks.
/// Every other panic is a real bug and is printed as usual.
pub fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<InjectedPanic>().is_none() {
                default(info);
            }
        }));
    });
}

/// Runs a task's SQL on `conn` and the program's work on its rows, stopping at `deadline`.
///
/// This is the part of a task that is the same in every method. An injected `panic` or `crash`
/// happens here, in the code that runs the task, wherever each method runs it. A task that
/// writes goes the way its run writes (see `writes`): in a transaction of its own on `conn`, or
/// to the single writer.
pub fn execute(conn: &Connection, task: &Task, deadline: Instant) -> Status {
    execute_at(conn, task, deadline, Instant::now())
}

/// [`execute`], for a caller that has just read the clock: `now` is that reading.
fn execute_at(conn: &Connection, task: &Task, deadline: Instant, now: Instant) -> Status {
    if let Some(writes) = &task.writes {
        return writes.execute(conn, task, deadline);
    }
    raise_injected_fault(task);
    if now >= deadline {
        return Status::TimedOut;
    }
    status_of(run_sql(conn, task, deadline))
}

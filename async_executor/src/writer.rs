//! `--writer single` under async: a task awaits its write on the event loop, as it awaits its
//! latency, instead of sending it to a connection.
//!
//! Read `lib.rs` first. With `--writer single`, one writer thread commits every write (see
//! `shared::writes`): it takes every write queued for it and commits them together, so the more
//! writes wait for it, the more rows each commit, and its sync to disk, carries. Sent to the
//! connections like any other SQL, a write would block its connection's thread until the writer
//! had committed it: never more than `--connections` writes (4) would wait at the writer, and no
//! commit would carry more than 4 rows. Here the task hands its write to the writer itself and
//! awaits the answer on a oneshot channel. Meanwhile it is a receiver on the loop, holding no
//! thread and no connection, so every task in flight can have its write waiting at once, and
//! the groups grow with them.

use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use shared::{Attempt, Clock, Outcome, Status, Task, Writes};
use tokio::sync::oneshot;
use tracing::debug;

/// The name in the report of the tasks whose write went to the single writer.
const WRITER: &str = "writer";

/// The rest of a task whose latency is over and whose write goes to the single writer.
pub(crate) async fn write(
    task: &Task,
    writes: &Writes,
    started: Duration,
    deadline: Instant,
    clock: Clock,
) -> Outcome {
    let sql_started = clock.now();
    debug!(task = task.id, "handing the write to the writer");
    let status = hand_over(task, writes, deadline).await;
    let attempt = Attempt {
        started,
        sql_started: Some(sql_started),
        finished: clock.now(),
        status,
    };
    Outcome::new(task, &WRITER.into(), attempt)
}

async fn hand_over(task: &Task, writes: &Writes, deadline: Instant) -> Status {
    let (done, answer) = oneshot::channel();
    // Called once the task is answered, usually on the writer's thread after its group's
    // commit; the send wakes the task on the loop.
    let answered = Box::new(move |status| {
        let _ = done.send(status);
    });
    // An injected panic strikes in the task's own code, in `hand_over_with`, before the write
    // is handed over. Caught here, it fails this task alone, as on the connections' threads;
    // left to tokio, it would end the task without an outcome, and the report would call the
    // task not run.
    let handed = panic::catch_unwind(AssertUnwindSafe(|| {
        writes.hand_over_with(task, deadline, answered)
    }));
    if let Err(payload) = handed {
        return Status::panicked(payload.as_ref());
    }
    // No `timeout_at` here, unlike the SQL in `lib.rs`: the writer keeps the deadline itself. A
    // task it reaches past its deadline is answered `timed out`, unwritten; a write still running
    // at the deadline is stopped there by SQLite's progress handler. Walking away at the deadline
    // would open a race: a row written just before it, in a group whose commit ends just after,
    // would be in the table while its task reported timed out. Waiting for the answer usually
    // costs a commit or two past the deadline: the writes ahead of this one take moments each,
    // or are skipped as late. (A hung write ahead of it holds it up to that write's own
    // deadline, which is later than its own only if that task started later.) The report then
    // says what the database holds; and once the last task has ended, the writer has nothing
    // left to write while the run counts the rows.
    answer
        .await
        .unwrap_or_else(|_| Status::Failed("the writer ended before answering".to_string()))
}

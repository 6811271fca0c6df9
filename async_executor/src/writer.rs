//! Writes under async: where a task's write goes with each `--writer`, and what a transaction
//! that awaits inside itself (`--hold-ms`) costs the others.
//!
//! Read `lib.rs` first. SQLite lets one connection write at a time (see `shared::writes`), so
//! what a write waits for, and what it holds while it waits, decides how writers fare.
//!
//! # `--writer single`: the write awaited at the writer
//!
//! One writer thread commits every write: it takes every write queued for it and commits them
//! together, so the more writes wait for it, the more rows each commit, and its sync to disk,
//! carries. Sent to the connections like any other SQL, a write would block its connection's
//! thread until the writer had committed it: never more than `--connections` writes (4) would
//! wait at the writer, and no commit would carry more than 4 rows. Here the task hands its
//! write to the writer itself and awaits the answer on a oneshot channel. Meanwhile it is a
//! receiver on the loop, holding no thread and no connection, so every task in flight can have
//! its write waiting at once, and the groups grow with them.
//!
//! # `--writer lock`: a tokio `Mutex` awaited before the connection
//!
//! Each write runs in a transaction of its own on a connection, as with `shared`, but the task
//! first awaits [`WriteLock`], a `tokio::sync::Mutex<()>`, and lets it go once its write is
//! answered. The writers then queue on the loop, first come first served, and the next is woken
//! the moment the one before it is answered; with `shared` they queue in SQLite's busy handler,
//! each asleep on a connection's thread, trying again after sleeps that grow to 100 ms.
//!
//! Why tokio's `Mutex`, when the thread programs take a std one: the lock is held across
//! `.await`s (the wait for a connection, the answer from its thread, the hold below). Held
//! across an `.await`, a std guard makes the task's future not `Send`, and `JoinSet::spawn`
//! refuses it:
//!
//! ```compile_fail
//! let lock = std::sync::Arc::new(std::sync::Mutex::new(()));
//! let mut writers = tokio::task::JoinSet::new();
//! writers.spawn(async move {
//!     let _turn = lock.lock().unwrap();
//!     tokio::task::yield_now().await;
//! });
//! ```
//!
//! And spawned where `Send` is not asked (a `LocalSet`), it would be worse: the next writer's
//! `lock()` would block the loop's one thread, and with it the task holding the lock, which
//! can only give it back on that very thread. tokio's lock is awaited instead: a writer waiting
//! for it is a waker in the lock's queue, and the loop goes on with everything else.
//!
//! ```
//! let lock = std::sync::Arc::new(tokio::sync::Mutex::new(()));
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async move {
//!     let mut writers = tokio::task::JoinSet::new();
//!     writers.spawn(async move {
//!         let _turn = lock.lock().await;
//!         tokio::task::yield_now().await;
//!     });
//!     writers.join_all().await;
//! });
//! ```
//!
//! The lock comes first, the connection after it: a task that held a connection while it
//! waited for the lock would keep it from the lock's holder, and with one connection the holder
//! would never get one.
//!
//! # `--hold-ms`: a transaction that awaits inside itself
//!
//! Code that awaits something else (a web request, another service) between two statements of
//! a transaction holds SQLite's write lock for as long as that takes. Here that wait is a real
//! `tokio::time::sleep` on the loop, between two steps sent to one connection: the transaction's
//! first statement, then the rest and the commit (`transaction.rs`). The loop is free meanwhile;
//! the database is not. Every other writer waits out the whole hold: with `shared` in the busy
//! handler, each on a connection whose thread then serves nobody; with `lock` on the loop,
//! holding no connection. The held connection itself serves nobody either, since the rest of
//! the transaction must run on it: with few connections, readers queue behind the hold too
//! (with `--connections 1`, every one of them).

use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use shared::{Attempt, Clock, Outcome, Plan, Status, Task, WriterKind, Writes};
use tokio::sync::{Mutex, MutexGuard, oneshot};
use tokio::time;
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

/// `--writer lock` under async: the lock every write awaits before it goes to a connection, and
/// holds until its write is answered.
pub(crate) struct WriteLock(Mutex<()>);

impl WriteLock {
    /// The lock of a run with `--writer lock`; `None` for any other writer.
    pub(crate) fn of(plan: &Plan) -> Option<WriteLock> {
        plan.writes()
            .is_some_and(|w| w.settings.writer == WriterKind::Lock)
            .then(|| WriteLock(Mutex::new(())))
    }

    /// Waits on the loop for this task's turn to write; `None` if its deadline came first. The
    /// turn ends when the guard is dropped.
    pub(crate) async fn take(&self, task: &Task, deadline: Instant) -> Option<MutexGuard<'_, ()>> {
        debug!(task = task.id, "waiting for the write lock");
        time::timeout_at(deadline.into(), self.0.lock()).await.ok()
    }
}

/// With `--writer lock`, the plan the tasks run: their writes leave the lock to this program
/// ([`WriteLock`]), so that a connection does not take `shared`'s std `Mutex` as well. `None`
/// for any other writer.
pub(crate) fn lock_on_the_loop(plan: &Plan) -> Option<Plan> {
    let writes = plan
        .writes()
        .filter(|w| w.settings.writer == WriterKind::Lock)?;
    let mut locked = plan.clone();
    locked.set_writes(Writes::locked_by_the_method(writes.settings));
    Some(locked)
}

//! `--sql-on spawn-blocking`: each query on tokio's blocking threads, with a connection lent
//! from a pool, as deadpool-sqlite and most hand-written async code do it.
//!
//! Read `lib.rs` first. There, SQL goes to a few connections that each have a thread of their
//! own (tokio-rusqlite, `connections.rs`) and drain one queue. The other common answer to
//! "SQLite blocks, so where does the SQL run?" is this one: the task waits for a free
//! connection on the event loop (deadpool's `pool.get().await`), then sends a closure that uses
//! it to `tokio::task::spawn_blocking` (deadpool-sqlite's `interact`), and awaits the result.
//! tokio runs the closure on a thread of its blocking pool, starting a new thread whenever none
//! is idle, and keeps idle ones for ten seconds for the next closure.
//!
//! What it costs against a thread per connection, measured by `scripts/compare.sh` on io, cpu,
//! fetch, overhead and 1,000 waits (the questions table, `docs/questions.md`): every query is a
//! trip to a blocking thread and back, where a draining connection thread goes straight from
//! one query to the next; and the blocking threads come and go with the load, where the
//! connection threads are started once. The pool's size, not the number of blocking threads,
//! bounds how much SQL runs at once: a task holds a permit for a connection before it asks for
//! a thread, so no more blocking threads are ever busy than there are connections.
//!
//! Why `shared`'s own pool and not deadpool-sqlite: deadpool-sqlite 0.14 is built against the
//! same rusqlite (0.40), but needs Rust 1.95, and this workspace builds with 1.89; and the
//! thread methods already lend their connections from `shared::ConnectionPool`, so the three
//! ways of running SQL differ only in where it runs, not in whose pool lends the connection. A
//! tokio `Semaphore` with one permit per connection makes the wait for one async.
//!
//! A hung query is stopped as in every method: SQLite's progress handler interrupts it at the
//! task's deadline, on the blocking thread that runs it (`shared::execute`).
//!
//! A write transaction that waits inside itself (`--hold-ms`, `transaction.rs`) needs one
//! connection for its two steps: [`Lender::lend`] lends it for the whole transaction.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use shared::{Attempt, Clock, ConnectionPool, Database, Outcome, Result, Status, Task};
use tokio::sync::{Semaphore, oneshot};
use tokio::time;

use crate::only_waited;

/// The connections, lent one per query, and a permit for each, awaited on the loop.
pub(crate) struct Lender {
    pool: Arc<ConnectionPool>,
    permits: Arc<Semaphore>,
}

impl Lender {
    pub(crate) fn open(database: &Database, connections: usize) -> Result<Lender> {
        Ok(Lender {
            pool: Arc::new(ConnectionPool::open(database, connections)?),
            permits: Arc::new(Semaphore::new(connections)),
        })
    }

    /// A task's SQL on a blocking thread, with a connection lent for it, under its deadline.
    pub(crate) async fn run_sql(
        &self,
        task: Task,
        started: Duration,
        deadline: Instant,
        clock: Clock,
    ) -> Outcome {
        // `pool.get().await`: the wait for a free connection is on the loop, under the deadline.
        let permit = Arc::clone(&self.permits).acquire_owned();
        let Ok(Ok(permit)) = time::timeout_at(deadline.into(), permit).await else {
            return only_waited(&task, started, Status::TimedOut, clock);
        };
        let pool = Arc::clone(&self.pool);
        let job = task.clone();
        // `interact`: the closure runs on one of tokio's blocking threads, which it blocks for
        // the whole query. The permit promises an idle connection, so `take` does not wait.
        let ran = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.take();
            let sql_started = clock.now();
            let status =
                panic::catch_unwind(AssertUnwindSafe(|| shared::execute(&conn, &job, deadline)))
                    .unwrap_or_else(|payload| Status::panicked(payload.as_ref()));
            let thread = std::thread::current();
            let name: Arc<str> = thread.name().unwrap_or("blocking").into();
            (name, sql_started, status)
        })
        .await;
        let Ok((thread, sql_started, status)) = ran else {
            let lost = "its blocking thread ended before answering".to_string();
            return only_waited(&task, started, Status::Failed(lost), clock);
        };
        let attempt = Attempt {
            started,
            sql_started: Some(sql_started),
            finished: clock.now(),
            status,
        };
        Outcome::new(&task, &thread, attempt)
    }
}

/// A connection lent for the length of a transaction: a blocking thread takes it from the pool
/// and keeps it, running each step the task sends ([`Lent::call`]), until the task drops this.
///
/// deadpool-sqlite would hand the task the connection itself and send it to a blocking thread
/// for each step. `shared`'s pool lends a connection only to the thread that takes it (its
/// `Lease` borrows the pool), so here the thread stays with it and waits on a channel between
/// the steps: one more blocking thread asleep while the transaction waits, never more of them
/// than there are permits.
pub(crate) struct Lent {
    /// The blocking thread's name, for the report.
    pub(crate) name: Arc<str>,
    steps: mpsc::Sender<Step>,
}

/// A step of a transaction, sent to the thread that keeps its connection.
type Step = Box<dyn FnOnce(&rusqlite::Connection) + Send>;

impl Lender {
    /// A connection kept for one task until the [`Lent`] is dropped; waited for on the loop,
    /// under the deadline, as [`Lender::run_sql`] waits for one.
    pub(crate) async fn lend(&self, deadline: Instant) -> std::result::Result<Lent, Status> {
        let permit = Arc::clone(&self.permits).acquire_owned();
        let Ok(Ok(permit)) = time::timeout_at(deadline.into(), permit).await else {
            return Err(Status::TimedOut);
        };
        let pool = Arc::clone(&self.pool);
        let (steps, sent) = mpsc::channel::<Step>();
        let (ready, lent) = oneshot::channel::<Arc<str>>();
        tokio::task::spawn_blocking(move || {
            // Declared first, dropped last: the connection is back in the pool before its
            // permit is, as the permit promises.
            let _permit = permit;
            let conn = pool.take();
            let _ = ready.send(std::thread::current().name().unwrap_or("blocking").into());
            // Until the task drops its `Lent`, which ends this loop.
            for step in sent {
                step(&conn);
            }
        });
        let name = lent.await.map_err(|_| {
            Status::Failed("its blocking thread ended before taking a connection".to_string())
        })?;
        Ok(Lent { name, steps })
    }
}

impl Lent {
    /// Runs `step` on the thread that keeps the connection and returns what it returns; `None`
    /// if that thread has ended. `step` must not panic: the thread, and the lease, would end.
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        step: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
    ) -> Option<R> {
        let (done, answer) = oneshot::channel();
        let step: Step = Box::new(move |conn| {
            let _ = done.send(step(conn));
        });
        self.steps.send(step).ok()?;
        answer.await.ok()
    }
}

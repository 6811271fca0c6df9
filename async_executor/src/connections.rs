//! The SQL side of the async program: a few SQLite connections, each on a thread of its own
//! (tokio-rusqlite), draining one queue of SQL that tasks have made ready.
//!
//! Read `lib.rs` first: there, a task waits its latency on the event loop and then hands its SQL
//! here with [`Pool::submit`], awaiting the answer on a oneshot channel. This file is why that
//! hand-off is cheap and why a hung query delays nobody else's: SQLite blocks the thread that
//! runs it, so the connections are threads, and the way work reaches them matters.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use shared::{Clock, Database, Result, Status, Task};
use tokio::sync::oneshot;
use tracing::debug;

/// The connections, the SQL waiting for one, and which of them are idle.
///
/// A task whose SQL is ready puts it in one queue that every connection serves. An idle
/// connection is woken with a `call` that drains the queue: it runs the waiting SQL back to
/// back, on its own thread, until none is left, and only then goes idle again. The obvious
/// alternative, giving task `n` connection `n % 4`, has a trap: tokio-rusqlite queues the calls
/// made on a connection, so every task that drew the connection of a hung query would wait
/// behind it until the hang was stopped, past its own timeout. Here only an idle connection is
/// ever called, and a busy one simply takes no more work: the others serve the queue.
///
/// Why a queue the connections drain, rather than lending an idle connection to each task for
/// one `call`: the loan makes every query a round trip through the event loop (the connection's
/// thread goes to sleep after each query until the loop hands it the next), which costs a
/// context switch per query. Draining, a busy connection goes from one query to the next. (On
/// this project's 2-core machine, 10,000 × `SELECT 1`: about 10 µs a task lent, 2 µs drained.)
pub(crate) struct Pool {
    pub(crate) connections: Vec<Connection>,
    /// A std `Mutex`, not tokio's: it is held for a push, a pop or a short scan, never across
    /// an `.await`, and the connections' threads, which are not async, take it too.
    queue: Mutex<SqlQueue>,
}

/// What the connections share: the SQL waiting to run, and who is free to run it. One lock for
/// both, so that a task never queues its SQL just as the last busy connection, having found the
/// queue empty, goes idle without seeing it.
struct SqlQueue {
    jobs: VecDeque<Job>,
    idle: Vec<usize>,
}

/// One task's SQL, waiting for a connection.
struct Job {
    task: Task,
    deadline: Instant,
    clock: Clock,
    done: oneshot::Sender<SqlAnswer>,
}

/// How a task's SQL went, and on which connection.
pub(crate) struct SqlAnswer {
    pub(crate) connection: usize,
    pub(crate) sql_started: Duration,
    pub(crate) status: Status,
}

/// One SQLite connection and the thread that runs it.
pub(crate) struct Connection {
    pub(crate) name: Arc<str>,
    sqlite: tokio_rusqlite::Connection,
}

impl Pool {
    pub(crate) fn open(database: &Database, count: usize) -> Result<Pool> {
        let mut connections = Vec::with_capacity(count);
        for i in 0..count {
            let conn = database.open()?;
            // `from` starts the connection's own thread, which runs every closure handed to
            // `call` on this connection, one at a time, in the order they were sent.
            let sqlite = tokio_rusqlite::Connection::from(conn);
            connections.push(Connection {
                name: format!("conn-{i}").into(),
                sqlite,
            });
        }
        let queue = SqlQueue {
            jobs: VecDeque::new(),
            idle: (0..count).rev().collect(),
        };
        Ok(Pool {
            connections,
            queue: Mutex::new(queue),
        })
    }

    /// A push or a pop cannot stop half-way, so the state is whole even if a holder panicked.
    fn queue(&self) -> MutexGuard<'_, SqlQueue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task's SQL, wakes an idle connection if there is one, and returns where the
    /// answer will come.
    pub(crate) fn submit(
        self: &Arc<Self>,
        task: &Task,
        deadline: Instant,
        clock: Clock,
    ) -> oneshot::Receiver<SqlAnswer> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            task: task.clone(),
            deadline,
            clock,
            done,
        };
        let idle = {
            let mut queue = self.queue();
            queue.jobs.push_back(job);
            queue.idle.pop()
        };
        if let Some(index) = idle {
            self.wake(index);
        }
        answer
    }

    /// Takes a task's SQL back out of the queue, if no connection has started it yet.
    pub(crate) fn withdraw(&self, task: usize) -> bool {
        let mut queue = self.queue();
        match queue.jobs.iter().position(|job| job.task.id == task) {
            Some(i) => queue.jobs.remove(i).is_some(),
            None => false,
        }
    }

    /// Calls an idle connection to drain the queue.
    fn wake(self: &Arc<Self>, index: usize) {
        let pool = Arc::clone(self);
        let sqlite = self.connections[index].sqlite.clone();
        // Spawned, not awaited: the task that woke the connection awaits the answer to its own
        // SQL, which whichever connection is free first will send. If the connection's thread
        // were gone, the call would fail and the connection would just never be idle again.
        tokio::spawn(async move {
            let _ = sqlite.call_raw(move |conn| pool.drain(index, conn)).await;
        });
    }

    /// On connection `index`'s thread: runs the waiting SQL until there is none, then goes idle.
    fn drain(&self, index: usize, conn: &mut rusqlite::Connection) {
        loop {
            let job = {
                let mut queue = self.queue();
                match queue.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        queue.idle.push(index);
                        return;
                    }
                }
            };
            let sql_started = job.clock.now();
            debug!(connection = %self.connections[index].name, task = job.task.id, "running SQL");
            // This runs on the connection's thread, not on the event loop: SQLite blocks its
            // thread for the whole query, and so does the work on the rows inside
            // `shared::execute`. That is why both run here, where the connections run in
            // parallel, and the loop meanwhile goes on serving every other task.
            //
            // tokio-rusqlite does not catch panics: one escaping this closure would end the
            // connection's thread, and every later call on the connection would fail. Caught
            // here, a panic costs its own task only.
            //
            // No timeout is needed around this: `shared::execute` installs SQLite's progress
            // handler, which interrupts the statement at the task's deadline, on this thread.
            // (A `tokio::time::timeout` on the event loop would only stop the waiting: the
            // query would go on running here.)
            let status = panic::catch_unwind(AssertUnwindSafe(|| {
                shared::execute(conn, &job.task, job.deadline)
            }))
            .unwrap_or_else(|payload| Status::panicked(payload.as_ref()));
            // The task may have stopped waiting (it timed out): then nobody needs the answer.
            let _ = job.done.send(SqlAnswer {
                connection: index,
                sql_started,
                status,
            });
        }
    }

    /// Closes every connection, which ends its thread. Run once every task is done.
    pub(crate) async fn close(&self) {
        for connection in &self.connections {
            // A read-only connection has nothing to lose on close: an error here changes nothing
            // the report could say.
            let _ = connection.sqlite.clone().close().await;
        }
    }
}

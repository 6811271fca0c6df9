//! The SQL side of the async program: a few SQLite connections, each on a thread of its own
//! (tokio-rusqlite), draining one queue of SQL that tasks have made ready.
//!
//! Read `lib.rs` first: there, a task waits its latency on the event loop and then hands its SQL
//! here with [`Pool::submit`], awaiting the answer on a oneshot channel. This file is why that
//! hand-off is cheap and why a hung query delays nobody else's: SQLite blocks the thread that
//! runs it, so the connections are threads, and the way work reaches them matters.
//!
//! A write transaction that waits inside itself (`--hold-ms`, `transaction.rs`) cannot go
//! through the queue: its two steps must run on one connection, with nobody else's SQL in
//! between. [`Pool::reserve`] keeps a connection for one task until it is given back, as sqlx's
//! `pool.begin().await` does.

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

/// What the connections share: the SQL waiting to run, the tasks waiting to keep a connection,
/// and who is free to serve them. One lock for all three, so that a task never queues its SQL
/// (or asks for a connection) just as the last busy connection, having found nothing waiting,
/// goes idle without seeing it.
struct SqlQueue {
    jobs: VecDeque<Job>,
    idle: Vec<usize>,
    /// Tasks waiting in [`Pool::reserve`], served before `jobs` whenever a connection comes
    /// free: a task holding the write lock may be among them, and every writer waits for it.
    keepers: VecDeque<oneshot::Sender<Reserved>>,
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
            keepers: VecDeque::new(),
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

    /// A connection kept for this task alone until the [`Reserved`] is dropped: an idle one at
    /// once, or the first to come free. The caller bounds the wait (at its deadline); `None`
    /// only if the pool is gone.
    pub(crate) async fn reserve(self: &Arc<Self>) -> Option<Reserved> {
        let (keeper, reserved) = oneshot::channel();
        {
            let mut queue = self.queue();
            if let Some(index) = queue.idle.pop() {
                return Some(Reserved::new(self, index));
            }
            queue.keepers.push_back(keeper);
        }
        reserved.await.ok()
    }

    /// Hands connection `index`, just come free, to the first task still waiting to keep one;
    /// `false` if none is.
    fn hand_to_keeper(self: &Arc<Self>, queue: &mut SqlQueue, index: usize) -> bool {
        while let Some(keeper) = queue.keepers.pop_front() {
            match keeper.send(Reserved::new(self, index)) {
                Ok(()) => return true,
                // That task stopped waiting (its deadline came): the connection was never its
                // to give back, and goes on to the next.
                Err(unwanted) => unwanted.forget(),
            }
        }
        false
    }

    /// What a [`Reserved`] does when dropped: hands the connection to the next task waiting to
    /// keep one, or else sets it draining the queue, or else leaves it idle.
    fn give_back(self: &Arc<Self>, index: usize) {
        let queued = {
            let mut queue = self.queue();
            if self.hand_to_keeper(&mut queue, index) {
                return;
            }
            let queued = !queue.jobs.is_empty();
            if !queued {
                queue.idle.push(index);
            }
            queued
        };
        if queued {
            self.wake(index);
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

    /// On connection `index`'s thread: runs the waiting SQL until there is none, then goes idle;
    /// unless a task is waiting to keep a connection, which then gets this one.
    fn drain(self: &Arc<Self>, index: usize, conn: &mut rusqlite::Connection) {
        loop {
            let job = {
                let mut queue = self.queue();
                if self.hand_to_keeper(&mut queue, index) {
                    return;
                }
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

/// A connection kept for one task, for the length of a transaction: nobody else's SQL runs on it
/// until this is dropped, when it is given back ([`Pool::give_back`]).
///
/// It is what travels to a waiting task, not just the connection's index: a task whose deadline
/// comes just as the connection is sent to it drops its end of the channel with this inside,
/// and the drop gives the connection back. An index would be lost with the channel, and the
/// connection with it.
pub(crate) struct Reserved {
    pub(crate) name: Arc<str>,
    sqlite: tokio_rusqlite::Connection,
    index: usize,
    /// Where it goes back to: `None` once handed on by [`Reserved::forget`].
    pool: Option<Arc<Pool>>,
}

impl Reserved {
    fn new(pool: &Arc<Pool>, index: usize) -> Reserved {
        let connection = &pool.connections[index];
        Reserved {
            name: Arc::clone(&connection.name),
            sqlite: connection.sqlite.clone(),
            index,
            pool: Some(Arc::clone(pool)),
        }
    }

    /// Drops this without giving the connection back: for one the pool is handing on itself.
    fn forget(mut self) {
        self.pool = None;
    }

    /// Runs `step` on the connection's thread and returns what it returns; `None` if that thread
    /// has ended. `step` must not panic: tokio-rusqlite would lose the thread.
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        step: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
    ) -> Option<R> {
        self.sqlite.call_raw(move |conn| step(conn)).await.ok()
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.give_back(self.index);
        }
    }
}

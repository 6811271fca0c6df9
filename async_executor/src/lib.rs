//! `async_executor`: every query a task on one event loop, the SQL on a few connection threads.
//!
//! # The method
//!
//! This is the Rust counterpart of the guide's asyncio example,
//!
//! ```python
//! results = await asyncio.gather(*(run_query(t) for t in tasks), return_exceptions=True)
//! ```
//!
//! Each query becomes a tokio task, spawned into a [`JoinSet`] and gathered at the end. Every
//! outcome is kept, failures and timeouts included, as `return_exceptions=True` keeps the
//! exceptions instead of letting the first one cancel the rest. A task first waits its latency
//! (the simulated round trip to a remote database) with `tokio::time::sleep`: a timer on the
//! event loop, not a sleeping thread. A waiting task is a few hundred bytes on the heap, and one
//! thread drives all of them, which is why async is the method for programs that mostly wait.
//!
//! # What async does not change: SQLite blocks
//!
//! SQLite is a blocking C library: a query holds the thread that runs it until it is done. Run
//! on the event loop, it would freeze every other task, every timer and every result, for its
//! whole duration. So the SQL runs elsewhere: `tokio_rusqlite` gives each connection a thread of
//! its own, and `Connection::call` sends that thread a closure to run. Here the closure drains a
//! queue of SQL that tasks have made ready, and each answer comes back to its task on a oneshot
//! channel, which the task awaits. Under async the SQL still runs on threads, one per connection
//! (`--connections`, 4 by default); the event loop only makes the *waiting* cheap. The report
//! names the connection that ran each task (`conn-0`, `conn-1`, ...), and its timeline shows the
//! waits overlapping freely while each connection runs one query at a time.
//!
//! The same goes for the program's own work on the rows (the `fetch` workload pulls large slices
//! of rows and computes over them). It happens inside the closure, on the connection threads, so
//! two connections keep two cores busy. Done on the event loop after `call` had returned the
//! rows, it would run one task at a time on the loop's one thread, and stall every wait meanwhile.
//!
//! # When to pick it, and what it costs
//!
//! Pick async for many concurrent waits: network round trips, remote databases, thousands of
//! them at once (`--workload scale --tasks 100000` holds 100,000 waits on one thread). It does
//! not speed up CPU-bound work (that needs threads or processes: here, the connections' threads),
//! and any blocking call made on the loop stalls everything. It costs a runtime, `async` on every
//! function that waits, and a hand-off to another thread and back for every query (a few
//! microseconds). The measured comparison with the other three methods is in the README's table,
//! produced by `scripts/compare.sh`.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use shared::{
    Attempt, Clock, Database, Dispatch, Error, Method, Outcome, Outcomes, Plan, Result, Run,
    Status, Task,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::JoinSet;
use tokio::time;

pub const METHOD: Method = Method {
    name: "async",
    survives_crash: false,
};

/// How many SQLite connections run the SQL unless `--connections` says otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// The name in the report of tasks that timed out before reaching a connection: all they ever
/// did was wait, and waiting happens on the event loop.
const EVENT_LOOP: &str = "event-loop";

/// Which tokio scheduler runs the tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// One thread runs every task, as asyncio's event loop does.
    #[default]
    Current,
    /// One thread per core, each stealing tasks from the others when it runs out.
    Multi,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub runtime: Runtime,
    /// How many SQLite connections, each on a thread of its own, run the SQL.
    pub connections: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runtime: Runtime::Current,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

/// Runs every task of the plan as a tokio task, and gathers their outcomes.
///
/// `plan.workers` is how many tasks may be in flight at once; without it, all of them, as
/// `gather` does (the ideal is then the longest task).
pub fn run(plan: &Plan, options: &Options) -> Result<Run> {
    let clock = Clock::start();
    let in_flight = plan.workers.unwrap_or(plan.workload.tasks.len()).max(1);
    let runtime = start_runtime(options.runtime)?;
    // More connections than tasks in flight could never all be busy.
    let pool = Arc::new(Pool::open(
        &plan.database,
        options.connections.clamp(1, in_flight),
    )?);
    let startup = clock.now();

    let outcomes = runtime.block_on(gather(plan, &pool, in_flight, clock));
    runtime.block_on(pool.close());

    let loop_threads = match options.runtime {
        Runtime::Current => "1 event-loop thread (tokio current-thread, like asyncio)".to_string(),
        Runtime::Multi => format!("{} tokio worker threads", runtime.metrics().num_workers()),
    };
    let note = format!(
        "the waits ran on {loop_threads}; the SQL and the work on its rows on {} connection threads, \
         because SQLite blocks the thread that runs it",
        pool.connections.len()
    );
    Ok(Run {
        outcomes: outcomes.finish(),
        workers: in_flight,
        connections: Some(pool.connections.len()),
        dispatch: Dispatch::Fifo,
        wall: clock.now(),
        startup,
        children_max_rss_kib: None,
        children_pss_kib: None,
        notes: vec![note],
    })
}

/// The event loop.
///
/// Current-thread by default, for the reason asyncio has a single loop: the tasks only wait and
/// hand their SQL to the connection threads, so the loop does a few microseconds of work per
/// task and one thread is plenty, with no cost for moving tasks between threads. `--runtime
/// multi` spreads the tasks over one thread per core; it pays off when the tasks compute on the
/// loop themselves, which these, by design, do not.
fn start_runtime(kind: Runtime) -> Result<tokio::runtime::Runtime> {
    let mut builder = match kind {
        Runtime::Current => tokio::runtime::Builder::new_current_thread(),
        Runtime::Multi => tokio::runtime::Builder::new_multi_thread(),
    };
    builder
        .enable_time()
        .build()
        .map_err(|e| Error::system(format!("cannot start the tokio runtime: {e}")))
}

/// `asyncio.gather(*tasks, return_exceptions=True)`: spawns one task per query, then collects
/// every outcome, in the order they finish.
async fn gather(plan: &Plan, pool: &Arc<Pool>, in_flight: usize, clock: Clock) -> Outcomes {
    // The limit on tasks in flight. The spawning loop takes a slot before it spawns a task, so
    // tasks start in submission order, and with `--workers 4` and 100,000 tasks there are never
    // more than 4 of them alive, rather than 99,996 parked on the semaphore. The slot is handed
    // to the task, which frees it when it ends, by dropping it.
    let slots = Arc::new(Semaphore::new(in_flight));
    let mut tasks = JoinSet::new();
    let mut outcomes = Outcomes::new(plan);
    for task in &plan.workload.tasks {
        // `expect`: the semaphore is never closed, and only a closed one refuses a permit.
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        tasks.spawn(run_task(
            task.clone(),
            pool.clone(),
            plan.timeout,
            clock,
            slot,
        ));
        while let Some(joined) = tasks.try_join_next() {
            record(&mut outcomes, joined);
        }
    }
    while let Some(joined) = tasks.join_next().await {
        record(&mut outcomes, joined);
    }
    outcomes
}

fn record(outcomes: &mut Outcomes, joined: std::result::Result<Outcome, tokio::task::JoinError>) {
    // A task's own failures are in its outcome: SQL errors and timeouts as statuses, panics in
    // its SQL caught on the connection's thread. A task that failed to join panicked in this
    // file's code, a bug; it is left out here and `Outcomes::finish` reports it as not run.
    if let Ok(outcome) = joined {
        outcomes.record(outcome);
    }
}

/// One task, start to finish: `run_query` in the guide's example.
async fn run_task(
    task: Task,
    pool: Arc<Pool>,
    timeout: Duration,
    clock: Clock,
    _slot: OwnedSemaphorePermit,
) -> Outcome {
    let started = clock.now();
    // The timeout counts from the task's start, latency included, as in every method.
    let deadline = clock.at(started) + timeout;
    // How a task ends that never got as far as a connection: it only ever waited, on the loop.
    let unfinished = |status| {
        let attempt = Attempt {
            started,
            sql_started: None,
            finished: clock.now(),
            status,
        };
        Outcome::new(&task, EVENT_LOOP, Duration::ZERO, attempt)
    };

    // The simulated round trip. `timeout_at` is `asyncio.wait_for`: a wait that would end past
    // the deadline is cut short there. While it lasts, the task is a timer entry on the event
    // loop and holds no thread and no connection.
    let latency = task.latency();
    if !latency.is_zero()
        && time::timeout_at(deadline.into(), time::sleep(latency))
            .await
            .is_err()
    {
        return unfinished(Status::TimedOut);
    }
    // Only now, with its SQL ready to run, is the task handed to the connections. The wait for
    // a free one is under the deadline too: with every connection busy, the task times out here.
    let mut answer = pool.submit(&task, deadline, clock);
    let answer = match time::timeout_at(deadline.into(), &mut answer).await {
        Ok(answer) => answer,
        // At the deadline, SQL still in the queue is taken back: no connection was free in time.
        Err(_) if pool.withdraw(task.id) => return unfinished(Status::TimedOut),
        // SQL already running is stopped at this same deadline on its connection's thread, by
        // SQLite's progress handler, so its answer (timed out, from that connection) is moments
        // away. Waiting for it keeps the connection in the report and never leaves a query
        // running that nobody waits for.
        Err(_) => answer.await,
    };
    let Ok(done) = answer else {
        let lost = "its connection's thread ended before answering".to_string();
        return unfinished(Status::Failed(lost));
    };
    let attempt = Attempt {
        started,
        sql_started: Some(done.sql_started),
        finished: clock.now(),
        status: done.status,
    };
    Outcome::new(
        &task,
        pool.connections[done.connection].name.as_str(),
        Duration::ZERO,
        attempt,
    )
}

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
struct Pool {
    connections: Vec<Connection>,
    /// A std `Mutex`, not tokio's: it is held for a push, a pop or a short scan, never across
    /// an `.await`, and the connections' threads, which are not async, take it too.
    ready: Mutex<Ready>,
}

/// What the connections share: the SQL waiting to run, and who is free to run it. One lock for
/// both, so that a task never queues its SQL just as the last busy connection, having found the
/// queue empty, goes idle without seeing it.
struct Ready {
    jobs: VecDeque<Job>,
    idle: Vec<usize>,
}

/// One task's SQL, waiting for a connection.
struct Job {
    task: Task,
    deadline: Instant,
    clock: Clock,
    done: oneshot::Sender<Done>,
}

/// How a task's SQL went, and on which connection.
struct Done {
    connection: usize,
    sql_started: Duration,
    status: Status,
}

/// One SQLite connection and the thread that runs it.
struct Connection {
    name: String,
    sqlite: tokio_rusqlite::Connection,
}

impl Pool {
    fn open(database: &Database, count: usize) -> Result<Pool> {
        let mut connections = Vec::with_capacity(count);
        for i in 0..count {
            let conn = database.open().map_err(|e| {
                Error::input(format!("cannot open {}: {e}", database.path().display()))
            })?;
            // `from` starts the connection's own thread, which runs every closure handed to
            // `call` on this connection, one at a time, in the order they were sent.
            let sqlite = tokio_rusqlite::Connection::from(conn);
            connections.push(Connection {
                name: format!("conn-{i}"),
                sqlite,
            });
        }
        let ready = Ready {
            jobs: VecDeque::new(),
            idle: (0..count).rev().collect(),
        };
        Ok(Pool {
            connections,
            ready: Mutex::new(ready),
        })
    }

    /// A push or a pop cannot stop half-way, so the state is whole even if a holder panicked.
    fn ready(&self) -> MutexGuard<'_, Ready> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task's SQL, wakes an idle connection if there is one, and returns where the
    /// answer will come.
    fn submit(
        self: &Arc<Self>,
        task: &Task,
        deadline: Instant,
        clock: Clock,
    ) -> oneshot::Receiver<Done> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            task: task.clone(),
            deadline,
            clock,
            done,
        };
        let idle = {
            let mut ready = self.ready();
            ready.jobs.push_back(job);
            ready.idle.pop()
        };
        if let Some(index) = idle {
            self.wake(index);
        }
        answer
    }

    /// Takes a task's SQL back out of the queue, if no connection has started it yet.
    fn withdraw(&self, task: usize) -> bool {
        let mut ready = self.ready();
        match ready.jobs.iter().position(|job| job.task.id == task) {
            Some(i) => ready.jobs.remove(i).is_some(),
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
                let mut ready = self.ready();
                match ready.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        ready.idle.push(index);
                        return;
                    }
                }
            };
            let sql_started = job.clock.now();
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
            let _ = job.done.send(Done {
                connection: index,
                sql_started,
                status,
            });
        }
    }

    /// Closes every connection, which ends its thread. Run once every task is done.
    async fn close(&self) {
        for connection in &self.connections {
            // A read-only connection has nothing to lose on close: an error here changes nothing
            // the report could say.
            let _ = connection.sqlite.clone().close().await;
        }
    }
}

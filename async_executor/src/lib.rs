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
//! event loop, not a sleeping thread. A waiting task is a small allocation on the heap, and one
//! thread drives all of them, which is why async is the method for programs that mostly wait.
//!
//! # What async does not change: SQLite blocks
//!
//! SQLite is a blocking C library: a query holds the thread that runs it until it is done. Run
//! on the event loop, it would freeze every other task, every timer and every result, for its
//! whole duration. So the SQL runs elsewhere: `tokio_rusqlite` gives each connection a thread of
//! its own, and `Connection::call` sends that thread a closure to run. Here the closure drains a
//! queue of SQL that tasks have made ready, and each answer comes back to its task on a oneshot
//! channel, which the task awaits (`connections.rs`). Under async the SQL still runs on threads,
//! one per connection (`--connections`, 4 by default); the event loop only makes the *waiting*
//! cheap. The report names the connection that ran each task (`conn-0`, `conn-1`, ...), and its
//! timeline shows the waits overlapping freely while each connection runs one query at a time.
//!
//! The same goes for the program's own work on the rows (the `fetch` workload pulls large slices
//! of rows and computes over them). It happens inside the closure, on the connection threads, so
//! two connections keep two cores busy. Done on the event loop after `call` had returned the
//! rows, it would run one task at a time on the loop's one thread, and stall every wait meanwhile.
//!
//! Writes with `--writer single` are the exception: one writer thread commits them all, so a
//! task hands its write to that writer directly and awaits the commit on the loop, holding no
//! connection (`writer.rs` says why that matters for group commit).
//!
//! # When to pick it, and what it costs
//!
//! Pick async for many concurrent waits: network round trips, remote databases, thousands of
//! them at once. It does not speed up CPU-bound work (that needs threads or processes: here, the
//! connections' threads), and any blocking call made on the loop stalls everything
//! (`--blocking` makes that mistake on purpose, in `blocking.rs`). It costs a runtime, `async` on
//! every function that waits, and a hand-off to another thread and back for every query: that
//! hand-off is most of a tiny task's cost, and a bare `JoinSet` of tokio-rusqlite `call`s pays
//! it too.
#![doc = include_str!("../../results/cost-async.md")]
//! The measured comparison with the other three methods is in the README's table, produced by
//! `scripts/compare.sh`.
//!
//! # Beside this file
//!
//! `at_scale.rs` holds what a million tasks need and eight do not: how many may be in flight at
//! once when `--workers` does not say. `notes.rs` writes the report's notes on where each part
//! of the run ran, and `threads.rs` counts the threads it started. A first reading can skip all
//! three. `spawn_blocking.rs` is the other common way to run the SQL (`--sql-on
//! spawn-blocking`): a connection lent from a pool to a closure on tokio's blocking threads, as
//! deadpool-sqlite does, with what it costs. `writer.rs` says where writes go with each
//! `--writer`, and what a transaction that awaits inside itself (`--hold-ms`) costs the other
//! tasks; `transaction.rs` runs such a write, and `--writer lock`'s. `sql_on.rs` sends each
//! task's SQL where the flags say: to `run_sql` below, to `spawn_blocking.rs`, to the single
//! writer in `writer.rs`, or to `transaction.rs`.

mod at_scale;
mod blocking;
mod connections;
mod notes;
mod spawn_blocking;
mod sql_on;
mod threads;
mod transaction;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connections::Pool;
use sql_on::Sql;
use threads::Threads;

pub use at_scale::MOST_IN_FLIGHT;
use shared::{
    Attempt, Clock, Error, Lanes, Method, Outcome, Outcomes, Plan, Result, Run, Status, Task,
};
use tokio::task::JoinSet;
use tokio::time;
use tracing::debug;

pub const METHOD: Method = Method {
    name: "async",
    survives_crash: false,
};

/// How many SQLite connections run the SQL unless `--connections` says otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// The name in the report of tasks that timed out before reaching a connection: all they ever
/// did was wait, and waiting happens on the event loop.
pub(crate) const EVENT_LOOP: &str = "event-loop";

/// Which tokio scheduler runs the tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// One thread runs every task, as asyncio's event loop does.
    #[default]
    Current,
    /// One thread per core, each stealing tasks from the others when it runs out.
    Multi,
}

/// Where a task's SQL runs once its wait is over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlOn {
    /// A few connections, each a thread of its own (tokio-rusqlite), draining one queue.
    #[default]
    Connections,
    /// `tokio::task::spawn_blocking`, with a connection lent from a pool (`spawn_blocking.rs`).
    SpawnBlocking,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub runtime: Runtime,
    pub sql_on: SqlOn,
    /// How many SQLite connections run the SQL: each on a thread of its own, or, with
    /// [`SqlOn::SpawnBlocking`], lent for each query to one of tokio's blocking threads.
    pub connections: usize,
    /// Make the guide's mistake on purpose: block the event loop (see `blocking.rs`).
    pub blocking: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runtime: Runtime::Current,
            sql_on: SqlOn::Connections,
            connections: DEFAULT_CONNECTIONS,
            blocking: false,
        }
    }
}

/// Runs every task of the plan as a tokio task, and gathers their outcomes.
///
/// `plan.workers` is how many tasks may be in flight at once; without it, all of them, as
/// `gather` does (the ideal is then the longest task), up to [`MOST_IN_FLIGHT`].
pub fn run(plan: &Plan, options: &Options) -> Result<Run> {
    // With `--writer lock`, writes await a tokio lock of this program's instead of taking
    // `shared`'s std one on a connection's thread (`writer.rs`).
    let locked = writer::lock_on_the_loop(plan);
    let plan = locked.as_ref().unwrap_or(plan);
    let clock = Clock::start();
    let in_flight = at_scale::in_flight(plan);
    let (runtime, threads) = start_runtime(options.runtime)?;
    // More connections than tasks in flight could never all be busy.
    let connections = options.connections.clamp(1, in_flight);
    let sql = Sql::open(options.sql_on, plan, connections)?;
    let startup = clock.now();

    let context = Arc::new(TaskContext {
        sql,
        timeout: plan.timeout,
        clock,
    });
    // `--blocking` makes the guide's mistake instead, on purpose (`blocking.rs`).
    let outcomes = if options.blocking {
        blocking::gather_blocking(plan, in_flight, &runtime, clock)?
    } else {
        runtime.block_on(gather(plan, in_flight, |task| {
            run_task(task, Arc::clone(&context))
        }))
    };
    let wall = clock.now();
    runtime.block_on(context.sql.close());

    let notes = notes::of(plan, options, &runtime, connections, threads.most());
    Ok(Run::new(outcomes.finish(), in_flight, startup, wall)
        .with_connections(connections)
        .with_threads_started(threads.started() + context.sql.own_threads())
        .with_lanes(Lanes::PerTask)
        .with_notes(notes))
}

/// The event loop.
///
/// Current-thread by default, for the reason asyncio has a single loop: the tasks only wait and
/// hand their SQL to the connection threads, so the loop does a few microseconds of work per
/// task and one thread is plenty, with no cost for moving tasks between threads. `--runtime
/// multi` spreads the tasks over one thread per core; it pays off when the tasks compute on the
/// loop themselves, which these, by design, do not.
///
/// With the runtime comes the count of the threads it starts, for the report (`threads.rs`).
fn start_runtime(kind: Runtime) -> Result<(tokio::runtime::Runtime, Arc<Threads>)> {
    let mut builder = match kind {
        Runtime::Current => tokio::runtime::Builder::new_current_thread(),
        Runtime::Multi => tokio::runtime::Builder::new_multi_thread(),
    };
    let threads = Threads::count(&mut builder);
    let runtime = builder
        .enable_time()
        .build()
        .map_err(|e| Error::system(format!("cannot start the tokio runtime: {e}")))?;
    Ok((runtime, threads))
}

/// `asyncio.gather(*tasks, return_exceptions=True)`: spawns one task per query, then collects
/// every outcome, in the order they finish.
///
/// At most `in_flight` tasks are alive at once: when the set is full, one outcome is gathered
/// before the next task is spawned. So tasks start in submission order, and with `--workers 4`
/// there are never more than 4 of them. (asyncio code bounds this with a `Semaphore` inside each
/// coroutine, but then every coroutine exists from the start, waiting its turn; here a task not
/// yet spawned is only its entry in the plan.)
///
/// `start` makes the future of one task: [`run_task`] normally, the loop-blocking version of
/// `blocking.rs` with `--blocking`.
pub(crate) async fn gather<F>(plan: &Plan, in_flight: usize, start: impl Fn(Task) -> F) -> Outcomes
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    let mut outcomes = Outcomes::new(plan);
    for task in &plan.workload.tasks {
        if tasks.len() >= in_flight
            && let Some(joined) = tasks.join_next().await
        {
            record(&mut outcomes, joined);
        }
        tasks.spawn(start(task.clone()));
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

/// What every task of a run shares, behind one pointer.
struct TaskContext {
    sql: Sql,
    timeout: Duration,
    clock: Clock,
}

/// One task, start to finish: `run_query` in the guide's example.
async fn run_task(task: Task, context: Arc<TaskContext>) -> Outcome {
    let started = context.clock.now();
    // The simulated round trip: `asyncio.sleep`, cut short at the task's timeout (which counts
    // from its start, latency included, as in every method) as `asyncio.wait_for` would. While
    // it lasts, the task is a timer entry on the event loop and holds no thread and no
    // connection. One timer, not two: it wakes at the end of the latency or at the timeout,
    // whichever comes first.
    let latency = task.latency();
    debug!(
        task = task.id,
        query = task.name(),
        ?latency,
        "waiting on the event loop"
    );
    if !latency.is_zero() {
        let wake = context.clock.at(started + latency.min(context.timeout));
        time::sleep_until(wake.into()).await;
        if latency > context.timeout {
            return only_waited(&task, started, Status::TimedOut, context.clock);
        }
    }
    // The rest of the task, once its wait is over: its SQL, on a connection (`run_sql` below),
    // unless `--writer single` or `--sql-on spawn-blocking` send it elsewhere (`sql_on.rs`).
    let deadline = context.clock.at(started) + context.timeout;
    context
        .sql
        .run(task, started, deadline, context.clock)
        .await
}

/// How a task ends that never got as far as a connection: it only ever waited, on the loop.
pub(crate) fn only_waited(task: &Task, started: Duration, status: Status, clock: Clock) -> Outcome {
    let attempt = Attempt {
        started,
        sql_started: None,
        finished: clock.now(),
        status,
    };
    Outcome::new(task, &EVENT_LOOP.into(), attempt)
}

/// A task's SQL, on a connection, under its deadline.
pub(crate) async fn run_sql(
    task: Task,
    pool: &Arc<Pool>,
    started: Duration,
    deadline: Instant,
    clock: Clock,
) -> Outcome {
    // Only now, with its SQL ready to run, is the task handed to the connections. The wait for
    // a free one is under the deadline too: with every connection busy, the task times out here.
    let mut answer = pool.submit(&task, deadline, clock);
    let answer = match time::timeout_at(deadline.into(), &mut answer).await {
        Ok(answer) => answer,
        // At the deadline, SQL still in the queue is taken back: no connection was free in time.
        Err(_) if pool.withdraw(task.id) => {
            return only_waited(&task, started, Status::TimedOut, clock);
        }
        // SQL already running is stopped at this same deadline on its connection's thread, by
        // SQLite's progress handler, so its answer (timed out, from that connection) is moments
        // away. Waiting for it keeps the connection in the report and never leaves a query
        // running that nobody waits for.
        Err(_) => answer.await,
    };
    let Ok(done) = answer else {
        let lost = "its connection's thread ended before answering".to_string();
        return only_waited(&task, started, Status::Failed(lost), clock);
    };
    let attempt = Attempt {
        started,
        sql_started: Some(done.sql_started),
        finished: clock.now(),
        status: done.status,
    };
    Outcome::new(&task, &pool.connections[done.connection].name, attempt)
}

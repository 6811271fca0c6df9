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
//! Writes with `--writer single` are the exception: one writer thread commits them all, so a
//! task hands its write to that writer directly and awaits the commit on the loop, holding no
//! connection (`writer.rs` says why that matters for group commit).
//!
//! # When to pick it, and what it costs
//!
//! Pick async for many concurrent waits: network round trips, remote databases, thousands of
//! them at once (`--workload scale --tasks 100000` holds 100,000 waits on one thread; past
//! [`MOST_IN_FLIGHT`], 100,000, more tasks queue for a place, as with `--workers`). It does
//! not speed up CPU-bound work (that needs threads or processes: here, the connections' threads),
//! and any blocking call made on the loop stalls everything. It costs a runtime, `async` on every
//! function that waits, and a hand-off to another thread and back for every query (a few
//! microseconds). The measured comparison with the other three methods is in the README's table,
//! produced by `scripts/compare.sh`.

mod blocking;
mod connections;
mod writer;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connections::Pool;

use shared::{
    Attempt, Clock, Error, Lanes, Method, Outcome, Outcomes, Plan, Result, Run, Status, Task,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time;
use tracing::debug;

pub const METHOD: Method = Method {
    name: "async",
    survives_crash: false,
};

/// How many SQLite connections run the SQL unless `--connections` says otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// How many tasks are in flight at once when `--workers` does not say: all of them, as `gather`
/// does, up to this many. A task in flight is memory (about 1 KB here, with its SQL queued),
/// and past this many, more of them only queue for the same connections: with a million tasks
/// the run peaks at 240–244 MiB (1.9 GiB before this limit and the smaller tasks).
pub const MOST_IN_FLIGHT: usize = 100_000;

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

#[derive(Debug, Clone)]
pub struct Options {
    pub runtime: Runtime,
    /// How many SQLite connections, each on a thread of its own, run the SQL.
    pub connections: usize,
    /// Make the guide's mistake on purpose: block the event loop (see `blocking.rs`).
    pub blocking: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runtime: Runtime::Current,
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
    let clock = Clock::start();
    let in_flight = in_flight(plan);
    let runtime = start_runtime(options.runtime)?;
    // More connections than tasks in flight could never all be busy.
    let pool = Arc::new(Pool::open(
        &plan.database,
        options.connections.clamp(1, in_flight),
    )?);
    let startup = clock.now();

    let timeout = plan.timeout;
    let context = Arc::new(TaskContext {
        pool: Arc::clone(&pool),
        timeout,
        clock,
    });
    let outcomes = if options.blocking {
        let conn = Arc::new(Mutex::new(plan.database.open()?));
        runtime.block_on(gather(plan, in_flight, |task, slot| {
            blocking::run_task(task, slot, conn.clone(), timeout, clock)
        }))
    } else {
        runtime.block_on(gather(plan, in_flight, |task, slot| {
            run_task(task, slot, Arc::clone(&context))
        }))
    };
    runtime.block_on(pool.close());

    let note = if options.blocking {
        "--blocking: every task waited with std::thread::sleep and ran its SQL on the event-loop \
         thread, as a Python coroutine calling time.sleep and sqlite3 would; the loop could run \
         nothing else meanwhile, so the waits ran one after another instead of overlapping"
            .to_string()
    } else {
        let loop_threads = match options.runtime {
            Runtime::Current => {
                "1 event-loop thread (tokio current-thread, like asyncio)".to_string()
            }
            Runtime::Multi => format!("{} tokio worker threads", runtime.metrics().num_workers()),
        };
        format!(
            "the waits ran on {loop_threads}; the SQL and the work on its rows on {} connection \
             threads, because SQLite blocks the thread that runs it",
            pool.connections.len()
        )
    };
    let mut notes = vec![note];
    if !options.blocking && plan.writes().is_some_and(|w| w.is_single()) {
        notes.push(
            "--writer single: each write went straight to the writer's thread and was awaited \
             on the event loop, holding no connection, so every task in flight could wait at \
             the writer and a group commit could carry as many rows"
                .to_string(),
        );
    }
    let outcomes = outcomes.finish();
    Ok(Run::new(outcomes, in_flight, startup, clock.now())
        .with_connections(pool.connections.len())
        .with_lanes(Lanes::PerTask)
        .with_notes(notes))
}

/// How many tasks may be in flight at once: `--workers`, or all of them up to `MOST_IN_FLIGHT`.
fn in_flight(plan: &Plan) -> usize {
    let tasks = plan.workload.tasks.len();
    plan.workers.unwrap_or(tasks.min(MOST_IN_FLIGHT)).max(1)
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
///
/// `start` makes the future of one task: [`run_task`] normally, the loop-blocking version of
/// `blocking.rs` with `--blocking`.
async fn gather<F>(plan: &Plan, in_flight: usize, start: impl Fn(Task, Slot) -> F) -> Outcomes
where
    F: Future<Output = Outcome> + Send + 'static,
{
    // The limit on tasks in flight. The spawning loop takes a slot before it spawns a task, so
    // tasks start in submission order, and with `--workers 4` and 100,000 tasks there are never
    // more than 4 of them alive, rather than 99,996 parked on the semaphore. The slot is handed
    // to the task, which frees it when it ends, by dropping it. (Handed in, rather than held by
    // a wrapping `async` block: such a block would keep a second copy of the task's future,
    // and every waiting task would be twice its size.)
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
        tasks.spawn(start(task.clone(), slot));
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

/// A task's place among those in flight, freed when it is dropped (see `gather`).
pub(crate) type Slot = tokio::sync::OwnedSemaphorePermit;

/// What every task of a run shares, behind one pointer.
struct TaskContext {
    pool: Arc<Pool>,
    timeout: Duration,
    clock: Clock,
}

/// One task, start to finish: `run_query` in the guide's example.
///
/// While it waits, a task is this future, a timer entry and the tokio task that holds them:
/// a few hundred bytes, which is what lets one thread hold 100,000 waits. So this future keeps
/// as little as it can across its wait (the task, its start, one pointer to what every task
/// shares), and the part that runs after the wait is a future of its own, boxed, allocated only
/// when the wait is over: its state (the SQL's answer channel, a timer for the deadline) would
/// otherwise make every waiting task as large as the largest state it will ever be in.
async fn run_task(task: Task, _slot: Slot, context: Arc<TaskContext>) -> Outcome {
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
        if task.latency() > context.timeout {
            return only_waited(&task, started, Status::TimedOut, context.clock);
        }
    }
    Box::pin(after_the_wait(task, context, started)).await
}

/// How a task ends that never got as far as a connection: it only ever waited, on the loop.
fn only_waited(task: &Task, started: Duration, status: Status, clock: Clock) -> Outcome {
    let attempt = Attempt {
        started,
        sql_started: None,
        finished: clock.now(),
        status,
    };
    Outcome::new(task, &EVENT_LOOP.into(), Duration::ZERO, attempt)
}

/// The rest of a task once its wait is over: its SQL, on a connection, under its deadline.
async fn after_the_wait(task: Task, context: Arc<TaskContext>, started: Duration) -> Outcome {
    let TaskContext {
        ref pool,
        timeout,
        clock,
    } = *context;
    let deadline = clock.at(started) + timeout;
    // A write for the single writer is awaited here, on the loop, not sent to a connection.
    if let Some(writes) = task.writes.as_ref().filter(|w| w.is_single()) {
        return Box::pin(writer::write(&task, writes, started, deadline, clock)).await;
    }
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
    Outcome::new(
        &task,
        &pool.connections[done.connection].name,
        Duration::ZERO,
        attempt,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Database, Preset, Workload};

    fn plan(tasks: usize, workers: Option<usize>) -> Plan {
        Plan {
            workload: Workload::preset(Preset::Overhead, Some(tasks)),
            database: Database::prepare(None, false).expect("the fixture is built"),
            workers,
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn every_task_is_in_flight_at_once_up_to_the_most_unless_workers_say_otherwise() {
        assert_eq!(in_flight(&plan(8, None)), 8);
        assert_eq!(in_flight(&plan(MOST_IN_FLIGHT + 1, None)), MOST_IN_FLIGHT);
        assert_eq!(in_flight(&plan(MOST_IN_FLIGHT + 1, Some(200_000))), 200_000);
        assert_eq!(in_flight(&plan(0, None)), 1);
    }
}

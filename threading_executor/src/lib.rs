//! Manual threading: N named worker threads pulling tasks from one shared queue.
//!
//! This is the Rust counterpart of the guide's "manual threading" (`queue.Queue`, a few
//! `threading.Thread` workers that loop on `queue.get()`, and `join`), written out by hand so
//! that every part of a thread pool's life is on this page: the `Queue` of `Job`s, the
//! `Worker`s that take jobs from it, the channel that brings each `Outcome` back, and the
//! shutdown. The words are those of the Rust Book's chapter 21 `ThreadPool`, and so is the
//! idea of the shutdown: nothing is told to stop, the end of the work ends each worker. The
//! Book drops its job channel's sender and joins every worker in `ThreadPool`'s `Drop`. Here
//! the producer *closes* the queue once every task is in it; a worker that finds it closed and
//! empty returns, dropping its end of the results channel; when the last one has, the results
//! loop ends; then `run` joins every worker itself, inside the `thread::scope` that started
//! them. The scope guarantees that join even if `run` left one out: it does not end before
//! every thread it started has ended, so no worker outlives `run`, and no `Drop` is needed.
//!
//! `--priority longest-first` turns the queue into a priority queue on each task's expected
//! duration (its latency), the `queue.PriorityQueue` the guide mentions. With 4 workers on the
//! `io` workload, that lowers the best possible makespan from 400 ms (submission order leaves
//! the 300 ms task for last) to 350 ms, and the report prints both.
//!
//! **When to pick it.** When you want to own the lifecycle: threads with names, a queue you
//! can reorder, a shutdown you can see. Blocking work parallelises for real, since Rust has no
//! GIL: SQLite's own work and the program's work on the rows both run on every core. For a
//! pool you do not need to explain, `threadpool_executor` is the same idea ready-made.
//!
//! **What it costs.** A thread per worker: a stack (2 MiB reserved by default, of which only
//! the pages touched count as memory), a kernel task, and a switch each time it sleeps or
//! wakes. Per task, a turn of the queue's lock and a message on the results channel. The
//! threads share a few SQLite connections, one per worker up to twice the cores
//! (`shared::pool`): with one for every worker, as at the default 4 on 2 cores, each keeps its
//! own; with fewer, each is lent only for a task's SQL (a connection per thread would cost far
//! more than the thread). A thread cannot be killed, so a task past its timeout is stopped by
//! interrupting its SQLite query, not its thread.
#![doc = include_str!("../../results/cost-threading.md")]
//!
//! What each of these costs on your machine, beside the other three methods, is in the
//! README's table, produced by `scripts/compare.sh`.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Scope, ScopedJoinHandle};
use std::time::Duration;

use shared::cli::counted;
use shared::panic_message;
use tracing::debug;

use shared::{
    Clock, ConnectionPool, Dispatch, Method, Outcome, Outcomes, Plan, Result, Run, Task,
    catch_panic, run_blocking_with,
};

pub const METHOD: Method = Method {
    name: "threading",
    survives_crash: false,
};

/// Workers when `--workers` is not given: the guide's benchmark uses four.
pub const DEFAULT_WORKERS: usize = 4;

/// The order in which workers take tasks from the queue (`--priority`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Priority {
    /// In submission order, as `queue.Queue` does.
    #[default]
    Fifo,
    /// The longest expected task first (ties in submission order), as `queue.PriorityQueue`
    /// does with the duration as the priority.
    LongestFirst,
}

/// What this method can be asked beyond the common flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub priority: Priority,
}

/// Runs every task of the plan on `plan.workers` threads (default [`DEFAULT_WORKERS`]).
///
/// This thread is the producer: it puts every task in the queue, starts the workers, closes
/// the queue, then collects the outcomes until the last worker has gone, and joins each one.
pub fn run(plan: &Plan, options: &Options) -> Result<Run> {
    let clock = Clock::start();
    // One thread a worker, and never more workers than tasks (see `Plan::threads`).
    let workers = plan.threads(DEFAULT_WORKERS)?;
    let context = WorkerContext {
        queue: Queue::new(options.priority),
        connections: ConnectionPool::open_for(
            &plan.database,
            ConnectionPool::size_for(workers),
            workers,
        )?,
        timeout: plan.timeout,
        clock,
    };
    let (results, arrivals) = mpsc::channel();
    let mut outcomes = Outcomes::new(plan);
    let mut notes = Vec::new();

    // Scoped threads may borrow what lives outside the scope (the plan's tasks, the queue, the
    // connections, the clock) because the scope does not end before every thread it started
    // has ended. With `thread::spawn` each of them would need an `Arc` and a `'static` job.
    let (started, startup) = thread::scope(|scope| {
        // Every task is known before the run, so the producer queues them all first, under
        // one lock: each worker then finds work the moment it starts, and starting a thousand
        // threads overlaps their waits instead of delaying them all. The queue does not care
        // about the timing: a producer that learns its tasks later pushes them later, and the
        // workers wait for them.
        context
            .queue
            .push_all(plan.workload.tasks.iter().map(|task| Job { task }));

        let mut pool = Vec::with_capacity(workers);
        for id in 0..workers {
            match Worker::start(scope, id, &context, results.clone()) {
                Ok(worker) => pool.push(worker),
                Err(e) => {
                    // Out of threads (or memory): run on the workers there are. With none,
                    // every task is reported `not_run`, and the run still ends.
                    notes.push(format!(
                        "could not start worker-{id} ({e}): ran on {}",
                        counted(id as u64, "worker", "workers")
                    ));
                    break;
                }
            }
        }
        let startup = clock.now();

        // No more jobs will come: every worker that finds the queue empty from now on returns
        // instead of waiting. This is the whole shutdown signal, and the only one.
        context.queue.close();
        // The workers hold the only senders now. Each drops its own when it returns, so the
        // results loop below ends exactly when the last worker has gone: no count, no flag.
        drop(results);

        // Outcomes arrive in completion order, whichever worker sends them.
        for outcome in arrivals {
            outcomes.record(outcome);
        }

        // Every worker has returned by now; joining each, in order, makes that explicit and
        // surfaces a panic outside a job, which would be a bug in this file. (Its job, if it
        // had one, is then reported `not_run` by `Outcomes::finish`.)
        let started = pool.len();
        for worker in pool {
            if let Err(payload) = worker.thread.join() {
                notes.push(format!(
                    "{} stopped with a panic: {}",
                    worker.name,
                    panic_message(payload.as_ref())
                ));
            }
        }
        (started, startup)
    });

    let dispatch = match options.priority {
        Priority::Fifo => Dispatch::Fifo,
        Priority::LongestFirst => Dispatch::LongestFirst,
    };
    let connections = context.connections.size();
    if connections < started {
        notes.push(format!(
            "{started} threads shared {}, each taken only for a task's SQL",
            counted(
                connections as u64,
                "SQLite connection",
                "SQLite connections"
            )
        ));
    }
    let workers = started.max(1);
    let outcomes = outcomes.finish();
    Ok(Run::new(outcomes, workers, startup, clock.now())
        .with_connections(connections)
        .with_dispatch(dispatch)
        .with_notes(notes))
}

/// What every worker borrows for the run: the queue it pulls jobs from, and what a job needs
/// to run (the connections, the task's timeout, the run's clock).
struct WorkerContext<'plan> {
    queue: Queue<'plan>,
    connections: ConnectionPool,
    timeout: Duration,
    clock: Clock,
}

// ---------------------------------------------------------------------------------------------
// The queue
// ---------------------------------------------------------------------------------------------

/// One task waiting in the queue, borrowed from the plan.
struct Job<'plan> {
    task: &'plan Task,
}

/// The priority queue's order: the longest expected task first; among equal ones, the one
/// submitted first (the lower id is the greater job, since `BinaryHeap` pops the greatest).
impl Ord for Job<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |job: &Job| (job.task.latency(), Reverse(job.task.id));
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for Job<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Job<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Job<'_> {}

/// The jobs waiting for a worker: the only place where FIFO and longest-first differ.
enum Waiting<'plan> {
    Fifo(VecDeque<Job<'plan>>),
    LongestFirst(BinaryHeap<Job<'plan>>),
}

/// What the queue's lock protects.
struct State<'plan> {
    waiting: Waiting<'plan>,
    /// Set once by the producer when every job is in: after that, an empty queue means done.
    closed: bool,
}

/// The queue every worker pulls from: a `Mutex` around the waiting jobs, and a `Condvar` that
/// idle workers sleep on until a job is pushed or the queue is closed.
///
/// Why not a channel, as the Rust Book does? `std::sync::mpsc` has one receiver, so sharing it
/// among workers already needs a `Mutex` around it (`Arc<Mutex<Receiver<Job>>>`), and that
/// shape invites the Book's own trap: `while let Ok(job) = receiver.lock().unwrap().recv()`
/// keeps the guard alive for the whole loop body, so one worker runs its job while holding the
/// lock and the pool runs one job at a time. A channel also delivers in the order sent and
/// cannot become a priority queue. Here, [`Queue::pop`] hands out a job and returns, and the
/// guard is dropped when it returns, before the job runs; and the container is a `VecDeque` or
/// a `BinaryHeap`, so both orders share this one code path.
struct Queue<'plan> {
    state: Mutex<State<'plan>>,
    ready: Condvar,
}

impl<'plan> Queue<'plan> {
    fn new(priority: Priority) -> Self {
        let waiting = match priority {
            Priority::Fifo => Waiting::Fifo(VecDeque::new()),
            Priority::LongestFirst => Waiting::LongestFirst(BinaryHeap::new()),
        };
        Queue {
            state: Mutex::new(State {
                waiting,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// The queue's state, locked. No code panics while holding this lock (it only moves jobs
    /// in and out of a container), so the lock is never poisoned; if it were, the state would
    /// still be whole, so taking it anyway is sound.
    fn lock(&self) -> MutexGuard<'_, State<'plan>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds jobs, all under one lock, and wakes every idle worker to take them.
    ///
    /// A batch, not one `push` per job: a `notify` is a system call even when nobody waits, and
    /// a whole workload queued before any worker starts then costs one, not one per task.
    fn push_all(&self, jobs: impl IntoIterator<Item = Job<'plan>>) {
        let mut state = self.lock();
        match &mut state.waiting {
            Waiting::Fifo(waiting) => waiting.extend(jobs),
            Waiting::LongestFirst(waiting) => waiting.extend(jobs),
        }
        // Unlocked before waking, so the woken workers do not wake only to wait for the lock.
        drop(state);
        self.ready.notify_all();
    }

    /// No more jobs will come: wakes every idle worker, so that each sees it and returns.
    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// The next job, waiting for one if the queue is empty; `None` once it is closed and empty.
    fn pop(&self) -> Option<Job<'plan>> {
        let mut state = self.lock();
        loop {
            let next = match &mut state.waiting {
                Waiting::Fifo(jobs) => jobs.pop_front(),
                Waiting::LongestFirst(jobs) => jobs.pop(),
            };
            if next.is_some() || state.closed {
                return next;
            }
            // Releases the lock while asleep and takes it again on waking. A wake-up can be
            // spurious or lost to another worker, hence the loop that looks again.
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The workers
// ---------------------------------------------------------------------------------------------

/// One thread of the pool, and its name (`worker-0`, `worker-1`, ...).
struct Worker<'scope> {
    name: String,
    thread: ScopedJoinHandle<'scope, ()>,
}

impl<'scope> Worker<'scope> {
    /// Starts a named thread that runs jobs from the shared queue until it is closed and
    /// empty, and sends each outcome on `results`.
    fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        id: usize,
        context: &'env WorkerContext<'env>,
        results: Sender<Outcome>,
    ) -> std::io::Result<Worker<'scope>> {
        let WorkerContext {
            queue,
            connections,
            timeout,
            clock,
        } = context;
        let name = format!("worker-{id}");
        let thread = thread::Builder::new()
            .name(name.clone())
            .spawn_scoped(scope, {
                // Shared by every outcome of this worker, not copied into each.
                let name: Arc<str> = name.as_str().into();
                move || {
                    // `pop` has returned, and its lock with it, before the job runs: the other
                    // workers take jobs while this one runs its own.
                    while let Some(job) = queue.pop() {
                        let task = job.task.id;
                        debug!(worker = %name, task, query = job.task.name(), "took a task");
                        // A panic in the job costs that task, not this worker and every job it
                        // would still have taken.
                        // The connection is borrowed only for the SQL, after the task's latency:
                        // threads are what wait, and a few connections serve them all (see
                        // `shared::pool`). A thread cannot be killed, but its query can be
                        // stopped: SQLite checks the task's deadline every few thousand steps
                        // and interrupts the statement past it.
                        let (started, connect) = (clock.now(), || connections.take_for(id));
                        let attempt = catch_panic(clock, started, || {
                            run_blocking_with(job.task, *timeout, clock, started, connect)
                        });
                        debug!(worker = %name, task, status = attempt.status.label(), "finished");
                        // The receiver lives until every sender is gone, so this cannot fail; if
                        // it ever did, nobody would be left to read the outcomes anyway.
                        if results
                            .send(Outcome::new(job.task, &name, attempt))
                            .is_err()
                        {
                            return;
                        }
                    }
                    debug!(worker = %name, "the queue is closed and empty: leaving");
                }
            })?;
        Ok(Worker { name, thread })
    }
}

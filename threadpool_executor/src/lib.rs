//! A ready-made thread pool: tasks are submitted one by one and their results are taken as they
//! complete, with a deadline.
//!
//! This is the Rust counterpart of the guide's `ThreadPoolExecutor.submit` +
//! `as_completed(timeout=…)`. A dedicated [`rayon::ThreadPool`] of N named threads (`pool-0`,
//! `pool-1`, …; 4 unless `--workers` says otherwise) runs the tasks. Each task is
//! [`spawn`](rayon::ThreadPool::spawn)ed into the pool and, when it is done, sends its outcome on
//! an [`mpsc`] channel. The caller takes outcomes off the channel in the order they complete, with
//! [`recv_timeout`](mpsc::Receiver::recv_timeout) against a deadline for the whole run: that loop
//! is `as_completed`, and it is why the report lists the tasks in completion order, not in the
//! order they were submitted.
//!
//! **When to pick it.** It is the guide's "start simple" default: a handful to a few hundred
//! blocking tasks (waits on a remote database, files, SQL), no hand-written queue, no runtime.
//! Compared with the hand-written pool of `threading_executor`, the queue, the worker loop and
//! the idle threads' sleep are rayon's, so this file is mostly the method: build the pool,
//! submit, collect. What it gives up is control: no priorities, no say in which thread takes
//! which task, and a panic policy that must be handled (below). Unlike Python's, these threads
//! run Rust code and SQLite in parallel on every core: there is no GIL.
//!
//! **What it costs.** One OS thread per worker, created once with the pool, each with its own
//! stack (only the pages it touches are memory); then per task one heap-allocated job, one push
//! on rayon's queue, one outcome on the channel, and a connection: the thread's own when the
//! pool has one for each, or one borrowed from the few the threads share (`shared::pool`). What
//! lets it scale (`submission.rs`) costs a tiny task a little too. A waiting task holds a whole
//! thread while it waits, which is what async avoids. The README's table compares these costs
//! with the other methods' on your machine (`scripts/compare.sh`).
#![doc = include_str!("../../results/cost-threadpool.md")]
//!
//! **At scale.** What a million tasks and a thousand threads need, and the method does not, is
//! behind one type, `Submission`, in `submission.rs`, which opens with what it buys. It hands
//! the tasks to the pool a window at a time (`window.rs`), because a queued job is memory and
//! `executor.submit` in a loop would queue a million; and it keeps idle threads at gates
//! (`idle_gates.rs`), because rayon is built for a few busy threads, one per core, not a
//! thousand mostly idle ones. A first reading can skip all three files and read
//! `submission.thread(thread)` as `move || thread.run()`, `submission.start` as a loop that
//! spawns every task's job, and `submission.outcome_received` as not there.
//!
//! **Panics.** A panic that escapes a job `spawn`ed into a rayon pool has nowhere to go: nobody
//! is waiting on that job. Unless the pool was given a
//! [`panic_handler`](rayon::ThreadPoolBuilder::panic_handler), rayon then *aborts the whole
//! process* (the test `a_panic_in_a_bare_rayon_job_aborts_the_whole_process` shows it). So every
//! job here runs its task inside [`shared::catch_panic`], which turns a panic into a `failed`
//! outcome for that task alone; nothing ever escapes to rayon.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use rayon::{ThreadPool, ThreadPoolBuilder};
use tracing::debug;

use shared::cli::counted;
use shared::{
    Attempt, Clock, ConnectionPool, Error, Method, Outcome, Outcomes, Plan, Run, Status, Task,
    catch_panic, run_blocking_with,
};

// `submission` is the only one of these that this file calls; the other two are its parts.
mod idle_gates;
mod submission;
mod window;

use submission::Submission;

pub const METHOD: Method = Method {
    name: "threadpool",
    survives_crash: false,
};

/// The pool's size when `--workers` is not given: the guide's examples use 4.
pub const DEFAULT_WORKERS: usize = 4;

/// This method's own settings (its flags beyond the common ones).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How many SQLite connections the pool's threads share [default: one per worker, up to
    /// twice the cores]. See `shared::pool` for why they are not one per thread.
    pub connections: Option<usize>,
}

/// Runs every task of the plan on a dedicated rayon pool and collects the outcomes as they
/// complete.
pub fn run(plan: &Plan, options: &Options) -> shared::Result<Run> {
    let clock = Clock::start();
    // One thread a worker, and never more workers than tasks (see `Plan::threads`).
    let workers = plan.threads(DEFAULT_WORKERS)?;
    let connections = options
        .connections
        .unwrap_or_else(|| ConnectionPool::size_for(workers));
    let context = Arc::new(JobContext {
        clock,
        timeout: plan.timeout,
        connections: ConnectionPool::open_for(&plan.database, connections, workers)?,
        // Made once, so that a task's outcome shares its thread's name instead of copying it.
        worker_names: (0..workers).map(|i| pool_thread_name(i).into()).collect(),
    });

    // Build the pool: a pool of our own, never rayon's global one. The global pool is shared
    // by every piece of code in the process that calls `par_iter` or `rayon::spawn`, and it has
    // one thread per core; a task here spends most of its life blocked in a sleep or in SQLite,
    // and a blocked thread of the global pool is a core's worth of everyone else's parallel
    // work that stops (with 2 cores, two waiting tasks would starve every other rayon user in
    // the process). A dedicated pool also lets us choose its size (waits want more threads than
    // cores) and name its threads, which the report shows as each task's worker.
    //
    // The spawn handler is rayon's hook for creating the threads ourselves: we keep their
    // `JoinHandle`s, to join them at the end. The submission is made first because each thread
    // waits at its entrance until the first tasks are queued (see "At scale" above).
    let mut submission = Submission::new(&plan.workload.tasks, workers);
    let mut threads = Vec::with_capacity(workers);
    let pool: ThreadPool = ThreadPoolBuilder::new()
        .num_threads(workers)
        .spawn_handler(|thread| {
            let name = pool_thread_name(thread.index());
            let thread = std::thread::Builder::new()
                .name(name)
                .spawn(submission.thread(thread))?;
            threads.push(thread);
            Ok(())
        })
        .build()
        .map_err(|e| {
            let threads = counted(workers as u64, "pool thread", "pool threads");
            Error::system(format!("cannot start {threads}: {e}"))
        })?;
    let startup = clock.now();

    // `submit`: each task is spawned into the pool, as a job that sends its outcome on the
    // channel. Jobs spawned from outside the pool go into one queue that the pool's threads
    // take from in order, so tasks start in submission order (FIFO), as they do in Python's
    // executor.
    let (sender, receiver) = mpsc::channel::<Outcome>();
    submission.start(&pool, sender, |task: &Task, sender| {
        let job = Job {
            task: task.clone(),
            context: Arc::clone(&context),
            sender,
        };
        move || job.run()
    });

    // `as_completed(timeout=…)`: outcomes are taken as they arrive, and never past the run's
    // deadline, so whatever goes wrong, this loop ends.
    let mut outcomes = Outcomes::new(plan);
    let deadline = clock.at(startup) + run_deadline(plan, workers);
    while !outcomes.complete() {
        // An outcome already there is taken without reading the clock, which costs about what
        // a tiny task does; the deadline matters only when the loop would wait.
        let waiting = || receiver.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        match receiver.try_recv().or_else(|_| waiting()) {
            Ok(outcome) => {
                outcomes.record(outcome);
                submission.outcome_received(&pool);
            }
            // The deadline passed, or (a bug) every job is done and some task never reported:
            // whatever is missing is reported as not run by `finish`.
            Err(RecvTimeoutError::Disconnected | RecvTimeoutError::Timeout) => break,
        }
    }
    let complete = outcomes.complete();
    let outcomes = outcomes.finish();
    // The wall time ends here, when the caller has every result: what `as_completed` gives.
    let wall = clock.now();

    // Shutdown through ownership, as in the Rust Book's pool: dropping the pool tells its
    // threads to exit once their jobs are done, dropping the submission lets go the jobs it
    // holds at its exit gate, and then every thread is joined. Not when a task is still
    // missing past the deadline: its thread may be stuck, and the report must not wait for it.
    // With many threads this is not free (each returns to rayon's search for work before it
    // sees the pool is gone), so its time is measured and shown in the report's notes.
    drop(pool);
    drop(submission);
    if complete {
        for thread in threads {
            // A pool thread does not panic: every task runs inside `catch_panic`, and a panic
            // anywhere else would have aborted the process already (see the module doc).
            let _ = thread.join();
        }
    }
    let shutdown = clock.now() - wall;

    let size = context.connections.size();
    let notes = notes(workers, size, shutdown, &outcomes);
    Ok(Run::new(outcomes, workers, startup, wall)
        .with_connections(size)
        .with_notes(notes))
}

/// How long the caller waits for all the outcomes, counted from the end of startup.
///
/// Each task is stopped at its own timeout, counted from its start, and tasks start in order on
/// `workers` threads; so even if every task ran to its timeout, the last one would start within
/// `ceil(tasks / workers)` timeouts and end one timeout later. That bound is generous (a normal
/// run ends long before it) and it is finite: nothing waits forever. One extra timeout plus a
/// second covers the little a task may overrun its deadline by (SQLite checks it every few
/// thousand steps) and a loaded machine's scheduling.
fn run_deadline(plan: &Plan, workers: usize) -> Duration {
    let rounds = plan.workload.tasks.len().div_ceil(workers.max(1));
    let rounds = u32::try_from(rounds).unwrap_or(u32::MAX);
    plan.timeout.saturating_mul(rounds.saturating_add(1)) + Duration::from_secs(1)
}

/// The report's notes: how the threads shared the connections, how long they took to stop
/// after the last result, and how many tasks the run's deadline left without an outcome.
fn notes(
    workers: usize,
    connections: usize,
    shutdown: Duration,
    outcomes: &[Outcome],
) -> Vec<String> {
    let threads = counted(workers as u64, "pool thread", "pool threads");
    let connections = counted(
        connections as u64,
        "SQLite connection",
        "SQLite connections",
    );
    let mut notes = vec![format!(
        "{threads} shared {connections}, each taken only around a task's SQL"
    )];
    if shutdown >= Duration::from_millis(1) {
        notes.push(format!(
            "after the last result, the pool's threads took {:.0} ms to stop (not in the wall time)",
            shutdown.as_secs_f64() * 1e3
        ));
    }
    let missing = outcomes
        .iter()
        .filter(|o| o.status == Status::NotRun)
        .count();
    if missing > 0 {
        let had = if missing == 1 {
            "task had"
        } else {
            "tasks had"
        };
        notes.push(format!(
            "{missing} {had} not reported when the run's deadline passed"
        ));
    }
    notes
}

fn pool_thread_name(index: usize) -> String {
    format!("pool-{index}")
}

/// What every job of one run shares.
struct JobContext {
    clock: Clock,
    timeout: Duration,
    connections: ConnectionPool,
    /// The name of each pool thread, by rayon's index.
    worker_names: Vec<Arc<str>>,
}

/// One submitted task: everything its job needs, moved into the pool.
struct Job {
    task: Task,
    context: Arc<JobContext>,
    sender: Sender<Outcome>,
}

impl Job {
    /// Runs on a pool thread. Nothing may panic out of here (rayon would abort the process), so
    /// the task runs inside `catch_panic`.
    fn run(self) {
        // A job runs on one of the pool's threads, which rayon numbers from 0.
        let thread = rayon::current_thread_index().unwrap_or(0);
        let worker = &self.context.worker_names[thread];
        debug!(worker = %worker, task = self.task.id, query = self.task.name(), "started a task");
        let (clock, started) = (&self.context.clock, self.context.clock.now());
        let attempt = catch_panic(clock, started, || self.attempt(thread, started));
        debug!(worker = %worker, task = self.task.id, status = attempt.status.label(), "finished");
        // The receiver is gone only when the caller stopped waiting at the run's deadline and
        // has already reported this task: nobody wants this outcome any more.
        let _ = self.sender.send(Outcome::new(&self.task, worker, attempt));
    }

    /// Waits the task's latency holding no connection, then runs its SQL on a connection
    /// borrowed for that long only (see `shared::pool` for why threads share a few), the
    /// thread's own when there are enough for every thread.
    fn attempt(&self, thread: usize, started: Duration) -> Attempt {
        let JobContext {
            clock,
            timeout,
            connections,
            ..
        } = &*self.context;
        let connect = || connections.take_for(thread);
        run_blocking_with(&self.task, *timeout, clock, started, connect)
    }
}

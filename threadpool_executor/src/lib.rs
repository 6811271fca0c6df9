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
//! **What it costs.** One OS thread per worker, created once with the pool (tens of microseconds
//! each), each with its own stack (only the pages it touches are memory); then per task one
//! heap-allocated job, one push on rayon's queue and one channel message, about a microsecond.
//! Jobs are memory until a thread takes them, so they go in a window at a time (4,096),
//! not all at once as `executor.submit` in a loop would: a million tasks then cost their
//! outcomes, not a million queued jobs besides (118 MiB at 1,000,000 tasks, against 230 MiB
//! submitted all at once; see the README's "A million tasks"). A
//! waiting task holds a whole thread while it waits, which is what async avoids. And rayon is
//! built for a few busy threads, one per core: asked for a thousand mostly idle ones, it needs
//! the help of `idle_gates.rs`, an
//! optimisation a first reading can skip. The measured comparison is in the README's table,
//! produced by `scripts/compare.sh`.
//!
//! **Panics.** A panic that escapes a job `spawn`ed into a rayon pool has nowhere to go: nobody
//! is waiting on that job. Unless the pool was given a
//! [`panic_handler`](rayon::ThreadPoolBuilder::panic_handler), rayon then *aborts the whole
//! process* (the test `a_panic_in_a_bare_rayon_job_aborts_the_whole_process` shows it). So every
//! job here runs its task inside [`shared::catch_panic`], which turns a panic into a `failed`
//! outcome for that task alone; nothing ever escapes to rayon.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rayon::{ThreadPool, ThreadPoolBuilder};
use tracing::debug;
mod idle_gates;

use idle_gates::IdleGates;
use shared::{
    Attempt, Clock, ConnectionPool, Error, Method, Outcome, Outcomes, Plan, Run, Status, Task,
    catch_panic, run_blocking_with,
};

pub const METHOD: Method = Method {
    name: "threadpool",
    survives_crash: false,
};

/// The pool's size when `--workers` is not given: the guide's examples use 4.
pub const DEFAULT_WORKERS: usize = 4;

/// How many tasks may be queued or running at once (or twice the threads, if more): enough that
/// a thread always finds the next one queued while the caller tops the queue up, few enough
/// that a million tasks are never a million jobs. (A window of 256 cost about a microsecond a
/// task on `overhead`: the caller topped it up too often.)
const WINDOW: usize = 4096;

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
    let workers = plan.workers.unwrap_or(DEFAULT_WORKERS);
    let context = Arc::new(JobContext {
        clock,
        timeout: plan.timeout,
        connections: ConnectionPool::open(
            &plan.database,
            options
                .connections
                .unwrap_or_else(|| ConnectionPool::size_for(workers)),
        )?,
        gates: IdleGates::new(plan.workload.tasks.len()),
        // Made once, so that a task's outcome shares its thread's name instead of copying it.
        worker_names: (0..workers).map(|i| pool_thread_name(i).into()).collect(),
    });
    // Held until every task is submitted, and until every outcome is in (see `idle_gates`).
    let gates = context.gates.close();

    // A pool of our own, never rayon's global one. The global pool is shared by every piece of
    // code in the process that calls `par_iter` or `rayon::spawn`, and it has one thread per
    // core; a task here spends most of its life blocked in a sleep or in SQLite, and a blocked
    // thread of the global pool is a core's worth of everyone else's parallel work that stops
    // (with 2 cores, two waiting tasks would starve every other rayon user in the process).
    // A dedicated pool also lets us choose its size (waits want more threads than cores) and
    // name its threads, which the report shows as each task's worker.
    //
    // The spawn handler is rayon's hook for creating the threads ourselves: we keep their
    // `JoinHandle`s, to join them at the end, and each waits at the submission gate first.
    let mut threads = Vec::with_capacity(workers);
    let pool: ThreadPool = ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(pool_thread_name)
        .spawn_handler(|thread| {
            let context = Arc::clone(&context);
            let name = thread
                .name()
                .map_or_else(|| pool_thread_name(thread.index()), str::to_string);
            threads.push(std::thread::Builder::new().name(name).spawn(move || {
                context.gates.wait_for_submission();
                thread.run();
            })?);
            Ok(())
        })
        .build()
        .map_err(|e| Error::system(format!("cannot start {workers} pool threads: {e}")))?;
    let startup = clock.now();

    // `submit`: each task is spawned into the pool. Jobs spawned from outside the pool go into
    // one queue that the pool's threads take from in order, so tasks start in submission order
    // (FIFO), as they do in Python's executor. Unlike `executor.submit` in a loop, not all at
    // once: a job waits on the heap until a thread takes it, so a million tasks submitted at
    // once would be a million jobs in memory. At most `window` are queued or running; each
    // outcome that comes back lets the next task in, and the threads never run out of queued
    // work while any is left.
    let (sender, receiver) = mpsc::channel::<Outcome>();
    let mut sender = Some(sender);
    let mut unsubmitted = plan.workload.tasks.iter();
    let mut submit_next = || {
        if let (Some(task), Some(sender)) = (unsubmitted.next(), sender.as_ref()) {
            let job = Job {
                task: task.clone(),
                queued: clock.now(),
                context: Arc::clone(&context),
                sender: sender.clone(),
            };
            pool.spawn(move || job.run());
            return;
        }
        // Every task is in: only the jobs hold senders now, so that when the last job is done
        // the channel says so.
        sender = None;
    };
    let window = workers
        .saturating_mul(2)
        .max(WINDOW)
        .min(plan.workload.tasks.len());
    (0..window).for_each(|_| submit_next());
    drop(gates.until_submitted);
    // Topped up half a window at a time, not one task per outcome: the threads then take work
    // from a queue the caller is not writing to at every result.
    let mut in_flight = window;

    // `as_completed(timeout=…)`: outcomes are taken as they arrive, and never past the run's
    // deadline, so whatever goes wrong, this loop ends.
    let mut outcomes = Outcomes::new(plan);
    let deadline = clock.at(startup) + run_deadline(plan, workers);
    while !outcomes.complete() {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(outcome) => {
                outcomes.record(outcome);
                in_flight -= 1;
                if in_flight <= window / 2 {
                    (in_flight..window).for_each(|_| submit_next());
                    in_flight = window;
                }
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
    // threads to exit once their jobs are done, releasing the collection gate lets the parked
    // jobs end, and then every thread is joined. Not when a task is still missing past the
    // deadline: its thread may be stuck, and the report must not wait for it. With many threads
    // this is not free (each returns to rayon's search for work before it sees the pool is
    // gone), so its time is measured and shown in the report's notes, not hidden.
    drop(pool);
    drop(gates.until_collected);
    if complete {
        for thread in threads {
            // A pool thread does not panic: every task runs inside `catch_panic`, and a panic
            // anywhere else would have aborted the process already (see the module doc).
            let _ = thread.join();
        }
    }
    let shutdown = clock.now() - wall;

    let size = context.connections.size();
    let mut notes = vec![format!(
        "{workers} pool threads shared {size} SQLite connection{}, each taken only around a \
         task's SQL",
        if size == 1 { "" } else { "s" }
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
        notes.push(format!(
            "{missing} tasks had not reported when the run's deadline passed"
        ));
    }
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

fn pool_thread_name(index: usize) -> String {
    format!("pool-{index}")
}

/// What every job of one run shares.
struct JobContext {
    clock: Clock,
    timeout: Duration,
    connections: ConnectionPool,
    gates: IdleGates,
    /// The name of each pool thread, by rayon's index.
    worker_names: Vec<Arc<str>>,
}

/// One submitted task: everything its job needs, moved into the pool.
struct Job {
    task: Task,
    queued: Duration,
    context: Arc<JobContext>,
    sender: mpsc::Sender<Outcome>,
}

impl Job {
    /// Runs on a pool thread. Nothing may panic out of here (rayon would abort the process), so
    /// the task runs inside `catch_panic`.
    fn run(self) {
        let context = Arc::clone(&self.context);
        context.gates.task_started();
        // A job runs on one of the pool's threads, which rayon numbers from 0.
        let worker = &context.worker_names[rayon::current_thread_index().unwrap_or(0)];
        debug!(worker = %worker, task = self.task.id, query = self.task.name(), "started a task");
        let attempt = catch_panic(&context.clock, || self.attempt());
        debug!(worker = %worker, task = self.task.id, status = attempt.status.label(), "finished");
        // The receiver is gone only when the caller stopped waiting at the run's deadline and
        // has already reported this task: nobody wants this outcome any more.
        let _ = self
            .sender
            .send(Outcome::new(&self.task, worker, self.queued, attempt));
        // Dropped before parking, so that the channel can tell the caller when every job is done.
        drop(self);
        context.gates.task_finished();
    }

    /// Waits the task's latency holding no connection, then runs its SQL on a connection
    /// borrowed for that long only (see `shared::pool` for why threads share a few).
    fn attempt(&self) -> Attempt {
        let JobContext {
            clock,
            timeout,
            connections,
            ..
        } = &*self.context;
        run_blocking_with(&self.task, *timeout, clock, || connections.take())
    }
}

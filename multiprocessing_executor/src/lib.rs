//! Worker processes: N children made with `fork()`, each with its own SQLite connection, fed
//! tasks and read for results over pipes.
//!
//! This is the Rust counterpart of the guide's `multiprocessing.Pool(processes=N)` with
//! `apply_async(...)` and `get(timeout=...)`. The parent forks N children while it still has a
//! single thread; each child serves one task at a time, on a connection of its own opened at
//! its first query, until its pipe closes. The parent keeps the queue of tasks, writes each job
//! down the pipe of a free child, and waits for results with `poll()` and a deadline. Tasks and
//! results cross the pipes as length-prefixed frames serialised with serde and postcard
//! (bincode, once the usual choice, is no longer maintained: its last release is only a
//! compile error).
//!
//! **When to pick it.** In Python, processes are how CPU-bound work gets more than one core,
//! because of the GIL. Rust has no GIL: its threads already run in parallel, so that reason is
//! gone here. What remains is *isolation*: a child that aborts, corrupts its memory or hangs in
//! code nobody can interrupt costs its own task and nothing else, because the parent can kill
//! it (`SIGKILL` stops anything) and fork a fresh one. A thread can be neither killed nor
//! replaced that way; that is why `--inject crash@N` is refused by the other three programs and
//! survived by this one.
//!
//! **What it costs.** A fork copies page tables, not memory (pages are shared copy-on-write), so
//! a child is ready in a fraction of a millisecond, against the guide's "~100 ms per process"
//! for Python (whose `spawn` and `forkserver` start methods begin each worker with a fresh
//! interpreter that imports its modules again). Each task then costs a write and a read on a
//! pipe and two process wake-ups, a few microseconds, which tiny tasks avoid paying in full by
//! pipelining. Each child holds its own connection and page cache, so memory grows with the
//! workers; the report shows each child's own peak. The measured comparison is in the README's
//! table, produced by `scripts/compare.sh`.
//!
//! **A thousand children.** With `--workers 1000` the start decides the run: a child forked
//! late starts its tasks late. So the parent forks the whole pool in bursts, feeding the
//! children already ready in between (`Pool::grow`), and a child closes its siblings' pipe ends
//! in two or three system calls (`child::close_inherited`) and says it is ready before it opens
//! its connection, at its first query (`LazyConnection`, in `child.rs`): the report's start-up
//! per child leaves the connection out, and each child's first task carries it. What no order
//! of forking removes is each child's CPU, about 2.5 ms with a thousand on this project's 2-core
//! machine (by `perf`: connection 1.1, fork 0.3, memory figures 0.35, closing pipe ends 0.2 and
//! growing with the pool, wake-ups the rest): 2.5 s of CPU, over a second on two cores, for
//! 0.4 s of waiting. At that size the method is bound by CPU, not by how it forks.
//!
//! **The rules that make `fork()` safe here**, each explained where it applies, below or in
//! `child.rs`: fork only while the parent has a single thread; fork while the parent holds no
//! SQLite connection; in each child, close every pipe end that belongs to a sibling; make every
//! child end with its parent (its job pipe reaches end of file, and on Linux the kernel kills
//! it); and reap every child, so that no zombie and no orphan is left.
//!
//! **Beside this file**: `child.rs`, a child's life; `frames.rs`, the messages on the pipes;
//! `worker.rs`, the books the parent keeps on each child; `writer.rs`, with `--writer single`,
//! the one process that does every write and commits them in groups; `process.rs`, a child
//! killed and reaped on drop; `notes.rs`, the report's notes; `platform.rs`, what only Linux
//! offers; `options.rs`; and `pipelining.rs`, an optimisation for tiny tasks that is not the
//! method.

mod child;
mod frames;
mod notes;
mod options;
mod pipelining;
mod platform;
mod process;
mod worker;
mod writer;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe};
use shared::{Clock, Error, Method, Outcome, Outcomes, Plan, Run, Status};
use tracing::debug;

use frames::ChildMessage;
use notes::Notes;
use pipelining::Pipelining;
use process::describe;
use worker::Worker;
use writer::WriterProcess;

pub use options::Options;

/// How many children the pool forks in a row before it turns to those already forked.
const FORK_BURST: usize = 32;

pub const METHOD: Method = Method {
    name: "multiprocessing",
    survives_crash: true,
};

/// Runs the plan on worker processes.
///
/// `plan.workers` children (default: one per core, as `Pool()` does) are forked, or fewer when
/// there are fewer tasks. Refuses to run in a process with more than one thread, where `fork()`
/// is not safe: see `Pool::fork_worker`.
pub fn run(plan: &Plan, options: &Options) -> shared::Result<Run> {
    // Where threads cannot be counted (see `platform.rs`), this check is skipped.
    if let Some(threads) = platform::thread_count().filter(|&n| n > 1) {
        return Err(Error::system(format!(
            "multiprocessing forks its workers, which is only safe in a process with one thread, \
             and this one has {threads}"
        )));
    }
    let workers = plan
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let size = workers.min(plan.workload.tasks.len());
    let clock = Clock::start();
    // With `--writer single`, one process does every write (see `writer.rs`). It is forked
    // first, while this process has one thread and no worker, and the workers run a plan whose
    // writes it hands to that process.
    let writer = WriterProcess::fork_if_single(plan, clock, options.parent_death_signal)?;
    let plan = match &writer {
        Some(writer) => Cow::Owned(writer.plan_for_workers(plan)),
        None => Cow::Borrowed(plan),
    };
    let plan = plan.as_ref();
    let mut pool = Pool {
        plan,
        clock,
        size,
        parent_death_signal: options.parent_death_signal,
        workers: Vec::with_capacity(size),
        writer,
        pending: plan.workload.tasks.iter().map(|t| t.id).collect(),
        outcomes: Outcomes::new(plan),
        pipelining: Pipelining::new(options.pipeline),
        notes: Notes::new(size),
    };
    pool.serve()?;
    pool.shut_down()?;
    let wall = pool.clock.now();
    let notes = pool.notes.sentences(pool.pipelining.note());
    // Every worker process has a connection of its own: no `with_connections`.
    Ok(Run::new(
        pool.outcomes.finish(),
        workers,
        pool.notes.all_ready(),
        wall,
    )
    .with_children_memory(
        pool.notes.largest_peak_kib(),
        pool.notes.summed_shares_kib(),
    )
    .with_notes(notes))
}

/// Everything the parent knows while the run goes on.
///
/// Every task is in exactly one place: `pending` (not yet sent, in submission order), a
/// worker's `sent` (sent to that child, not yet answered), or `outcomes` (done). The run is
/// over when every task has its outcome and the pool has forked all its children.
struct Pool<'a> {
    plan: &'a Plan,
    clock: Clock,
    /// How many children the run asks for: all are forked, and as many kept alive while there
    /// is work for them.
    size: usize,
    parent_death_signal: bool,
    workers: Vec<Worker>,
    /// The writer process, with `--writer single`.
    writer: Option<WriterProcess>,
    pending: VecDeque<usize>,
    outcomes: Outcomes,
    pipelining: Pipelining<'a>,
    notes: Notes,
}

/// Why the parent gave up on a child.
#[derive(Debug, Clone, Copy)]
enum WhyLost {
    /// This task, the one it was running, passed its timeout: the parent kills it.
    TimedOut(usize),
    /// Its result pipe reached end of file: it exited, as told to once released, or died on its
    /// own (a crash, a kill from outside).
    Ended,
}

impl Pool<'_> {
    /// Forks one child and keeps the parent's ends of its two pipes.
    ///
    /// `fork()` copies the calling thread only. Had the parent other threads, a lock one of them
    /// held at that instant (the allocator's, stdout's) would stay locked forever in the child,
    /// and the child would hang at its first `malloc`. So the parent forks while it has one
    /// thread: `shared::cli::main` starts none, and the tests run this crate single-threaded.
    ///
    /// The parent holds no SQLite connection here either (the baseline runs after this method):
    /// SQLite's documentation warns that a connection carried across `fork()` can corrupt the
    /// database. Each child opens its own, after the fork.
    fn fork_worker(&mut self) -> shared::Result<()> {
        let system = |what: &str, e: nix::Error| Error::system(format!("{what}: {e}"));
        let (job_out, job_in) = pipe().map_err(|e| system("cannot create a pipe", e))?;
        let (result_out, result_in) = pipe().map_err(|e| system("cannot create a pipe", e))?;
        let parent = getpid();
        let forked = self.clock.now();
        self.notes.forked();
        // SAFETY: this process has one thread (see above), so the child starts with every lock
        // free; the child never returns from `serve_jobs`, it ends with `_exit`.
        match unsafe { fork() }.map_err(|e| system("cannot fork a worker process", e))? {
            ForkResult::Child => {
                // Its copies of the parent's ends of its siblings' pipes, and of the writer's
                // control stream, would keep them from ever reaching end of file.
                child::close_inherited(std::mem::take(&mut self.workers), self.writer.take());
                drop(job_in);
                drop(result_out);
                let forked = child::Forked {
                    plan: self.plan,
                    clock: self.clock,
                    parent,
                    death_signal: self.parent_death_signal,
                };
                child::serve_jobs(forked, job_out, result_in)
            }
            ForkResult::Parent { child } => {
                // The child's ends: the parent's copies must go, or the result pipe would never
                // reach end of file when the child dies.
                drop(job_out);
                drop(result_in);
                self.workers
                    .push(Worker::new(child, job_in, result_out, forked));
                Ok(())
            }
        }
    }

    /// The event loop: grow the pool, dispatch, wait for results or the next deadline, handle
    /// what happened.
    fn serve(&mut self) -> shared::Result<()> {
        let mut lost: Vec<(Pid, WhyLost)> = Vec::new();
        loop {
            self.dispatch();
            let growing = self.grow()?;
            if self.outcomes.complete() && !growing {
                return Ok(());
            }
            self.wait(&mut lost, growing)?;
            // Timeouts are checked after the results are read: a result that arrived in time
            // wins over the deadline that passed while the parent was busy.
            let now = self.clock.now();
            for w in &self.workers {
                if let Some(task) = w.timed_out(self.plan.timeout, now) {
                    lost.push((w.process.pid, WhyLost::TimedOut(task)));
                }
            }
            for (pid, why) in lost.drain(..) {
                self.retire(pid, why)?;
            }
        }
    }

    /// Forks up to [`FORK_BURST`] children and says whether the pool wants more: all the `size`
    /// children the run asks for, as `Pool(N)` forks N, then one for each one lost while work is
    /// left. Between bursts the loop feeds the children ready so far, and pays for its `poll`
    /// over every child once per burst, not once per child. The parent still has one thread and
    /// no connection, so a fork mid-run is as safe as the first.
    fn grow(&mut self) -> shared::Result<bool> {
        let unforked = self.size.saturating_sub(self.notes.forks());
        let working = self.workers.iter().filter(|w| !w.is_released()).count();
        let lost = (!self.pending.is_empty()).then(|| self.size.saturating_sub(working));
        let wanted = unforked.max(lost.unwrap_or(0));
        for _ in 0..wanted.min(FORK_BURST) {
            self.fork_worker()?;
        }
        Ok(wanted > FORK_BURST)
    }

    /// Hands pending tasks to children in list-scheduling order: each task, in turn, to a
    /// child that is idle; failing that, to a busy child if pipelining allows it.
    fn dispatch(&mut self) {
        // One pass finds every idle child: searching from the start for each task would cost a
        // million steps when a thousand children finish at once.
        let idle: Vec<usize> = (0..self.workers.len())
            .filter(|&i| self.workers[i].is_idle())
            .collect();
        let mut idle = idle.into_iter();
        while let Some(&task) = self.pending.front() {
            let holdings = self.workers.iter().map(Worker::holding);
            let Some(i) = idle.next().or_else(|| self.pipelining.busy_child(holdings)) else {
                break;
            };
            self.pending.pop_front();
            let next = &self.plan.workload.tasks[task - 1];
            let short = self.pipelining.is_short(next);
            self.workers[i].send(task, self.clock.now(), short);
            debug!(worker = %self.workers[i].process.name(), task, query = next.name(), "sent a task");
        }
        // One `write` per child for all the jobs it was given this round.
        self.workers.iter_mut().for_each(Worker::flush);
        // With nothing left to hand out, an idle child is released at once: closing its job pipe
        // tells it to finish. The pool shrinks as the queue empties, and each child's exit (a
        // few hundred microseconds of CPU) overlaps the last tasks instead of following them.
        if self.pending.is_empty() {
            for w in self.workers.iter_mut().filter(|w| w.sent.is_empty()) {
                w.release();
            }
        }
    }

    /// Waits until a child writes or dies, or the earliest deadline passes (or not at all while
    /// the pool is `growing`), and handles what the children wrote. Children whose pipe reached
    /// end of file are added to `lost`.
    fn wait(&mut self, lost: &mut Vec<(Pid, WhyLost)>, growing: bool) -> shared::Result<()> {
        let earliest = self
            .workers
            .iter()
            .filter_map(|w| w.deadline(self.plan.timeout))
            .min();
        let timeout = match earliest {
            _ if growing => PollTimeout::ZERO,
            None => PollTimeout::NONE,
            Some(deadline) => {
                let left = deadline.saturating_sub(self.clock.now());
                // Rounded up, so that the parent does not wake a moment early and spin.
                let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds: Vec<PollFd> = self
            .workers
            .iter()
            .map(|w| PollFd::new(w.results.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::system(format!("poll: {e}"))),
        }
        let readable: Vec<usize> = (0..fds.len())
            .filter(|&i| fds[i].any().unwrap_or(false))
            .collect();
        drop(fds);
        let mut buffer = [0u8; 16 * 1024];
        for i in readable {
            let Some(messages) = self.workers[i].results.read_some(&mut buffer)? else {
                lost.push((self.workers[i].process.pid, WhyLost::Ended));
                continue;
            };
            for message in messages {
                self.handle(i, message)?;
            }
        }
        Ok(())
    }

    /// Handles one message from the child at `i`.
    fn handle(&mut self, i: usize, message: ChildMessage) -> shared::Result<()> {
        let w = &mut self.workers[i];
        match message {
            ChildMessage::Ready { at } => {
                w.ready = Some(at);
                self.notes.ready(w.forked, at);
            }
            ChildMessage::Unavailable(message) => {
                // The message names the database already ("cannot open PATH: why").
                return Err(Error::input(format!("a worker process: {message}")));
            }
            ChildMessage::Done { task, attempt } => {
                let Some(job) = w.answered(task, attempt.finished()) else {
                    return Err(Error::system(format!(
                        "worker pid {} answered task {task}, which it was not running",
                        w.process.pid
                    )));
                };
                let task = &self.plan.workload.tasks[task - 1];
                debug!(worker = %w.process.name(), task = task.id, "answered");
                self.pipelining.took(task, attempt.took());
                let outcome = Outcome::new(task, w.process.name(), job.queued, attempt.into());
                self.outcomes.record(outcome);
            }
            ChildMessage::Exiting {
                peak_rss_kib,
                pss_kib,
            } => self.notes.memory(peak_rss_kib, pss_kib),
        }
        Ok(())
    }

    /// Ends the life of a child that ended or that the parent gave up on: kills it if it still
    /// runs, reaps it, handles whatever it wrote before it died, reports the task it was
    /// running, and puts the jobs still waiting in its pipe back at the front of the queue, so
    /// that no task is lost.
    fn retire(&mut self, pid: Pid, why: WhyLost) -> shared::Result<()> {
        let Some(i) = self.workers.iter().rposition(|w| w.process.pid == pid) else {
            return Ok(()); // Already retired this round (it timed out and died at once).
        };
        if let WhyLost::TimedOut(_) = why {
            // Its memory figures die with it, so read them first, from the outside.
            self.notes.memory(platform::peak_rss_kib(pid), None);
            self.workers[i].process.kill();
        }
        let released = self.workers[i].is_released();
        let status = self.workers[i].process.reap();
        // Results it wrote before it died are genuine: they are taken in before the blame.
        for message in self.workers[i].results.read_to_end()? {
            self.handle(i, message)?;
        }
        // Not `remove`, which shifts every later child down: quadratic as a large pool empties.
        let mut w = self.workers.swap_remove(i);
        if released && matches!(status, WaitStatus::Exited(_, 0)) {
            return Ok(()); // A child released by `dispatch`, which finished as it was told to.
        }
        let how = describe(status);
        // The status of the task it was running, and the sentence for the notes.
        let (timed_out, status, event) = match why {
            WhyLost::TimedOut(task) => {
                let event = format!("past its timeout, worker pid {pid} was killed (SIGKILL)");
                (Some(task), Status::TimedOut, event)
            }
            WhyLost::Ended => {
                let failed = format!("worker process pid {pid} {how} while running this task");
                let event = format!("worker pid {pid} {how}");
                (None, Status::Failed(failed), event)
            }
        };
        // The task it was running when it was lost, if any, is reported with its cause.
        let lost = w.lost_job(timed_out, status, self.clock.now());
        if let Some((job, attempt)) = lost {
            let task = &self.plan.workload.tasks[job.task - 1];
            self.notes.event(format!("task {}: {event}", task.id));
            self.outcomes
                .record(Outcome::new(task, w.process.name(), job.queued, attempt));
        } else {
            self.notes
                .event(format!("worker pid {pid} {how} while running no task"));
        }
        // Never started: back to the front of the queue, in their order.
        while let Some(waiting) = w.sent.pop_back() {
            self.pending.push_front(waiting.task);
        }
        Ok(())
    }

    /// Releases every child, which tells it to finish: it sends its memory figures and exits.
    /// Then retires each one, which handles its last messages and reaps it. The writer process,
    /// if any, goes last, when no worker can ask it for anything more.
    ///
    /// Every child is idle here (every task has its outcome), so each one exits as soon as it
    /// reads end of file, and the blocking waits in `retire` return promptly.
    fn shut_down(&mut self) -> shared::Result<()> {
        self.workers.iter_mut().for_each(Worker::release);
        while let Some(w) = self.workers.last() {
            self.retire(w.process.pid, WhyLost::Ended)?;
        }
        if let Some(writer) = self.writer.take() {
            writer.stop(self.plan.timeout + child::BACKSTOP, &mut self.notes);
        }
        Ok(())
    }
}

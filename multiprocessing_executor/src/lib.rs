//! Worker processes: N children, each with its own SQLite connection, fed tasks and read for
//! outcomes over pipes.
//!
//! This is the Rust counterpart of the guide's `multiprocessing.Pool(processes=N)` with
//! `apply_async(...)` and `get(timeout=...)`. The parent starts N children: it forks them while
//! it still has a single thread, or, with `--start spawn` or `forkserver`, starts them fresh as
//! Python's other start methods do (`start.rs`). Each child runs one task at a time on a
//! connection of its own until its job pipe closes (`child.rs`, the other half of this lesson).
//! The parent keeps the queue of tasks, writes each job down the pipe of a free child, and
//! waits for outcomes with `poll()` and a deadline: a child past its timeout is killed, a child
//! that dies is reaped and replaced, and the task it held is reported with its cause. Tasks and
//! outcomes cross the pipes as length-prefixed frames of postcard (`frames.rs`).
//!
//! **When to pick it.** In Python, processes are how CPU-bound work gets more than one core,
//! because of the GIL; Rust has none. What remains is *isolation*: a child that aborts,
//! corrupts its memory or hangs in code nobody can interrupt costs its own task and nothing
//! else, because the parent can kill it (`SIGKILL` stops anything) and start a fresh one. A
//! thread can be neither killed nor replaced so: `--inject crash@N` is refused by the other
//! three programs and survived by this one.
//!
//! **What it costs.** A fork copies page tables, not memory (shared copy-on-write), so a child
//! is ready far sooner than a fresh Python interpreter; each has its own connection and page
//! cache, so memory grows with the workers. Per task, a job and its answer cross two pipes as
//! frames (several to a `write` for tiny tasks), and the parent keeps books and a deadline.
#![doc = include_str!("../../results/cost-multiprocessing.md")]
//!
//! **The rules that make `fork()` safe here**, each explained where it applies (below, or in
//! `child.rs`): fork only while the parent has one thread and no SQLite connection; in each
//! child, close its siblings' pipe ends; make every child end with its parent (end of file on
//! its job pipe, and on Linux the kernel's kill); reap every child: no zombie, no orphan.
//!
//! **Beside this file**, each behind one name: `frames.rs`, the messages on the pipes;
//! `worker.rs`, the parent's books on one child; `process.rs`, a child killed and reaped on
//! drop; `options.rs`, the knobs beyond the common flags; `notes.rs`, the report's notes;
//! `platform.rs`, what only Linux offers. `extras.rs` names what the pool adds to the method:
//! `writer.rs`, the one process that does every write with `--writer single`, and `start.rs`,
//! workers that are not forks (`spawn.rs`, `forkserver.rs`, `briefing.rs`). Speed or scale
//! only, each opening with what it buys, measured: `pipelining.rs` and `answers.rs`,
//! `bursts.rs`, `close_range.rs`, `lazy_connection.rs`, `memory.rs` and `room.rs`.

mod answers;
mod briefing;
mod bursts;
mod child;
mod close_range;
mod extras;
mod forkserver;
mod frames;
mod lazy_connection;
mod memory;
mod notes;
mod options;
mod pipelining;
mod platform;
mod process;
mod room;
mod spawn;
mod start;
mod worker;
mod writer;

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd, RawFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe};
use shared::{Clock, Error, Method, Outcome, Outcomes, Plan, Run, Status};
use tracing::debug;

use bursts::Forking;
use extras::Extras;
use frames::ChildMessage;
use memory::ChildMemory;
use notes::Notes;
use process::{Process, describe};
use worker::Worker;
use writer::WriterProcess;

pub use forkserver::ForkServer;
pub use options::{Options, Start};
pub use spawn::serve_if_spawned;

pub const METHOD: Method = Method {
    name: "multiprocessing",
    survives_crash: true,
};

/// Runs the plan on worker processes.
///
/// Starts `plan.workers` children (default: one per core, as `Pool()` does; fewer when there
/// are fewer tasks). Refuses more than the system can start (`room.rs`) and, under `Start::Fork`,
/// a process with more than one thread, unsafe to fork (`fork_child`).
pub fn run(plan: &Plan, options: &Options) -> shared::Result<Run> {
    // Only a fork needs one thread (`start.rs`); where threads cannot be counted, no check.
    let forks = matches!(options.start, Start::Fork);
    if let Some(threads) = platform::thread_count().filter(|&n| n > 1 && forks) {
        return Err(Error::system(format!(
            "multiprocessing forks its workers, which is only safe in a process with one thread, \
             and this one has {threads}"
        )));
    }
    let size = plan.workers_or(Options::default_workers());
    room::for_processes(size, plan.workers, &options.start)?;
    let clock = Clock::start();
    // With `--writer single`, one process does every write (see `writer.rs`). It is forked
    // first, while this process has one thread and no worker, and the workers run a plan whose
    // writes it hands to that process; with `--writer lock`, one whose lock is a file.
    let writer = WriterProcess::fork_if_single(plan, clock, options.parent_death_signal)?;
    let locked = writer::lock_across_processes(plan);
    let plan = match (&writer, &locked) {
        (Some(writer), _) => &writer.plan_for_workers(plan),
        (None, Some(locked)) => locked,
        (None, None) => plan,
    };
    let mut pool = Pool {
        plan,
        clock,
        size,
        parent_death_signal: options.parent_death_signal,
        workers: Vec::with_capacity(size),
        pending: plan.workload.tasks.iter().map(|t| t.id).collect(),
        outcomes: Outcomes::new(plan),
        notes: Notes::new(size, &options.start),
        extras: Extras::for_run(plan, clock, options, writer)?,
    };
    pool.serve()?;
    pool.shut_down()?;
    let wall = pool.clock.now();
    let notes = pool.extras.pipelining.note();
    Ok(pool
        .notes
        .into_run(pool.outcomes.finish(), size.max(1), wall, notes))
}

/// Everything the parent knows while the run goes on.
///
/// Every task is in exactly one place: `pending` (not yet sent, in submission order), a
/// worker's `sent` (sent to that child, not yet answered), or `outcomes` (done). The run is
/// over when every task has its outcome and the pool has started all its children.
struct Pool<'a> {
    plan: &'a Plan,
    clock: Clock,
    /// How many children the run asks for, and keeps alive while there is work for them.
    size: usize,
    parent_death_signal: bool,
    workers: Vec<Worker>,
    pending: VecDeque<usize>,
    outcomes: Outcomes,
    notes: Notes,
    /// What the pool adds to the method: the writer, fresh workers, pipelining (`extras.rs`).
    extras: Extras,
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
    /// Starts one worker and keeps the parent's ends of its two pipes: forks it, or, with
    /// `--start spawn` or `forkserver`, starts it fresh (`start.rs`), not a copy of this process.
    fn start_worker(&mut self) -> shared::Result<()> {
        let started = self.clock.now();
        self.notes.worker_started();
        let (process, jobs, results) = match &self.extras.fresh {
            Some(fresh) => fresh.start()?,
            None => self.fork_child()?,
        };
        self.workers
            .push(Worker::new(process, jobs, results, started));
        Ok(())
    }

    /// Forks one child: its process, and the parent's ends of its job and result pipes.
    ///
    /// `fork()` copies the calling thread only. Had the parent other threads, a lock one of them
    /// held at that instant (the allocator's, stdout's) would stay locked forever in the child,
    /// and the child would hang at its first `malloc`. So the parent forks while it has one
    /// thread: `shared::cli::main` starts none, and the tests run this crate single-threaded.
    ///
    /// The parent holds no SQLite connection here either (the baseline runs after this method):
    /// SQLite's documentation warns that a connection carried across `fork()` can corrupt the
    /// database. Each child opens its own, after the fork.
    fn fork_child(&mut self) -> shared::Result<(Process, OwnedFd, OwnedFd)> {
        let system = |what: &str, e: nix::Error| Error::system(format!("{what}: {e}"));
        let (job_out, job_in) = pipe().map_err(|e| system("cannot create a pipe", e))?;
        let (result_out, result_in) = pipe().map_err(|e| system("cannot create a pipe", e))?;
        let parent = getpid();
        // SAFETY: this process has one thread (see above), so the child starts with every lock
        // free; the child never returns from `serve_jobs`, it ends with `_exit`.
        match unsafe { fork() }.map_err(|e| system("cannot fork a worker process", e))? {
            ForkResult::Child => {
                close_inherited(std::mem::take(&mut self.workers), self.extras.writer.take());
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
                Ok((Process::new(child), job_in, result_out))
            }
        }
    }

    /// The event loop: hand out tasks, start what the pool lacks, wait for outcomes or the next
    /// deadline, and deal with the children that ended or ran past their timeout.
    fn serve(&mut self) -> shared::Result<()> {
        let mut lost: Vec<(Pid, WhyLost)> = Vec::new();
        loop {
            self.dispatch();
            let forking = self.grow()?;
            if self.outcomes.complete() && forking == Forking::Done {
                return Ok(());
            }
            // Until an outcome or the next deadline; not at all while children are left to start.
            let timeout = forking.poll_timeout(|| {
                worker::until_next_deadline(&self.workers, self.plan.timeout, self.clock.now())
            });
            self.wait(timeout, &mut lost)?;
            // Timeouts are checked after the outcomes are read: an outcome that arrived in time
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

    /// Starts the children the pool lacks: all the `size` children the run asks for, as
    /// `Pool(N)` starts N, then one in place of each one lost while work is left. A large pool
    /// is started a burst at a time (see `bursts.rs`); the answer says whether children are
    /// left to start. The parent still has one thread and no connection, so a fork mid-run is
    /// as safe as the first.
    fn grow(&mut self) -> shared::Result<Forking> {
        let unforked = self.size.saturating_sub(self.notes.workers_started());
        let working = self.workers.iter().filter(|w| !w.is_released()).count();
        let lost = (!self.pending.is_empty()).then(|| self.size.saturating_sub(working));
        let (now, forking) = bursts::this_round(unforked.max(lost.unwrap_or(0)));
        for _ in 0..now {
            self.start_worker()?;
        }
        Ok(forking)
    }

    /// Hands pending tasks to children in list-scheduling order: each task, in turn, to a
    /// child that is idle; failing that, to a busy child if pipelining allows it.
    fn dispatch(&mut self) {
        // One pass finds every idle child: searching from the start for each task would cost a
        // million steps when a thousand children finish at once.
        let idle: Vec<usize> = (0..self.workers.len())
            .filter(|&i| self.workers[i].is_idle())
            .collect();
        // One reading of the clock for the round: it hands out jobs without waiting.
        let (mut idle, now) = (idle.into_iter(), self.clock.now());
        while let Some(&task) = self.pending.front() {
            let holdings = self.workers.iter().map(Worker::holding);
            let pipelining = &mut self.extras.pipelining;
            let Some(i) = idle.next().or_else(|| pipelining.busy_child(holdings)) else {
                break;
            };
            self.pending.pop_front();
            let next = &self.plan.workload.tasks[task - 1];
            let short = pipelining.is_short(next);
            self.workers[i].send(task, now, short);
            debug!(worker = %self.workers[i].process.name(), task, query = next.name(), "sent a task");
        }
        // One `write` per child for all the jobs it was given this round.
        self.workers.iter_mut().for_each(Worker::flush);
        // With nothing left to hand out, an idle child is released at once: closing its job pipe
        // tells it to finish. The pool shrinks as the queue empties, and each child's exit (its
        // memory figures, its teardown) overlaps the last tasks instead of following them.
        if self.pending.is_empty() {
            for w in self.workers.iter_mut().filter(|w| w.sent.is_empty()) {
                w.release();
            }
        }
    }

    /// Waits until a child writes or dies, or `timeout` passes, and handles what the children
    /// wrote. Children whose result pipe reached end of file are added to `lost`.
    fn wait(&mut self, timeout: PollTimeout, lost: &mut Vec<(Pid, WhyLost)>) -> shared::Result<()> {
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
                self.notes.ready(w.started, at);
            }
            ChildMessage::Unavailable(message) => {
                // The message names the database already ("cannot open PATH: why").
                return Err(Error::input(format!("a worker process: {message}")));
            }
            ChildMessage::Done { task, attempt } => {
                if w.answered(task, attempt.finished()).is_none() {
                    return Err(Error::system(format!(
                        "worker pid {} answered task {task}, which it was not running",
                        w.process.pid
                    )));
                }
                let task = &self.plan.workload.tasks[task - 1];
                debug!(worker = %w.process.name(), task = task.id, "answered");
                self.extras.pipelining.took(task, attempt.took());
                let outcome = Outcome::new(task, w.process.name(), attempt.into());
                self.outcomes.record(outcome);
            }
            ChildMessage::Exiting(memory) => self.notes.memory(memory),
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
            self.notes.memory(ChildMemory::of(pid));
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
        // The task it was running, if any, is reported with its cause (see `pipelining.rs`).
        let held = w.may_hold_answers();
        if let Some((job, attempt)) = w.lost_job(timed_out, status, self.clock.now()) {
            let task = &self.plan.workload.tasks[job.task - 1];
            self.notes.event(format!("task {}: {event}", task.id));
            self.outcomes
                .record(Outcome::new(task, w.process.name(), attempt));
        } else {
            let running = ["while running no task", "with answers held back"][usize::from(held)];
            self.notes
                .event(format!("worker pid {pid} {how} {running}"));
        }
        // Never started (or never answered): back to the front of the queue, in their order.
        while let Some(waiting) = w.sent.pop_back() {
            self.extras.pipelining.suspect_if(held, waiting.task);
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
        if let Some(writer) = self.extras.writer.take() {
            writer.stop(self.plan.timeout + child::BACKSTOP, &mut self.notes);
        }
        Ok(())
    }
}

/// In a freshly forked child: closes the parent's ends of every sibling's pipes and of the
/// writer's control stream, which the child inherited with the rest of the parent's memory.
///
/// They must go. A job pipe reaches end of file only when *every* copy of its write end is
/// closed, so a copy held here would keep that sibling waiting for jobs forever after the
/// parent closed its own (or died); the writer's control stream likewise. Their owners are
/// forgotten, never dropped: a sibling's `Process` would kill the sibling on drop, and freeing
/// a thousand siblings' books would write to, and so copy, every page of the parent's heap that
/// they sit on, in every child.
fn close_inherited(siblings: Vec<Worker>, writer: Option<WriterProcess>) {
    let mut ends: Vec<RawFd> = siblings.iter().flat_map(Worker::parent_ends).collect();
    ends.extend(writer.as_ref().map(WriterProcess::parent_end));
    std::mem::forget(siblings);
    std::mem::forget(writer);
    // SAFETY: the owners of these descriptors were forgotten just above: none will use or
    // close one again. (`close_range.rs` closes them a run at a time.)
    unsafe { close_range::close_all(&mut ends) };
}

//! Worker processes: N children made with `fork()`, each with its own SQLite connection, fed
//! tasks and read for results over pipes.
//!
//! This is the Rust counterpart of the guide's `multiprocessing.Pool(processes=N)` with
//! `apply_async(...)` and `get(timeout=...)`. The parent forks N children while it still has a
//! single thread; each child opens its own connection and then serves one task at a time until
//! its pipe closes. The parent keeps the queue of tasks, writes each job down the pipe of a free
//! child, and waits for results with `poll()` and a deadline. Tasks and results cross the pipes
//! as length-prefixed frames serialised with serde and postcard (bincode, once the usual choice,
//! is no longer maintained: its last release is only a compile error).
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
//! a child is ready, connection open, in a fraction of a millisecond, against the guide's
//! "~100 ms per process" for Python (whose `spawn` and `forkserver` start methods begin each
//! worker with a fresh interpreter that imports its modules again).
//! Each task then costs a write and a read on a pipe and two process wake-ups, a few
//! microseconds; see [`Options::pipeline`] for how tiny tasks avoid paying it in full. Each
//! child holds its own connection and page cache, so memory grows with the workers; the report
//! shows each child's own peak. The measured comparison is in the README's table, produced by
//! `scripts/compare.sh`.
//!
//! **The rules that make `fork()` safe here**, each explained where it applies below:
//! fork only while the parent has a single thread; fork while the parent holds no SQLite
//! connection; in each child, close every pipe end that belongs to a sibling; make every child
//! die with its parent; and reap every child, so that no zombie and no orphan is left.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use shared::workload::Query;
use shared::{Attempt, Clock, Dispatch, Error, Method, Outcome, Outcomes, Plan, Run, Status, Task};

pub const METHOD: Method = Method {
    name: "multiprocessing",
    survives_crash: true,
};

/// How the pool behaves beyond the common flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many jobs a child may hold at once (the one it runs and those waiting in its pipe),
    /// when every job it already holds is known to be short.
    ///
    /// A round trip per task (the parent writes a job, the child wakes, runs it, writes the
    /// result, the parent wakes) costs about 7 µs, far more than `SELECT 1`. Writing the next
    /// jobs before the child asks for them hides that cost. But a job waiting in one child's
    /// pipe cannot move to another child that becomes free first, so it must never wait behind
    /// a task that may be long: that would break list scheduling, the order a shared queue
    /// gives. So a busy child is given another job only while every job it holds has no
    /// latency, no injected fault, and a query that took under [`SHORT_TASK`] the last time it
    /// ran. A queued job then waits at most `pipeline × SHORT_TASK` longer than a
    /// shared queue would make it wait. 1 turns pipelining off.
    pub pipeline: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { pipeline: 32 }
    }
}

/// Below this measured duration a query counts as short, and jobs may be queued behind it.
pub const SHORT_TASK: Duration = Duration::from_micros(100);

/// How much later than the parent's deadline a child stops a task by itself. The parent's
/// `SIGKILL` at the timeout is what stops a task, whatever it is doing (a query, a sleep, a loop
/// in code that no SQLite progress handler watches); the child's own deadline is only a
/// backstop for a parent that is late to kill, so that the child answers `timed_out` anyway.
const BACKSTOP: Duration = Duration::from_secs(1);

/// How many events (timeouts, deaths, replacements) the notes list before summing up the rest.
const MAX_EVENT_NOTES: usize = 10;

// ---------------------------------------------------------------------------------------------
// The frames that cross the pipes.
//
// postcard is a compact binary format that is not self-describing: a reader must know the
// type it reads, so these are small types of their own, with no untagged enums and no fields
// left out when empty (the JSON report types rely on both; postcard would misread them). A frame is a 4-byte little-endian length, then
// that many bytes of postcard. The child already has the whole workload in memory (fork copied
// it), so a job is just a task id.
// ---------------------------------------------------------------------------------------------

/// Parent to child: run this task.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    task: usize,
}

/// Child to parent.
#[derive(Debug, Serialize, Deserialize)]
enum Report {
    /// The child's connection is open: it can take jobs. `at` is when, by the child's clock,
    /// so that the startup measured is the child's own, not how soon the parent looked.
    Ready { at: Duration },
    /// The child could not open the database, and exits.
    Unavailable(String),
    /// One task's attempt. Times are offsets from the run's [`Clock`], which the child got a
    /// copy of with everything else at the fork; `Instant` is the system-wide monotonic clock,
    /// so its offsets and the parent's agree.
    Done {
        task: usize,
        started: Duration,
        sql_started: Option<Duration>,
        finished: Duration,
        status: WireStatus,
    },
    /// The child's last word, when its job pipe closed: its own memory figures.
    Exiting { peak_rss_kib: u64, pss_kib: u64 },
}

/// [`Status`] as it crosses a pipe (a child never reports a task as not run).
#[derive(Debug, Serialize, Deserialize)]
enum WireStatus {
    Ok { rows: u64, checksum: u64 },
    Failed(String),
    TimedOut,
}

fn frame(message: &impl Serialize) -> Vec<u8> {
    // Our own plain structs and enums always serialise.
    let body = postcard::to_stdvec(message).expect("a frame serialises");
    let mut bytes = Vec::with_capacity(4 + body.len());
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// Reads one frame, blocking; `None` at end of file (the other side closed its end).
fn read_frame<T: DeserializeOwned>(reader: &mut impl Read) -> io::Result<Option<T>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut body = vec![0u8; u32::from_le_bytes(length) as usize];
    reader.read_exact(&mut body)?;
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(io::Error::other)
}

/// Takes every complete frame off the front of `inbox`, leaving a partial one for later.
fn split_frames<T: DeserializeOwned>(inbox: &mut Vec<u8>) -> io::Result<Vec<T>> {
    let mut messages = Vec::new();
    let mut at = 0;
    while inbox.len() - at >= 4 {
        // The slice is exactly 4 bytes long, so the conversion cannot fail.
        let length = u32::from_le_bytes(inbox[at..at + 4].try_into().expect("4 bytes")) as usize;
        if inbox.len() - at - 4 < length {
            break;
        }
        messages
            .push(postcard::from_bytes(&inbox[at + 4..at + 4 + length]).map_err(io::Error::other)?);
        at += 4 + length;
    }
    inbox.drain(..at);
    Ok(messages)
}

// ---------------------------------------------------------------------------------------------
// The parent.
// ---------------------------------------------------------------------------------------------

/// Runs the plan on worker processes.
///
/// `plan.workers` children (default: one per core, as `Pool()` does) are forked, or fewer when
/// there are fewer tasks. Refuses to run in a process with more than one thread, where `fork()`
/// is not safe: see [`Pool::fork_worker`].
pub fn run(plan: &Plan, options: &Options) -> shared::Result<Run> {
    let threads = proc_number("/proc/self/status", "Threads:");
    if threads.is_some_and(|n| n > 1) {
        return Err(Error::system(format!(
            "multiprocessing forks its workers, which is only safe in a process with one thread, \
             and this one has {}",
            threads.unwrap_or_default()
        )));
    }
    let workers = plan
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut pool = Pool {
        plan,
        clock: Clock::start(),
        size: workers.min(plan.workload.tasks.len()),
        pipeline: options.pipeline.max(1),
        workers: Vec::new(),
        pending: plan.workload.tasks.iter().map(|t| t.id).collect(),
        outcomes: Outcomes::new(plan),
        last_took: HashMap::new(),
        startup: Startup::default(),
        memory: Memory::default(),
        events: Vec::new(),
        pipelined: 0,
        forks: 0,
    };
    pool.serve()?;
    pool.shut_down()?;
    let wall = pool.clock.now();
    let notes = pool.notes();
    Ok(Run {
        workers,
        // Every worker process has a connection of its own.
        connections: None,
        dispatch: Dispatch::Fifo,
        wall,
        startup: pool.startup.all_ready,
        children_max_rss_kib: pool.memory.peaks.iter().copied().max(),
        children_pss_kib: (!pool.memory.shares.is_empty()).then(|| pool.memory.shares.iter().sum()),
        notes,
        outcomes: pool.outcomes.finish(),
    })
}

/// Everything the parent knows while the run goes on.
///
/// Every task is in exactly one place: `pending` (not yet sent, in submission order), a
/// worker's `held` (sent to that child, not yet answered), or `outcomes` (done). The run is
/// over when nothing is pending or held.
struct Pool<'a> {
    plan: &'a Plan,
    clock: Clock,
    /// How many children the pool keeps alive while there is work for them.
    size: usize,
    pipeline: usize,
    workers: Vec<Worker>,
    pending: VecDeque<usize>,
    outcomes: Outcomes,
    /// How long each query took the last time it ran, to tell which jobs are short. The last
    /// time rather than the longest: a query's first run on each connection also prepares its
    /// statement, hundreds of microseconds that later runs do not pay.
    last_took: HashMap<*const Query, Duration>,
    startup: Startup,
    memory: Memory,
    /// What went wrong with children, one sentence each, for the notes.
    events: Vec<String>,
    /// How many jobs were written to a child that was already busy.
    pipelined: usize,
    /// How many children were forked, the first `size` and any forked in place of lost ones.
    forks: usize,
}

/// One child, as the parent sees it.
struct Worker {
    process: Process,
    /// The write end of the child's job pipe; `None` once closed to tell the child to finish.
    jobs: Option<File>,
    /// The read end of the child's result pipe.
    results: File,
    /// Bytes read from `results` that do not make a whole frame yet.
    inbox: Vec<u8>,
    /// Frames to write to `jobs` at the end of this round of dispatching: one `write` for all.
    outbox: Vec<u8>,
    /// When the fork happened, and when the child reported ready.
    forked: Duration,
    ready: Option<Duration>,
    /// The jobs sent and not answered yet, in the order the child runs them: the first is the
    /// one it is running, the others wait in its pipe.
    held: VecDeque<Held>,
    /// When the child started the first job of `held`: when the job was sent to an idle child,
    /// or when the child finished the job before it.
    head_started: Duration,
}

struct Held {
    task: usize,
    queued: Duration,
}

/// A child process that is killed and reaped when dropped, unless it was reaped already: the
/// guarantee that an error or a panic in the parent leaves no child behind.
struct Process {
    pid: Pid,
    reaped: bool,
}

impl Process {
    /// Waits for the child to end and collects its exit status, so that it does not linger as a
    /// zombie. Blocks: call it only on a child that has exited or is about to.
    fn reap(&mut self) -> WaitStatus {
        self.reaped = true;
        loop {
            match waitpid(self.pid, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                // ECHILD: someone else reaped it; there is nothing left to wait for.
                Err(e) => return WaitStatus::Exited(self.pid, -(e as i32)),
                Ok(status) => return status,
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGKILL);
            self.reap();
        }
    }
}

#[derive(Default)]
struct Startup {
    /// When the last of the first `size` children reported ready.
    all_ready: Duration,
    /// Fork until ready, for each of the first children.
    each: Vec<Duration>,
}

#[derive(Default)]
struct Memory {
    /// Each child's own peak resident memory (`VmHWM`), in KiB.
    peaks: Vec<u64>,
    /// Each child's proportional share of memory at its exit (`Pss`), in KiB.
    shares: Vec<u64>,
}

/// Why the parent gave up on a child.
#[derive(Debug, Clone, Copy)]
enum Loss {
    /// This task, the one it was running, passed its timeout: the parent kills it.
    TimedOut(usize),
    /// Its result pipe reached end of file: it exited, as told to once let go, or died on its
    /// own (a crash, a kill from outside).
    Died,
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
        self.forks += 1;
        // SAFETY: this process has one thread (see above), so the child starts with every lock
        // free; the child never returns from `serve_jobs`, it ends with `_exit`.
        match unsafe { fork() }.map_err(|e| system("cannot fork a worker process", e))? {
            ForkResult::Child => {
                // The child inherited the parent's ends of every sibling's pipes. It must close
                // them: a job pipe reaches end of file only when *every* copy of its write end
                // is closed, so a sibling's copy would keep that sibling waiting for jobs
                // forever after the parent closed its own. `close_in_child` closes them without
                // killing the siblings (only the parent does that).
                for sibling in self.workers.drain(..) {
                    sibling.close_in_child();
                }
                drop(job_in);
                drop(result_out);
                child::serve_jobs(
                    self.plan,
                    self.clock,
                    parent,
                    File::from(job_out),
                    File::from(result_in),
                )
            }
            ForkResult::Parent { child } => {
                // The child's ends: the parent's copies must go, or the result pipe would never
                // reach end of file when the child dies.
                drop(job_out);
                drop(result_in);
                self.workers.push(Worker {
                    process: Process {
                        pid: child,
                        reaped: false,
                    },
                    jobs: Some(File::from(job_in)),
                    results: File::from(result_out),
                    inbox: Vec::new(),
                    outbox: Vec::new(),
                    forked,
                    ready: None,
                    held: VecDeque::new(),
                    head_started: forked,
                });
                Ok(())
            }
        }
    }

    /// The event loop: dispatch, wait for results or the next deadline, handle what happened.
    fn serve(&mut self) -> shared::Result<()> {
        let mut lost: Vec<(Pid, Loss)> = Vec::new();
        while !self.pending.is_empty() || self.workers.iter().any(|w| !w.held.is_empty()) {
            // The pool grows by one child per turn of this loop, so that the first children are
            // at work while the others are still being forked; the same step forks a fresh
            // child in place of each one lost, while there is work left for it. The parent
            // still has one thread and no connection, so a fork mid-run is as safe as the first.
            let working = self.workers.iter().filter(|w| w.jobs.is_some()).count();
            let growing = working < self.size && !self.pending.is_empty();
            if growing {
                self.fork_worker()?;
            }
            self.dispatch();
            self.wait(&mut lost, growing)?;
            // Timeouts are checked after the results are read: a result that arrived in time
            // wins over the deadline that passed while the parent was busy.
            let now = self.clock.now();
            for w in &self.workers {
                if let Some(head) = w.held.front()
                    && w.head_started + self.plan.timeout <= now
                {
                    lost.push((w.process.pid, Loss::TimedOut(head.task)));
                }
            }
            for (pid, loss) in lost.drain(..) {
                self.bury(pid, loss)?;
            }
        }
        Ok(())
    }

    /// Hands pending tasks to children in list-scheduling order: each task, in turn, to a
    /// child that is idle; failing that, queued behind short jobs only (see [`Options`]).
    fn dispatch(&mut self) {
        while let Some(&task) = self.pending.front() {
            let idle = self
                .workers
                .iter()
                .position(|w| w.takes_jobs() && w.held.is_empty());
            let Some(i) = idle.or_else(|| self.behind_short_jobs()) else {
                break;
            };
            self.pending.pop_front();
            let now = self.clock.now();
            let w = &mut self.workers[i];
            if w.held.is_empty() {
                w.head_started = now;
            } else {
                self.pipelined += 1;
            }
            w.held.push_back(Held { task, queued: now });
            w.outbox.extend(frame(&Job { task }));
        }
        for w in &mut self.workers {
            if let (false, Some(jobs)) = (w.outbox.is_empty(), &mut w.jobs) {
                // This never blocks: a child holds at most `pipeline` jobs of a few bytes each,
                // far less than a pipe's 64 KiB. A failed write means the child is dead; its
                // result pipe will say so, and its jobs will be sent again.
                let _ = jobs.write_all(&w.outbox);
            }
            w.outbox.clear();
        }
        // With nothing left to hand out, an idle child is let go at once: closing its job pipe
        // tells it to finish. The pool shrinks as the queue empties, and each child's exit (a
        // few hundred microseconds of CPU) overlaps the last tasks instead of following them.
        if self.pending.is_empty() {
            for w in self.workers.iter_mut().filter(|w| w.held.is_empty()) {
                w.jobs = None;
            }
        }
    }

    /// The busy child holding the fewest jobs, among those whose every job is known short.
    fn behind_short_jobs(&self) -> Option<usize> {
        let is_short = |task: usize| {
            let task = &self.plan.workload.tasks[task - 1];
            task.fault.is_none()
                && task.latency().is_zero()
                && self
                    .last_took
                    .get(&Arc::as_ptr(&task.query))
                    .is_some_and(|&d| d < SHORT_TASK)
        };
        self.workers
            .iter()
            .enumerate()
            .filter(|(_, w)| w.takes_jobs() && w.held.len() < self.pipeline)
            .filter(|(_, w)| w.held.iter().all(|h| is_short(h.task)))
            .min_by_key(|(_, w)| w.held.len())
            .map(|(i, _)| i)
    }

    /// Waits until a child writes or dies, or the earliest deadline passes (or not at all while
    /// the pool is `growing`), and takes in what the children wrote. Children whose pipe reached
    /// end of file are added to `lost`.
    fn wait(&mut self, lost: &mut Vec<(Pid, Loss)>, growing: bool) -> shared::Result<()> {
        let now = self.clock.now();
        let earliest = self
            .workers
            .iter()
            .filter(|w| !w.held.is_empty())
            .map(|w| w.head_started)
            .min();
        let timeout = match earliest {
            _ if growing => PollTimeout::ZERO,
            None => PollTimeout::NONE,
            Some(started) => {
                let left = (started + self.plan.timeout).saturating_sub(now);
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
        let readable: Vec<usize> = fds
            .iter()
            .enumerate()
            .filter(|(_, fd)| fd.any().unwrap_or(false))
            .map(|(i, _)| i)
            .collect();
        drop(fds);
        let mut buffer = [0u8; 16 * 1024];
        for i in readable {
            match self.workers[i].read_reports(&mut buffer)? {
                Some(reports) => {
                    for report in reports {
                        self.take(i, report)?;
                    }
                }
                None => lost.push((self.workers[i].process.pid, Loss::Died)),
            }
        }
        Ok(())
    }

    /// Takes in one report from the child at `i`.
    fn take(&mut self, i: usize, report: Report) -> shared::Result<()> {
        let w = &mut self.workers[i];
        match report {
            Report::Ready { at } => {
                w.ready = Some(at);
                if self.startup.each.len() < self.size {
                    self.startup.each.push(at.saturating_sub(w.forked));
                    self.startup.all_ready = self.startup.all_ready.max(at);
                }
            }
            Report::Unavailable(message) => {
                return Err(Error::input(format!(
                    "a worker process cannot open {}: {message}",
                    self.plan.database.path().display()
                )));
            }
            Report::Done {
                task,
                started,
                sql_started,
                finished,
                status,
            } => {
                // A child answers its jobs in the order it got them.
                let Some(held) = w.held.pop_front().filter(|h| h.task == task) else {
                    return Err(Error::system(format!(
                        "worker pid {} answered task {task}, which it was not running",
                        w.process.pid
                    )));
                };
                // The child started its next job the moment it finished this one.
                w.head_started = finished;
                let status = match status {
                    WireStatus::Ok { rows, checksum } => Status::Ok { rows, checksum },
                    WireStatus::Failed(message) => Status::Failed(message),
                    WireStatus::TimedOut => Status::TimedOut,
                };
                let task = &self.plan.workload.tasks[task - 1];
                self.last_took
                    .insert(Arc::as_ptr(&task.query), finished.saturating_sub(started));
                let attempt = Attempt {
                    started,
                    sql_started,
                    finished,
                    status,
                };
                self.outcomes.record(Outcome::new(
                    task,
                    worker_name(w.process.pid),
                    held.queued,
                    attempt,
                ));
            }
            Report::Exiting {
                peak_rss_kib,
                pss_kib,
            } => {
                self.memory.peaks.push(peak_rss_kib);
                self.memory.shares.push(pss_kib);
            }
        }
        Ok(())
    }

    /// Ends the life of a child that ended or that the parent gave up on: kills it if it still
    /// runs, reaps it, takes in whatever it wrote before it died, reports the task it was
    /// running, and puts the jobs still waiting in its pipe back at the front of the queue, so
    /// that no task is lost.
    fn bury(&mut self, pid: Pid, loss: Loss) -> shared::Result<()> {
        let Some(i) = self.workers.iter().position(|w| w.process.pid == pid) else {
            return Ok(()); // Already buried this round (it timed out and died at once).
        };
        if let Loss::TimedOut(_) = loss {
            // Its memory figures die with it, so read them first, from the outside.
            if let Some(peak) = proc_number(&format!("/proc/{pid}/status"), "VmHWM:") {
                self.memory.peaks.push(peak);
            }
            let _ = kill(pid, Signal::SIGKILL);
        }
        let let_go = self.workers[i].jobs.is_none();
        let status = self.workers[i].process.reap();
        // Results it wrote before it died are genuine: they are taken in before the blame.
        for report in self.workers[i].read_last_reports()? {
            self.take(i, report)?;
        }
        let mut w = self.workers.remove(i);
        if let_go && matches!(status, WaitStatus::Exited(_, 0)) {
            return Ok(()); // A child let go by `dispatch`, which finished as it was told to.
        }
        let how = describe(status);
        let now = self.clock.now();
        // The task it was running when it died, if any. A task that timed out may have been
        // answered in the instant before the kill: then the child died running nothing wrong,
        // and every job it still held goes back to the queue.
        let running = match (w.held.front(), loss) {
            (Some(head), Loss::TimedOut(task)) if head.task != task => None,
            _ => w.held.pop_front(),
        };
        let event = match running {
            Some(head) => {
                let task = &self.plan.workload.tasks[head.task - 1];
                let (status, event) = match loss {
                    Loss::TimedOut(_) => (
                        Status::TimedOut,
                        format!(
                            "task {}: past its timeout, worker pid {pid} was killed (SIGKILL)",
                            task.id
                        ),
                    ),
                    Loss::Died => (
                        Status::Failed(format!(
                            "worker process pid {pid} {how} while running this task"
                        )),
                        format!("task {}: worker pid {pid} {how}", task.id),
                    ),
                };
                let attempt = Attempt {
                    started: w.head_started,
                    sql_started: None,
                    finished: now,
                    status,
                };
                self.outcomes
                    .record(Outcome::new(task, worker_name(pid), head.queued, attempt));
                event
            }
            None => format!("worker pid {pid} {how} while running no task"),
        };
        self.events.push(event);
        // Never started: back to the front of the queue, in their order.
        while let Some(waiting) = w.held.pop_back() {
            self.pending.push_front(waiting.task);
        }
        Ok(())
    }

    /// Closes every job pipe, which tells each child to finish: it sends its memory figures and
    /// exits. Then collects each child's last report and reaps it.
    ///
    /// Every child is idle here (every task has its outcome), so each one exits as soon as it
    /// reads end of file, and the blocking reads below return promptly.
    fn shut_down(&mut self) -> shared::Result<()> {
        for w in &mut self.workers {
            w.jobs = None;
        }
        for i in 0..self.workers.len() {
            for report in self.workers[i].read_last_reports()? {
                self.take(i, report)?;
            }
            self.workers[i].process.reap();
        }
        self.workers.clear();
        Ok(())
    }

    /// What the report should say about this run, one sentence each.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let each = &self.startup.each;
        if !each.is_empty() {
            let mean = each.iter().sum::<Duration>() / each.len() as u32;
            notes.push(format!(
                "{} worker processes forked; fork until ready (connection open): {:.0} µs per child on average, \
                 all ready {:.2} ms after the start",
                each.len(),
                mean.as_secs_f64() * 1e6,
                self.startup.all_ready.as_secs_f64() * 1e3
            ));
        }
        if let Some(peak) = self.memory.peaks.iter().max() {
            let shares: u64 = self.memory.shares.iter().sum();
            notes.push(format!(
                "children's memory, measured by each child in /proc/self: largest peak RSS (VmHWM) {peak} KiB, \
                 counting pages shared copy-on-write with the parent in full; proportional share (Pss) at exit, \
                 summed over the children that exited normally ({}): {shares} KiB \
                 (getrusage's figure for children starts at the parent's peak at fork, so it overstates)",
                self.memory.shares.len()
            ));
        }
        if self.pipelined > 0 {
            notes.push(format!(
                "{} jobs were written to a busy child (up to {} held per child), all queued behind jobs under {} µs",
                self.pipelined,
                self.pipeline,
                SHORT_TASK.as_micros()
            ));
        }
        if self.forks > self.size {
            notes.push(format!(
                "lost worker processes replaced by freshly forked ones: {}",
                self.forks - self.size
            ));
        }
        let shown = self.events.len().min(MAX_EVENT_NOTES);
        notes.extend(self.events[..shown].iter().cloned());
        if self.events.len() > shown {
            notes.push(format!(
                "and {} more workers lost and replaced",
                self.events.len() - shown
            ));
        }
        notes
    }
}

impl Worker {
    /// Whether the parent may send it jobs: it is ready, and has not been let go.
    fn takes_jobs(&self) -> bool {
        self.ready.is_some() && self.jobs.is_some()
    }

    /// Reads what the child has written so far and returns the complete reports in it, or
    /// `None` at end of file: the child has exited (or closed its pipe, which it does only by
    /// exiting). One `read`, which `poll` said will not block; a partial frame waits in `inbox`.
    fn read_reports(&mut self, buffer: &mut [u8]) -> shared::Result<Option<Vec<Report>>> {
        match self.results.read(buffer) {
            Ok(0) => Ok(None),
            Ok(n) => {
                self.inbox.extend_from_slice(&buffer[..n]);
                self.split_inbox().map(Some)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Some(Vec::new())),
            Err(_) => Ok(None),
        }
    }

    /// Reads up to end of file, for a child that has ended or is ending: everything it wrote is
    /// in the pipe, and nothing more will come.
    fn read_last_reports(&mut self) -> shared::Result<Vec<Report>> {
        let mut rest = Vec::new();
        let _ = self.results.read_to_end(&mut rest);
        self.inbox.extend_from_slice(&rest);
        self.split_inbox()
    }

    fn split_inbox(&mut self) -> shared::Result<Vec<Report>> {
        split_frames(&mut self.inbox).map_err(|e| {
            Error::system(format!(
                "worker pid {} sent a malformed frame: {e}",
                self.process.pid
            ))
        })
    }

    /// In a freshly forked child, for a sibling's entry: closes the parent's ends of that
    /// sibling's pipes, and forgets its `Process` without running its `Drop`, which would kill
    /// the sibling.
    fn close_in_child(self) {
        let Worker {
            process,
            jobs,
            results,
            ..
        } = self;
        std::mem::forget(process);
        drop(jobs);
        drop(results);
    }
}

fn worker_name(pid: Pid) -> String {
    format!("pid {pid}")
}

/// How a child ended, in words: which signal killed it, or which code it exited with.
fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Signaled(_, signal, _) => format!("was killed by {signal}"),
        WaitStatus::Exited(_, code) => format!("exited with code {code}"),
        other => format!("ended ({other:?})"),
    }
}

/// The number after `key` in a `/proc` file such as `/proc/PID/status` (`VmHWM:   12345 kB`).
fn proc_number(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The child.
// ---------------------------------------------------------------------------------------------

mod child {
    use super::*;

    /// A child's whole life: serve jobs until the job pipe closes, then exit.
    ///
    /// It ends with `_exit`, never by returning: returning would run the parent's code in the
    /// child (the rest of `run`, the report, the baseline), and even `std::process::exit`
    /// would flush stdout buffers the parent had filled before the fork, printing them twice.
    pub(super) fn serve_jobs(
        plan: &Plan,
        clock: Clock,
        parent: Pid,
        jobs: File,
        results: File,
    ) -> ! {
        let code = panic::catch_unwind(AssertUnwindSafe(|| {
            serve(plan, clock, parent, jobs, results)
        }))
        .unwrap_or(101);
        // SAFETY: `_exit` ends the process at once; nothing in it can be left half-done that
        // matters, since the parent reaps the child and reads whatever it wrote.
        unsafe { libc::_exit(code) }
    }

    fn serve(plan: &Plan, clock: Clock, parent: Pid, jobs: File, mut results: File) -> i32 {
        // Die with the parent: the kernel sends SIGKILL when the parent ends, however it ends.
        // The parent may have died between the fork and this line, in which case the child
        // already belongs to another process and the signal will never come: hence the check.
        // (The job pipe's end of file is a third way to notice, once the child waits on it.)
        if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
            return 1;
        }
        let conn = match plan.database.open() {
            Ok(conn) => conn,
            Err(e) => {
                let _ = results.write_all(&frame(&Report::Unavailable(e.to_string())));
                return 1;
            }
        };
        if results
            .write_all(&frame(&Report::Ready { at: clock.now() }))
            .is_err()
        {
            return 1;
        }
        // Buffered: when the parent writes several jobs at once, one `read` takes them all.
        let mut jobs = BufReader::new(jobs);
        loop {
            let job: Job = match read_frame(&mut jobs) {
                Ok(Some(job)) => job,
                Ok(None) => break, // The parent closed the pipe: the run is over.
                Err(_) => return 1,
            };
            let task: &Task = &plan.workload.tasks[job.task - 1];
            // A panic costs its task only: the child reports it and takes the next job.
            let attempt = shared::catch_panic(&clock, || {
                shared::run_blocking(&conn, task, plan.timeout + BACKSTOP, &clock)
            });
            let status = match attempt.status {
                Status::Ok { rows, checksum } => WireStatus::Ok { rows, checksum },
                Status::Failed(message) => WireStatus::Failed(message),
                // A task that ran is never `NotRun`; the arm only keeps the match whole.
                Status::TimedOut | Status::NotRun => WireStatus::TimedOut,
            };
            let done = Report::Done {
                task: job.task,
                started: attempt.started,
                sql_started: attempt.sql_started,
                finished: attempt.finished,
                status,
            };
            if results.write_all(&frame(&done)).is_err() {
                return 1; // The parent is gone.
            }
        }
        drop(conn);
        let exiting = Report::Exiting {
            peak_rss_kib: proc_number("/proc/self/status", "VmHWM:").unwrap_or(0),
            pss_kib: proc_number("/proc/self/smaps_rollup", "Pss:").unwrap_or(0),
        };
        let _ = results.write_all(&frame(&exiting));
        0
    }
}

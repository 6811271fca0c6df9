//! A worker process's whole life, from the fork to `_exit`: close what it inherited from its
//! siblings, say it is ready, then read jobs from its job pipe and write each result back, one
//! task at a time, until the job pipe reaches end of file. Its connection it opens when its
//! first task needs one (see [`LazyConnection`]). That end of file is how a child learns to
//! finish, and it is also the portable way it learns that its parent has died: the kernel
//! closes a dead process's pipe ends, so a child waiting for a job wakes up and exits, on every
//! Unix. A child busy with a task notices only when the task ends (its result write fails, or
//! its next read reaches end of file), which the task's own deadline, its timeout plus
//! [`BACKSTOP`], bounds for a query or a latency wait. On Linux the child also asks the kernel
//! to kill it the moment its parent dies, which ends it even mid-task.
//! The parent (`lib.rs`) forks and calls [`serve_jobs`]; the messages are in `frames.rs`.

use std::cell::OnceCell;
use std::fs::File;
use std::io::{BufReader, Write};
use std::os::fd::{OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use nix::unistd::{Pid, getppid};
use rusqlite::Connection;
use shared::{Clock, Plan, Task};

use crate::frames::{ChildMessage, Job, frame, read_frame};
use crate::platform;
use crate::worker::Worker;
use crate::writer::WriterProcess;

/// How much later than the parent's deadline a child stops a task by itself. The parent's
/// `SIGKILL` at the timeout is what stops a task, whatever it is doing (a query, a sleep, a loop
/// in code that no SQLite progress handler watches); the child's own deadline is only a
/// backstop for a parent that is late to kill, so that the child answers `timed_out` anyway.
pub(crate) const BACKSTOP: Duration = Duration::from_secs(1);

/// A child's whole life: serve jobs until the job pipe closes, then exit.
///
/// It ends with `_exit`, never by returning: returning would run the parent's code in the
/// child (the rest of `run`, the report, the baseline), and even `std::process::exit`
/// would flush stdout buffers the parent had filled before the fork, printing them twice.
pub(crate) fn serve_jobs(forked: Forked<'_>, jobs: OwnedFd, results: OwnedFd) -> ! {
    exit_after(|| serve(forked, jobs, results))
}

/// What a forked process (a worker, or the writer) starts from: the run it is part of, and the
/// parent whose life it must not outlast. `death_signal` asks for `PR_SET_PDEATHSIG` where
/// there is one (Linux); the tests turn it off to try the portable way, end of file.
#[derive(Clone, Copy)]
pub(crate) struct Forked<'a> {
    pub plan: &'a Plan,
    pub clock: Clock,
    pub parent: Pid,
    pub death_signal: bool,
}

impl Forked<'_> {
    /// Ties this process's life to its parent's, and says whether the parent is still there.
    /// The parent may have died between the fork and this call, in which case this process
    /// already belongs to another and the death signal will never come: hence the check.
    /// (Without the signal, end of file on the pipe or socket from the parent would end the
    /// process anyway, a step later.)
    pub fn still_with_parent(&self) -> bool {
        if self.death_signal && !platform::die_with_parent() {
            return false;
        }
        getppid() == self.parent
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
pub(crate) fn close_inherited(siblings: Vec<Worker>, writer: Option<WriterProcess>) {
    let mut ends: Vec<RawFd> = siblings.iter().flat_map(Worker::parent_ends).collect();
    ends.extend(writer.as_ref().map(WriterProcess::parent_end));
    std::mem::forget(siblings);
    std::mem::forget(writer);
    // SAFETY: the owners of these descriptors were forgotten just above: none will use or
    // close one again.
    unsafe { platform::close_all(&mut ends) };
}

/// Runs a forked process's `life` and ends the process with its exit code (101 if it
/// panicked), without ever returning into the parent's code: for a worker and for the writer.
pub(crate) fn exit_after(life: impl FnOnce() -> i32) -> ! {
    let code = panic::catch_unwind(AssertUnwindSafe(life)).unwrap_or(101);
    // SAFETY: `_exit` ends the process at once; nothing in it can be left half-done that
    // matters, since the parent reaps the process and reads whatever it wrote.
    unsafe { libc::_exit(code) }
}

fn serve(forked: Forked<'_>, jobs: OwnedFd, results: OwnedFd) -> i32 {
    if !forked.still_with_parent() {
        return 1;
    }
    let Forked { plan, clock, .. } = forked;
    let (jobs, results) = (File::from(jobs), File::from(results));
    // Ready before it has a connection: see `LazyConnection`.
    if !say(&results, &ChildMessage::Ready { at: clock.now() }) {
        return 1;
    }
    let conn = LazyConnection {
        plan,
        results: &results,
        opened: OnceCell::new(),
    };
    // Buffered: when the parent writes several jobs at once, one `read` takes them all.
    let mut jobs = BufReader::new(jobs);
    loop {
        let job: Job = match read_frame(&mut jobs) {
            Ok(Some(job)) => job,
            // The parent closed the pipe: the run is over, or the parent is gone.
            Ok(None) => break,
            Err(_) => return 1,
        };
        let task: &Task = &plan.workload.tasks[job.task - 1];
        // A panic costs its task only: the child reports it and takes the next job.
        let attempt = shared::catch_panic(&clock, || {
            let timeout = plan.timeout + BACKSTOP;
            shared::run_blocking_with(task, timeout, &clock, || conn.get())
        });
        let done = ChildMessage::Done {
            task: job.task,
            attempt: attempt.into(),
        };
        // A failed write means the parent is gone. (Rust programs ignore `SIGPIPE`, so the write
        // returns an error; where the signal is not ignored, it kills the child: it ends anyway.)
        if !say(&results, &done) {
            return 1;
        }
    }
    drop(conn);
    let exiting = ChildMessage::Exiting {
        peak_rss_kib: platform::own_peak_rss_kib(),
        pss_kib: platform::own_pss_kib(),
    };
    // Nobody reads it if the parent is gone, and that is fine.
    say(&results, &exiting);
    0
}

/// Writes one message up the result pipe; false if the parent is gone.
fn say(results: &File, message: &ChildMessage) -> bool {
    let mut results = results;
    results.write_all(&frame(message)).is_ok()
}

/// The child's own connection, opened the first time one of its tasks is about to run SQL,
/// after the task's wait: not at the fork.
///
/// Opening a connection and reading the schema costs a fresh process about a millisecond of
/// CPU (its first page faults, the files opened and mapped, the schema parsed), several times
/// what its fork costs the parent. Opened at the fork, a thousand children would spend it
/// while the parent is still forking their siblings on the same two cores, and the last
/// children would start that much later; opened after a first wait, it is spent once most of
/// the forking is done. On this project's 2-core machine, a pool of a thousand was ready in
/// 0.7 to 1.0 s this way, against 1.4 to 1.9 s when each child opened its connection before
/// saying it was ready, with some children then left without a task. A task whose write goes
/// to the writer process (`--writer single`) needs no connection, and a child that only ever
/// runs those never opens one.
struct LazyConnection<'a> {
    plan: &'a Plan,
    /// Where to say why the connection cannot be opened.
    results: &'a File,
    opened: OnceCell<Connection>,
}

impl LazyConnection<'_> {
    fn get(&self) -> &Connection {
        self.opened.get_or_init(|| match self.plan.database.open() {
            Ok(conn) => conn,
            Err(e) => {
                // Without a connection a child is of no use: it tells the parent why, and the
                // parent ends the run with that error. So the child ends here, in the middle of
                // the task, instead of failing this task and every later one the same way.
                say(self.results, &ChildMessage::Unavailable(e.to_string()));
                // SAFETY: as in `exit_after`; the parent reaps the child and reads its message.
                unsafe { libc::_exit(1) }
            }
        })
    }
}

//! A worker process's whole life, from the fork to `_exit`: say it is ready, then read jobs
//! from its job pipe and write each outcome back, one task at a time, on a connection of its
//! own, until the job pipe reaches end of file.
//!
//! That end of file is how a child learns to finish, and it is also the portable way it learns
//! that its parent has died: the kernel closes a dead process's pipe ends, so a child waiting
//! for a job wakes up and exits, on every Unix. A child busy with a task notices only when the
//! task ends (its result write fails, or its next read reaches end of file), which the task's
//! own deadline, its timeout plus [`BACKSTOP`], bounds for a query or a latency wait. On Linux
//! the child also asks the kernel to kill it the moment its parent dies, which ends it even
//! mid-task. The parent (`lib.rs`) forks, closes what the child inherited from its siblings,
//! and calls [`serve_jobs`]; the messages are in `frames.rs`.

use std::fs::File;
use std::io::{BufReader, Write};
use std::os::fd::OwnedFd;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use nix::unistd::{Pid, getppid};
use shared::{Clock, Plan, Task};

use crate::answers::Answers;
use crate::frames::{ChildMessage, Job, frame, read_frame};
use crate::lazy_connection::LazyConnection;
use crate::memory::ChildMemory;
use crate::platform;

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
    // Ready before it has a connection. It opens one of its own at its first query (see
    // `lazy_connection.rs`), after the fork: the parent holds none to hand down, and SQLite
    // warns that a connection carried across `fork()` can corrupt the database.
    if !say(&results, &ChildMessage::Ready { at: clock.now() }) {
        return 1;
    }
    let conn = LazyConnection::new(plan, &results);
    // Buffered: when the parent writes several jobs at once, one `read` takes them all.
    let mut jobs = BufReader::new(jobs);
    // The answers to jobs that came together leave together (see `answers.rs`).
    let mut answers = Answers::new(&results);
    loop {
        if answers.before_reading(&jobs).is_err() {
            return 1;
        }
        let job: Job = match read_frame(&mut jobs) {
            Ok(Some(job)) => job,
            // The parent closed the pipe: the run is over, or the parent is gone.
            Ok(None) => break,
            Err(_) => return 1,
        };
        let started = match answers.before_running(&job) {
            Ok(started) => started.unwrap_or_else(|| clock.now()),
            Err(_) => return 1,
        };
        let task: &Task = &plan.workload.tasks[job.task - 1];
        // A panic costs its task only: the child reports it and takes the next job.
        let attempt = shared::catch_panic(&clock, started, || {
            let timeout = plan.timeout + BACKSTOP;
            shared::run_blocking_with(task, timeout, &clock, started, || conn.get())
        });
        answers.hold(job.task, attempt);
    }
    // A failed write means the parent is gone. (Rust programs ignore `SIGPIPE`, so the write
    // returns an error; where the signal is not ignored, it kills the child: it ends anyway.)
    if answers.write().is_err() {
        return 1;
    }
    drop(conn);
    // Its last word; nobody reads it if the parent is gone, and that is fine.
    say(&results, &ChildMessage::Exiting(ChildMemory::own()));
    0
}

/// Writes one message up the result pipe; false if the parent is gone.
fn say(results: &File, message: &ChildMessage) -> bool {
    let mut results = results;
    results.write_all(&frame(message)).is_ok()
}

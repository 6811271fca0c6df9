//! One child as the parent sees it: its process, the parent's ends of its two pipes, and the
//! jobs sent to it and not answered yet, with the time the one it runs started, from which its
//! timeout counts. The pool (`lib.rs`) decides which child gets which job, when to wait and
//! when a child is lost; a [`Worker`] keeps the books of one child and writes its jobs.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::poll::PollTimeout;
use shared::{Attempt, Status};

use crate::frames::{Job, ResultPipe, frame_into};
use crate::pipelining::Holding;
use crate::process::Process;

pub(crate) struct Worker {
    pub process: Process,
    /// The write end of the child's job pipe; `None` once closed to tell the child to finish.
    jobs: Option<File>,
    pub results: ResultPipe,
    /// Frames to write to `jobs` at the end of this round of dispatching: one `write` for all.
    outbox: Vec<u8>,
    /// When the parent started it (forked, spawned or asked the fork server for it), and when
    /// the child reported ready.
    pub started: Duration,
    pub ready: Option<Duration>,
    /// The jobs sent and not answered yet, in the order the child runs them: the first is the
    /// one it is running, the others wait in its pipe.
    pub sent: VecDeque<SentJob>,
    /// How many of `sent` are not short: counted as they come and go, not by walking `sent`
    /// for each job dispatched.
    long: usize,
    /// When the child started the first job of `sent`: when the job was sent to an idle child,
    /// or when the child finished the job before it. Its timeout runs from here.
    running_since: Duration,
}

/// A job written to a child and not answered yet.
pub(crate) struct SentJob {
    pub task: usize,
    /// Whether other jobs may wait behind it in the child's pipe (see `pipelining.rs`).
    short: bool,
}

impl Worker {
    pub fn new(process: Process, jobs: OwnedFd, results: OwnedFd, started: Duration) -> Worker {
        let pid = process.pid;
        Worker {
            process,
            jobs: Some(File::from(jobs)),
            results: ResultPipe::new(File::from(results), pid),
            outbox: Vec::new(),
            started,
            ready: None,
            sent: VecDeque::new(),
            long: 0,
            running_since: started,
        }
    }

    /// Whether the parent may send it jobs: it is ready, and has not been released.
    pub fn takes_jobs(&self) -> bool {
        self.ready.is_some() && self.jobs.is_some()
    }

    /// Whether it is ready for a job and holds none.
    pub fn is_idle(&self) -> bool {
        self.takes_jobs() && self.sent.is_empty()
    }

    /// Whether it has been released: its job pipe is closed, and it finishes its jobs and exits.
    pub fn is_released(&self) -> bool {
        self.jobs.is_none()
    }

    /// Closes its job pipe, which tells the child to finish once it has run the jobs it holds.
    pub fn release(&mut self) {
        self.jobs = None;
    }

    /// Queues the job for `task`, to be written at the next [`Worker::flush`].
    pub fn send(&mut self, task: usize, now: Duration, short: bool) {
        if self.sent.is_empty() {
            self.running_since = now;
        }
        self.sent.push_back(SentJob { task, short });
        self.long += usize::from(!short);
        frame_into(&mut self.outbox, &Job { task, short });
    }

    /// Writes the jobs queued since the last flush, in one `write`.
    pub fn flush(&mut self) {
        if let (false, Some(jobs)) = (self.outbox.is_empty(), &mut self.jobs) {
            // This never blocks: a child holds at most `Options::MOST_PIPELINE` jobs of a few
            // bytes each, less than any pipe holds. A failed write means the child is dead;
            // its result pipe will say so, and its jobs will be sent again.
            let _ = jobs.write_all(&self.outbox);
        }
        self.outbox.clear();
    }

    /// When the job it is running passes its timeout, if it is running one.
    pub fn deadline(&self, timeout: Duration) -> Option<Duration> {
        self.sent.front().map(|_| self.running_since + timeout)
    }

    /// The task it is running, if it has run past its timeout at `now`.
    pub fn timed_out(&self, timeout: Duration, now: Duration) -> Option<usize> {
        let job = self.sent.front()?;
        (self.running_since + timeout <= now).then_some(job.task)
    }

    /// The job it was running when it was lost at `now`, taken off `sent`, with its attempt,
    /// which ends with `status`. A task that timed out may have been answered in the instant
    /// before the kill: then the child died running nothing wrong, and every job it still
    /// holds goes back to the queue.
    pub fn lost_job(
        &mut self,
        timed_out: Option<usize>,
        status: Status,
        now: Duration,
    ) -> Option<(SentJob, Attempt)> {
        let running = self.sent.front()?.task;
        // It may have run this job, and others after it, and died with their answers: then
        // which one it was running is not known, and none is blamed.
        if timed_out.is_some_and(|task| task != running) || self.may_hold_answers() {
            return None;
        }
        let attempt = Attempt {
            started: self.running_since,
            sql_started: None,
            finished: now,
            status,
        };
        Some((self.pop_front()?, attempt))
    }

    /// Takes the answered job off the front of `sent`, or `None` if `task` is not the job the
    /// child was running: a child answers its jobs in the order it got them.
    pub fn answered(&mut self, task: usize, finished: Duration) -> Option<SentJob> {
        if self.sent.front()?.task != task {
            return None;
        }
        let job = self.pop_front()?;
        // The child started its next job the moment it finished this one.
        self.running_since = finished;
        Some(job)
    }

    /// What pipelining needs to know of it, or `None` if it takes no jobs.
    pub fn holding(&self) -> Option<Holding> {
        self.takes_jobs().then_some(Holding {
            jobs: self.sent.len(),
            all_short: self.long == 0,
        })
    }

    /// Whether the child may have run jobs whose answers it has not written yet: it holds
    /// answers back only while it runs a short job that waited in its pipe (see
    /// `pipelining.rs`), so only when a short job waits behind the one the parent thinks it runs.
    pub fn may_hold_answers(&self) -> bool {
        self.sent.iter().skip(1).any(|job| job.short)
    }

    fn pop_front(&mut self) -> Option<SentJob> {
        let job = self.sent.pop_front()?;
        self.long -= usize::from(!job.short);
        Some(job)
    }

    /// The parent's ends of the child's pipes, which every sibling forked after it inherits and
    /// must close (see `close_inherited` in `lib.rs`).
    pub fn parent_ends(&self) -> impl Iterator<Item = RawFd> + '_ {
        let jobs = self.jobs.as_ref().map(AsRawFd::as_raw_fd);
        jobs.into_iter().chain([self.results.as_fd().as_raw_fd()])
    }
}

/// How long the parent's `poll` may sleep: until the earliest deadline of a task one of
/// `workers` runs, or for as long as it takes when none runs one.
pub(crate) fn until_next_deadline(
    workers: &[Worker],
    timeout: Duration,
    now: Duration,
) -> PollTimeout {
    let Some(earliest) = workers.iter().filter_map(|w| w.deadline(timeout)).min() else {
        return PollTimeout::NONE;
    };
    let left = earliest.saturating_sub(now);
    // Rounded up, so that the parent does not wake a moment early and spin.
    let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)
}

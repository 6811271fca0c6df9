//! The submission window: tasks go into the pool a window at a time, not all at once.
//!
//! What it buys, measured on this project's 2-core machine while other builds shared it (load
//! average 160 to 290), in alternating runs (medians, with the range):
//!
//! | submitted             | peak memory, 1,000,000 tasks | per task, 10,000 tasks |
//! |-----------------------|------------------------------|------------------------|
//! | a window at a time    | 118 MiB (118–118)            | 2.71 µs (1.76–4.85)    |
//! | all at once           | 230 MiB (230–230)            | 2.74 µs (1.77–4.17)    |
//!
//! Memory: `/usr/bin/time -f %M threadpool_executor --workload overhead --tasks 1000000
//! --no-baseline --json > /dev/null`, three runs each. Per task: the report's `wall_s` over its
//! 10,000 tasks, from `threadpool_executor --workload overhead --no-baseline --json`, 21 runs
//! each. So the window halves the memory at no measurable cost in time: a job waits on the heap
//! until a thread takes it, and `executor.submit` in a loop, as in Python, makes a million
//! tasks a million queued jobs besides their outcomes. (Submitted all at once, the program
//! stays under the 250 MiB that `check.py scale` allows, but only just.)
//!
//! Not the method: skip this file on a first reading. `lib.rs` gives a [`Window`] the tasks
//! and a `submit` closure (the `pool.spawn` of one task); the window calls it for the first
//! `WINDOW` tasks, and then again as outcomes come back, half a window at a time: the threads
//! never run out of queued work while any is left, and take it from a queue the caller is not
//! writing to at every result. Topped up after every outcome instead, the caller and the
//! threads take turns at the queue's head: in another set of 21 alternating runs of the same
//! command, 1.70 µs a task against 1.48 µs by halves and 1.42 µs all at once.

use std::sync::mpsc::Sender;

use shared::{Outcome, Task};

/// How many tasks may be queued or running at once (or twice the threads, if more): enough that
/// a thread always finds the next one queued while the caller tops the queue up, few enough
/// that a million tasks are never a million jobs.
const WINDOW: usize = 4096;

/// The tasks not yet submitted, and how to submit one.
pub(crate) struct Window<'a, F> {
    unsubmitted: std::slice::Iter<'a, Task>,
    /// Cloned into each job; dropped once every task is in, so that the channel says when the
    /// last job is done.
    sender: Option<Sender<Outcome>>,
    submit: F,
    size: usize,
    in_flight: usize,
}

impl<'a, F: FnMut(&'a Task, Sender<Outcome>)> Window<'a, F> {
    /// Submits the first window of `tasks`, for a pool of `threads` threads.
    pub(crate) fn open(
        tasks: &'a [Task],
        threads: usize,
        sender: Sender<Outcome>,
        submit: F,
    ) -> Self {
        let size = threads.saturating_mul(2).max(WINDOW).min(tasks.len());
        let mut window = Window {
            unsubmitted: tasks.iter(),
            sender: Some(sender),
            submit,
            size,
            in_flight: 0,
        };
        window.top_up();
        window
    }

    /// One task is out of the pool: when half the window is, the next half goes in.
    pub(crate) fn outcome_received(&mut self) {
        self.in_flight -= 1;
        if self.in_flight <= self.size / 2 {
            self.top_up();
        }
    }

    fn top_up(&mut self) {
        let Some(sender) = &self.sender else { return };
        while self.in_flight < self.size {
            let Some(task) = self.unsubmitted.next() else {
                break;
            };
            (self.submit)(task, sender.clone());
            self.in_flight += 1;
        }
        if self.unsubmitted.len() == 0 {
            // Every task is in: only the jobs hold senders now.
            self.sender = None;
        }
    }
}

//! The submission window: tasks go into the pool a window at a time, not all at once.
//!
//! What it buys is memory. A job waits on the heap until a thread takes it, so
//! `executor.submit` in a loop, as in Python, makes a million tasks a million queued jobs,
//! besides their outcomes; with the window, at most [`WINDOW`] tasks are jobs at once and the
//! rest are still entries of the plan. It is meant to cost no time: a window is at least twice
//! the threads, so a thread always finds its next task queued, and the caller adds to the
//! queue half a window at a time, not at every outcome, so that it and the threads do not take
//! turns at the queue's head for every task.
//!
//! To see both on your machine, run these with the window and without it (set [`WINDOW`] to
//! `usize::MAX`, and the first window is every task), a few times each, alternating:
//!
//! ```sh
//! cargo build --release -p threadpool_executor
//! # peak memory, a million tasks
//! /usr/bin/time -f '%M KiB' target/release/threadpool_executor --workload overhead \
//!     --tasks 1000000 --no-baseline --json > /dev/null
//! # time per task, 10,000 tasks
//! cargo bench -p bench --bench threads -- threadpool::method
//! ```
//!
//! To weigh the halves against a top-up at every outcome, make [`Window::outcome_received`]
//! return `true` every time and run the benchmark again. The bound itself is a test:
//! `tests/submission_window.rs` counts the jobs alive in the pool during a run of 10,000 tasks,
//! and fails if they were all submitted at once.
//!
//! Not the method: skip this file on a first reading. `submission.rs` gives a [`Window`] a
//! `submit` closure (the `pool.spawn` of one task's job) to fill it with, first for the whole
//! window and then again each time half of it has come back.

use std::sync::mpsc::Sender;

use shared::{Outcome, Task};

/// How many tasks may be queued or running at once (or twice the threads, if more): enough that
/// a thread always finds the next one queued while the caller tops the queue up, few enough
/// that a million tasks are never a million jobs.
const WINDOW: usize = 4096;

/// The tasks not yet submitted, and how many of those submitted have not come back.
pub(crate) struct Window<'a> {
    unsubmitted: std::slice::Iter<'a, Task>,
    /// Cloned into each job; dropped once every task is in, so that the channel says when the
    /// last job is done.
    sender: Option<Sender<Outcome>>,
    size: usize,
    in_flight: usize,
}

impl<'a> Window<'a> {
    /// An empty window over `tasks`, for a pool of `threads` threads whose jobs answer on
    /// `sender`.
    pub(crate) fn new(tasks: &'a [Task], threads: usize, sender: Sender<Outcome>) -> Self {
        Window {
            unsubmitted: tasks.iter(),
            sender: Some(sender),
            size: threads.saturating_mul(2).max(WINDOW).min(tasks.len()),
            in_flight: 0,
        }
    }

    /// Submits the next tasks, each with its own sender, until the window is full or every
    /// task is in.
    pub(crate) fn fill(&mut self, mut submit: impl FnMut(&'a Task, Sender<Outcome>)) {
        let Some(sender) = &self.sender else { return };
        while self.in_flight < self.size {
            let Some(task) = self.unsubmitted.next() else {
                break;
            };
            submit(task, sender.clone());
            self.in_flight += 1;
        }
        if self.unsubmitted.len() == 0 {
            // Every task is in: only the jobs hold senders now.
            self.sender = None;
        }
    }

    /// One task is out of the pool. Returns whether half the window is: then it is time to
    /// fill it again.
    pub(crate) fn outcome_received(&mut self) -> bool {
        self.in_flight -= 1;
        self.in_flight <= self.size / 2
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use shared::{Preset, Workload};

    use super::*;

    #[test]
    fn past_the_first_window_the_tasks_go_in_half_a_window_at_a_time_in_order() {
        let tasks = Workload::preset(Preset::Overhead, Some(3 * WINDOW)).tasks;
        let (sender, _receiver) = mpsc::channel();
        let mut window = Window::new(&tasks, 1, sender);
        let mut submitted = Vec::new();
        window.fill(|task, _| submitted.push(task.id));
        assert_eq!(submitted.len(), WINDOW, "the first window is full");
        for back in 1..WINDOW / 2 {
            assert!(!window.outcome_received(), "filled again after {back}");
        }
        assert!(window.outcome_received(), "half the window is back");
        window.fill(|task, _| submitted.push(task.id));
        assert_eq!(submitted, (1..=WINDOW + WINDOW / 2).collect::<Vec<_>>());
    }
}

//! How the tasks go into the pool when there are a million of them, or a thousand threads: the
//! one type `lib.rs` calls for what the method does not need.
//!
//! What it buys: a million tasks in much less memory, because only a window of them is ever a
//! job in the pool (`window.rs`); and a thousand threads that run their waits instead of
//! spending the machine's cores searching each other's queues, because an idle thread waits at
//! a gate until there is work to find (`idle_gates.rs`). Each of those files opens with what it
//! buys and the command that measures it. With a few tasks on a few threads it does next to
//! nothing: the window is every task, the entrance opens as soon as they are queued, and the
//! exit once the caller has every outcome.
//!
//! Not the method: `lib.rs` can be read as if this file were not there. There,
//! `submission.thread(thread)` is rayon's loop, `move || thread.run()`; `submission.start` is
//! `executor.submit` in a loop, `for task in tasks { pool.spawn(job(task)) }`; and
//! `submission.outcome_received` does nothing a first reading needs.

use std::sync::mpsc::Sender;

use rayon::{ThreadBuilder, ThreadPool};

use shared::{Outcome, Task};

use crate::idle_gates::IdleGates;
use crate::window::Window;

/// The tasks of one run on their way into the pool: the window they go in by, and the gates
/// that hold the pool's idle threads. Made before the pool, whose threads wait at its entrance;
/// dropping it opens both gates, on every way out of `run`.
pub(crate) struct Submission<'a, J> {
    tasks: &'a [Task],
    threads: usize,
    gates: IdleGates,
    /// Set by [`start`](Submission::start): the window, and how a task becomes a job.
    started: Option<Started<'a, J>>,
}

struct Started<'a, J> {
    window: Window<'a>,
    job: J,
}

impl<'a, J> Submission<'a, J> {
    /// Nothing submitted yet, and both gates closed, for a pool of `threads` threads.
    pub(crate) fn new(tasks: &'a [Task], threads: usize) -> Self {
        Submission {
            tasks,
            threads,
            gates: IdleGates::closed(tasks.len()),
            started: None,
        }
    }

    /// A pool thread's body: rayon's loop, entered once the first tasks are queued.
    pub(crate) fn thread(&self, thread: ThreadBuilder) -> impl FnOnce() + Send + 'static {
        self.gates.hold(thread)
    }
}

impl<'a, J, R> Submission<'a, J>
where
    J: FnMut(&'a Task, Sender<Outcome>) -> R,
    R: FnOnce() + Send + 'static,
{
    /// Spawns the first window of tasks into `pool`, each as the job `job` makes of it and of
    /// its own sender; then lets the pool's threads in. Called once.
    pub(crate) fn start(&mut self, pool: &ThreadPool, sender: Sender<Outcome>, job: J) {
        self.started = Some(Started {
            window: Window::new(self.tasks, self.threads, sender),
            job,
        });
        self.top_up(pool);
        self.gates.open_entrance();
    }

    /// The caller has taken one more outcome: once half the window has, the next tasks go in.
    pub(crate) fn outcome_received(&mut self, pool: &ThreadPool) {
        let Some(started) = &mut self.started else {
            return;
        };
        if started.window.outcome_received() {
            self.top_up(pool);
        }
    }

    /// Fills the window; each job passes the exit gate when it is done.
    fn top_up(&mut self, pool: &ThreadPool) {
        let Some(Started { window, job }) = &mut self.started else {
            return;
        };
        let gates = &self.gates;
        window.fill(|task, sender| pool.spawn(gates.around(job(task, sender))));
    }
}

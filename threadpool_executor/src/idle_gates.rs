//! Two gates that keep idle rayon threads from searching for work, for runs with many threads.
//!
//! An optimisation, not the method: skip it on a first reading. rayon is built for a few busy
//! threads, one per core, and this program asks it for as many threads as tasks that wait at
//! once, up to a thousand mostly idle ones. An idle rayon thread searches every other thread's
//! queue for work, round after round, before it goes to sleep: with 1,000 threads that is a
//! million steal attempts a round, on 2 cores. Measured on this project's 2-core machine with
//! `threadpool_executor --workload scale --workers 1000 --no-baseline` (1,000 waits of 100 ms;
//! three runs each, taken while the machine was also compiling): 0.23, 0.34 and 0.43 s with the
//! gates, 2.2, 2.3 and 7.9 s without them, where building the pool alone took 1.5 to 2.7 s
//! because the first threads spent the CPU the others needed to be created. So a thread never
//! goes looking while there is nothing to find:
//!
//! - *submission*: each new pool thread waits here before it joins the pool, until every task
//!   is queued; then each finds its task on its first look.
//! - *collection*: a thread whose task is done waits here, once no task is left to start,
//!   until every outcome is in, instead of searching for work that will never come.
//!
//! Each gate is an `RwLock<()>` used as a latch: the caller holds the write lock while the gate
//! is closed, and a thread passes by taking (and at once dropping) a read lock, which blocks
//! until the writer lets go. The caller's guards are released on every way out of `run`,
//! errors and panics included, so no thread can be left waiting behind a gate.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};

pub(crate) struct IdleGates {
    tasks: usize,
    /// How many tasks have started: once it reaches `tasks`, the queue is empty for good.
    started: AtomicUsize,
    submission: RwLock<()>,
    collection: RwLock<()>,
}

/// The caller's hold on the gates: each opens when its guard is dropped.
pub(crate) struct Closed<'a> {
    pub(crate) until_submitted: RwLockWriteGuard<'a, ()>,
    pub(crate) until_collected: RwLockWriteGuard<'a, ()>,
}

impl IdleGates {
    pub(crate) fn new(tasks: usize) -> IdleGates {
        IdleGates {
            tasks,
            started: AtomicUsize::new(0),
            submission: RwLock::new(()),
            collection: RwLock::new(()),
        }
    }

    /// Closes both gates, before any pool thread exists.
    pub(crate) fn close(&self) -> Closed<'_> {
        // A `()` behind the lock cannot be left half-changed by a panic: poison means nothing.
        Closed {
            until_submitted: self
                .submission
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            until_collected: self
                .collection
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// A new pool thread, before it joins the pool: waits until every task is submitted.
    pub(crate) fn wait_for_submission(&self) {
        drop(self.submission.read());
    }

    pub(crate) fn task_started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// A pool thread whose task is done: waits until every outcome is in, if no task is left to
    /// start (otherwise it goes back to rayon, which has work for it).
    pub(crate) fn task_finished(&self) {
        if self.started.load(Ordering::Relaxed) == self.tasks {
            drop(self.collection.read());
        }
    }
}

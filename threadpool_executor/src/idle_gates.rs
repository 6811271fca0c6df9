//! Two gates that keep idle rayon threads from searching for work, for runs with many threads.
//!
//! What they buy, measured on this project's 2-core machine while other builds shared it (load
//! average 36 to 367), with `threadpool_executor --workload scale --workers 1000 --no-baseline
//! --json` (1,000 waits of 100 ms on 1,000 threads), five alternating runs each (medians, with
//! the range):
//!
//! | gates         | wall time          | building the pool  | stopping threads   | process |
//! |---------------|--------------------|--------------------|--------------------|---------|
//! | both          | 0.21 s (0.18–0.31) | 0.04 s (0.03–0.06) | 0.74 s (0.34–1.58) | 0.94 s  |
//! | entrance only | 1.54 s (0.87–1.60) | 0.04 s (0.03–0.05) | 0.08 s (0.05–0.09) | 1.64 s  |
//! | exit only     | 1.86 s (1.40–2.73) | 1.49 s (1.09–2.16) | 0.54 s (0.35–0.63) | 2.52 s  |
//! | none          | 1.63 s (1.08–2.20) | 1.08 s (0.74–1.82) | 0.07 s (0.06–0.08) | 1.70 s  |
//!
//! The wall time is the report's `wall_s`, building the pool its `startup_s`, stopping the
//! threads the note it prints after the last result, and the process column the median time
//! from launch to exit.
//!
//! Not the method: skip this file on a first reading. rayon is built for a few busy threads,
//! one per core, and this program asks it for as many threads as tasks that wait at once, up to
//! a thousand mostly idle ones. An idle rayon thread searches every other thread's queue for
//! work, round after round, before it goes to sleep: with 1,000 threads that is a million steal
//! attempts a round, on 2 cores. Without the entrance, the first threads spend the CPU the
//! others need to be created; without the exit, the threads whose task is done spend the CPU
//! the others need to finish theirs. So a thread never goes looking while there is nothing to
//! find:
//!
//! - *the entrance*: each new pool thread waits here before it joins the pool, until the first
//!   window of tasks is queued (see `window.rs`); then each finds a task on its first look.
//! - *the exit*: a thread whose task is done waits here, once no task is left to start, until
//!   the caller has every outcome, instead of searching for work that will never come.
//!
//! What they do not buy is a quick shutdown, as the table shows: when the exit opens, a
//! thousand threads go back to rayon together, and each searches for work until the last of
//! them has left its job, for only then does rayon tell them the pool is gone. The report
//! shows that time in its notes, outside the wall time; the whole process still ends sooner.
//!
//! Both gates open when [`IdleGates`] is dropped, on every way out of `run`, errors and panics
//! included, so no thread can be left waiting behind one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use rayon::ThreadBuilder;

/// The two gates, closed until opened or dropped. The pool's threads and jobs hold clones of
/// the inner `Arc`; only this owner opens the gates.
pub(crate) struct IdleGates {
    gates: Arc<Gates>,
}

struct Gates {
    tasks: usize,
    /// How many tasks have started: once it reaches `tasks`, the queue is empty for good.
    started: AtomicUsize,
    entrance: Latch,
    exit: Latch,
}

impl IdleGates {
    /// Both gates closed, before any pool thread exists, for a run of `tasks` tasks.
    pub(crate) fn closed(tasks: usize) -> IdleGates {
        IdleGates {
            gates: Arc::new(Gates {
                tasks,
                started: AtomicUsize::new(0),
                entrance: Latch::closed(),
                exit: Latch::closed(),
            }),
        }
    }

    /// A new pool thread's body: it waits at the entrance, then runs rayon's loop.
    pub(crate) fn hold(&self, thread: ThreadBuilder) -> impl FnOnce() + Send + 'static {
        let gates = Arc::clone(&self.gates);
        move || {
            gates.entrance.wait();
            thread.run();
        }
    }

    /// A task's job, counted when it starts; when it is done and no task is left to start, its
    /// thread waits at the exit (otherwise it goes back to rayon, which has work for it).
    pub(crate) fn around(
        &self,
        job: impl FnOnce() + Send + 'static,
    ) -> impl FnOnce() + Send + 'static {
        let gates = Arc::clone(&self.gates);
        move || {
            gates.started.fetch_add(1, Ordering::Relaxed);
            job();
            if gates.started.load(Ordering::Relaxed) == gates.tasks {
                gates.exit.wait();
            }
        }
    }

    /// The first tasks are queued: every thread may come in and take one.
    pub(crate) fn open_entrance(&self) {
        self.gates.entrance.open();
    }
}

impl Drop for IdleGates {
    fn drop(&mut self) {
        self.gates.entrance.open();
        self.gates.exit.open();
    }
}

/// A gate that, once open, stays open: a `Once` whose only run is the opening. Waiting threads
/// sleep in the kernel, the opening wakes them all with one call, and none needs a lock to
/// leave.
struct Latch(Once);

impl Latch {
    fn closed() -> Latch {
        Latch(Once::new())
    }

    fn wait(&self) {
        self.0.wait();
    }

    fn open(&self) {
        self.0.call_once(|| {});
    }
}

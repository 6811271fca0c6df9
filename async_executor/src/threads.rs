//! How many threads a run starts, for the report: the runtime's own (its workers and its
//! blocking threads), counted as they start and stop, and the connections' threads, which
//! tokio-rusqlite starts outside the runtime.
//!
//! Nothing in the run depends on these counts; `lib.rs` makes one call here as it starts the
//! runtime, and reads the figures at the end. The names given to the runtime's threads
//! (`tokio-7`) are what a report's lanes show under `--sql-on spawn-blocking`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The threads a runtime starts: how many in all, and the most alive at once.
#[derive(Default)]
pub(crate) struct Threads {
    alive: AtomicUsize,
    started: AtomicUsize,
    most: AtomicUsize,
}

impl Threads {
    /// Counts the threads `builder`'s runtime will start, and names them by number (`tokio-7`),
    /// so that a report's lanes say which blocking thread ran each query.
    pub(crate) fn count(builder: &mut tokio::runtime::Builder) -> Arc<Threads> {
        let threads = Arc::new(Threads::default());
        let (on_start, on_stop) = (Arc::clone(&threads), Arc::clone(&threads));
        let named = Arc::new(AtomicUsize::new(0));
        builder
            .thread_name_fn(move || format!("tokio-{}", named.fetch_add(1, Ordering::Relaxed)))
            .on_thread_start(move || {
                on_start.started.fetch_add(1, Ordering::Relaxed);
                let alive = on_start.alive.fetch_add(1, Ordering::Relaxed) + 1;
                on_start.most.fetch_max(alive, Ordering::Relaxed);
            })
            .on_thread_stop(move || {
                on_stop.alive.fetch_sub(1, Ordering::Relaxed);
            });
        threads
    }

    /// How many threads the runtime started (the connections' own are counted by `Sql`).
    pub(crate) fn started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// The most threads of the runtime alive at once.
    pub(crate) fn most(&self) -> usize {
        self.most.load(Ordering::Relaxed)
    }
}

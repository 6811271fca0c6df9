//! The knobs of [`run`](crate::run) beyond the common flags. None is part of the lesson: one
//! sets how deep the pipelining of tiny tasks goes (an optimisation, explained with its measured
//! gain in `pipelining.rs`), one lets the tests turn off Linux's parent-death signal, so that
//! the way every platform has of ending a child whose parent died is tested on Linux too, and
//! one says how worker processes start: forked from this process (the lesson, `lib.rs`), or
//! fresh, spawned or forked by a fork server (`start.rs`).

use std::sync::Arc;

use crate::forkserver::ForkServer;

/// How the pool behaves beyond the common flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many jobs a child may hold at once (the one it runs and those waiting in its pipe),
    /// when every one is known to be short; 1 turns pipelining off. At most
    /// [`Options::MOST_PIPELINE`]: a deeper one counts as that.
    pub pipeline: usize,
    /// Whether each child asks the kernel to kill it when the parent dies (Linux only). Off, a
    /// child ends when its job pipe reaches end of file, as on every other platform.
    #[doc(hidden)]
    pub parent_death_signal: bool,
    /// How each worker process starts (Python's start methods).
    pub start: Start,
}

/// How a worker process comes to be: Python's three start methods.
#[derive(Debug, Clone, Default)]
pub enum Start {
    /// `fork()` from this process: a copy of it, sharing its pages copy-on-write (`lib.rs`).
    #[default]
    Fork,
    /// This program run again, as a worker, with nothing inherited but its pipes (`spawn.rs`).
    Spawn,
    /// Forked by a small server that was forked before this process had threads or connections
    /// (`forkserver.rs`).
    ForkServer(Arc<ForkServer>),
}

impl Options {
    /// The deepest `pipeline` allowed. The jobs a child holds must fit in its job pipe (16 KiB
    /// at the least, on macOS; 64 KiB on Linux) with room to spare, a job being a few bytes: a
    /// write that did not fit would block the parent while the child, its result pipe full,
    /// waits for the parent to read, and neither would ever move again.
    pub const MOST_PIPELINE: usize = 1024;

    /// How many worker processes a run starts when `--workers` does not say: one per core, as
    /// Python's `Pool()` does (never more than there are tasks).
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pipeline: 32,
            parent_death_signal: true,
            start: Start::Fork,
        }
    }
}

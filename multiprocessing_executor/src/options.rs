//! The knobs of [`run`](crate::run) beyond the common flags. Neither is part of the method: one
//! sets how deep the pipelining of tiny tasks goes (an optimisation, explained with its measured
//! gain in `pipelining.rs`), the other lets the tests turn off Linux's parent-death signal, so
//! that the way every platform has of ending a child whose parent died is tested on Linux too.

/// How the pool behaves beyond the common flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many jobs a child may hold at once (the one it runs and those waiting in its pipe),
    /// when every one is known to be short; 1 turns pipelining off.
    pub pipeline: usize,
    /// Whether each child asks the kernel to kill it when the parent dies (Linux only). Off, a
    /// child ends when its job pipe reaches end of file, as on every other platform.
    #[doc(hidden)]
    pub parent_death_signal: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pipeline: 32,
            parent_death_signal: true,
        }
    }
}

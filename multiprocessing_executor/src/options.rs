//! The knobs of [`run`](crate::run) beyond the common flags. Neither is part of the method: one
//! sets how deep the pipelining of tiny tasks goes (an optimisation, explained with its measured
//! gain in `pipelining.rs`), the other lets the tests turn off Linux's parent-death signal, so
//! that the way every platform has of ending a child whose parent died is tested on Linux too.

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
}

impl Options {
    /// The deepest `pipeline` allowed. The jobs a child holds must fit in its job pipe (16 KiB
    /// at the least, on macOS; 64 KiB on Linux) with room to spare, a job being a few bytes: a
    /// write that did not fit would block the parent while the child, its result pipe full,
    /// waits for the parent to read, and neither would ever move again.
    pub const MOST_PIPELINE: usize = 1024;
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pipeline: 32,
            parent_death_signal: true,
        }
    }
}

//! What the pool adds to the method, gathered in one place so that `lib.rs` reads as the
//! method: each extra lives in a file of its own, which opens with what it buys, and the pool
//! reaches it by one name. A first reading of `lib.rs` can skip every one of them.
//!
//! - **Bursts** (`bursts.rs`): a pool of a thousand children is forked a burst at a time, and the
//!   children forked so far are fed in between. `grow` asks how many to fork this round, and
//!   `serve`'s `poll` only looks, without sleeping, while more are to come.
//! - **Pipelining** (`pipelining.rs`): a busy child is written its next tiny jobs before it asks
//!   for them. `dispatch` asks it for a busy child when no child is idle.
//! - **Memory figures** (`memory.rs`): each child's peak and share of memory, which `handle`
//!   takes in as the child exits, and `retire` reads from the outside before it kills one.
//! - **The writer** (`writer.rs`): with `--writer single`, one process does every write. It is
//!   forked before any worker, every child closes its end of it, and it is stopped last.
//! - **Fresh workers** (`start.rs`): with `--start spawn` or `forkserver`, a worker is not a fork
//!   of this process. `start_worker` starts it that way instead of forking.
//!
//! Bursts keep nothing between rounds, and the memory figures go straight into the report's
//! notes (`notes.rs`); the other three are held here.

use shared::{Clock, Plan};

use crate::options::Options;
use crate::pipelining::Pipelining;
use crate::start::FreshWorkers;
use crate::writer::WriterProcess;

/// The pool's extras that keep something for the whole run.
pub(crate) struct Extras {
    /// How deep a busy child's pipe may be filled, and how long each query took last.
    pub pipelining: Pipelining,
    /// The writer process, with `--writer single`.
    pub writer: Option<WriterProcess>,
    /// How workers start with `--start spawn` or `forkserver`; `None` to fork them.
    pub fresh: Option<FreshWorkers>,
}

impl Extras {
    /// The extras of a run of `plan` (the plan its workers run) with these options, and its
    /// writer process, already forked if there is one.
    pub fn for_run(
        plan: &Plan,
        clock: Clock,
        options: &Options,
        writer: Option<WriterProcess>,
    ) -> shared::Result<Extras> {
        Ok(Extras {
            pipelining: Pipelining::new(options.pipeline),
            writer,
            fresh: FreshWorkers::for_run(plan, clock, options)?,
        })
    }
}

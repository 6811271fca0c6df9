//! Worker processes that are not copies of this one: Python's `spawn` and `forkserver` start
//! methods, behind one call, [`FreshWorkers::start`]. A reader learning the method can skip
//! this file: `lib.rs` forks, which is the lesson; this is what Python's users on macOS (spawn,
//! the default since 3.8), Windows (spawn, always) and Linux since 3.14 (forkserver) get instead.
//!
//! **Why else start a worker.** `fork()` copies the calling thread and nothing else, so a
//! process that has other threads cannot fork safely (a lock another thread held stays locked
//! in the child forever), and a SQLite connection carried across a fork can corrupt the
//! database. `lib.rs` forks only because this program starts no thread and holds no connection
//! when it forks. A program that cannot promise that starts its workers another way:
//!
//! - **spawn** (`spawn.rs`): the program runs itself again, as a worker. The new process shares
//!   nothing with this one, so it is safe whatever this one holds, and it needs no `fork()`, so
//!   it would serve a platform without one. It costs an `exec`: loading the program and its
//!   libraries again. Python pays far more there: a fresh interpreter that imports the program
//!   again, which is where the guide's "~100 ms per process" comes from.
//! - **forkserver** (`forkserver.rs`): a small server, forked first thing, while the program
//!   has no thread and no connection, forks every worker on request. A worker is a copy of the
//!   clean server, never of the busy program; forking from a small process is as cheap as a
//!   fork gets.
//!
//! Either way the worker inherits none of the run: no plan, no clock. So the parent writes it a
//! briefing first (`briefing.rs`), down its job pipe, and the worker rebuilds the plan from it
//! before it says it is ready; its start-up in the report counts that. After the briefing, jobs
//! and outcomes cross the same pipes as a forked child's (`child.rs` serves them), so timeouts,
//! crashes and replacements work the same whichever way a worker started.
//!
//! **What each costs, measured** (`multiprocessing_executor --workload io --tasks N --workers N
//! --start HOW --no-baseline`, the report's `startup_s`: until the last worker is ready), on
//! this project's 2-core machine while other programs shared it, medians of 7 runs alternating
//! the three (range in brackets): with 4 workers, fork 0.70 ms (0.51–3.65), forkserver 1.85 ms
//! (0.93–5.90), spawn 7.40 ms (2.60–14.84); with 100, fork 16 ms (13–20), forkserver 23 ms
//! (16–25), spawn 204 ms (132–276), about 2 ms a worker. Python's spawned `Pool(4)` on the same
//! machine took 393 ms (208–456). `scripts/compare.sh` measures them on the reader's machine
//! (docs/start-methods.md).
//!
//! A workload that writes needs `--start fork`: its scratch copy of the database, and the writer
//! process of `--writer single`, are handed down by the fork, and a briefing does not carry them.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use nix::unistd::getpid;
use shared::{Clock, Error, Plan};

use crate::briefing::Briefing;
use crate::forkserver::ForkServer;
use crate::frames::frame;
use crate::options::{Options, Start};
use crate::process::Process;
use crate::spawn;

/// How the pool starts its workers when it does not fork them itself.
pub(crate) struct FreshWorkers {
    /// The fork server, with `--start forkserver`; `None` to spawn.
    server: Option<Arc<ForkServer>>,
    /// The briefing, framed once: every worker of the run reads the same.
    briefing: Vec<u8>,
}

impl FreshWorkers {
    /// How this run starts its workers, or `None` under `--start fork`, where `lib.rs` forks.
    pub fn for_run(plan: &Plan, clock: Clock, options: &Options) -> shared::Result<Option<Self>> {
        let server = match &options.start {
            Start::Fork => return Ok(None),
            Start::Spawn => None,
            Start::ForkServer(server) => Some(Arc::clone(server)),
        };
        if plan.writes().is_some() {
            return Err(Error::input(
                "--start spawn and --start forkserver run workloads that only read: a writing \
                 run's scratch copy and writer are handed to its workers by fork (use --start fork)",
            ));
        }
        // The process the worker is a child of, whose death must end it.
        let parent = server.as_ref().map_or_else(getpid, |s| s.pid());
        let briefing = frame(&Briefing::new(
            plan,
            clock,
            parent,
            options.parent_death_signal,
        )?);
        Ok(Some(FreshWorkers { server, briefing }))
    }

    /// Starts one worker and briefs it: its process, and the parent's ends of its job and
    /// result pipes, as `lib.rs` keeps them for a child it forked.
    pub fn start(&self) -> shared::Result<(Process, OwnedFd, OwnedFd)> {
        let (process, jobs, results) = match &self.server {
            None => spawn::spawn_worker()?,
            Some(server) => server.fork_worker()?,
        };
        // A briefing that fits in the pipe (any workload's but a huge one) is written at once; a
        // larger one waits here until the worker, just started, reads it.
        let mut jobs = File::from(jobs);
        if let Err(e) = jobs.write_all(&self.briefing) {
            let pid = process.pid;
            return Err(Error::system(format!(
                "worker pid {pid} ended before it could be briefed: {e}"
            )));
        }
        Ok((process, OwnedFd::from(jobs), results))
    }
}

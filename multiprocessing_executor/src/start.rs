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
//! [`Briefing`] first, down its job pipe, and the worker rebuilds the plan from it before it
//! says it is ready; its start-up in the report counts that. After the briefing, jobs and
//! outcomes cross the same pipes as a forked child's (`child.rs` serves them), so timeouts,
//! crashes and replacements work the same whichever way a worker started.
//!
//! A workload that writes needs `--start fork`: its scratch copy of the database, and the writer
//! process of `--writer single`, are handed down by the fork, and a briefing does not carry them.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nix::unistd::{Pid, getpid};
use serde::{Deserialize, Serialize};
use shared::{Clock, Database, Error, Fault, Plan, Query, Task, Workload};

use crate::child::{self, Forked};
use crate::forkserver::ForkServer;
use crate::frames::{frame, read_frame};
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

/// What a fresh worker needs to know of the run, which a forked child finds in the memory it
/// copied: the tasks, the database, the timeout, the run's clock, and whose child it is.
#[derive(Serialize, Deserialize)]
struct Briefing {
    workload: String,
    /// The distinct queries, as JSON: their parameters are untagged enums, which postcard
    /// cannot read back (see `frames.rs`). A workload repeats its pattern, so there are few.
    queries: String,
    /// Each task, in order (its id is its place, from 1): which query, and its injected fault.
    tasks: Vec<(u32, Option<Fault>)>,
    database: PathBuf,
    is_fixture: bool,
    timeout: Duration,
    /// When the run's clock started, in nanoseconds of the system's monotonic clock, which
    /// every process reads alike: the worker's times are offsets from it, as the parent's are.
    clock_origin_ns: u64,
    parent: i32,
    death_signal: bool,
}

impl Briefing {
    fn new(plan: &Plan, clock: Clock, parent: Pid, death_signal: bool) -> shared::Result<Self> {
        // Each distinct query once, told apart by where it is in memory: tasks share theirs.
        let mut queries: Vec<&Query> = Vec::new();
        let mut seen: HashMap<*const Query, u32> = HashMap::new();
        let mut tasks = Vec::with_capacity(plan.workload.tasks.len());
        for task in &plan.workload.tasks {
            let i = *seen.entry(Arc::as_ptr(&task.query)).or_insert_with(|| {
                queries.push(&task.query);
                queries.len() as u32 - 1
            });
            tasks.push((i, task.fault));
        }
        let queries = serde_json::to_string(&queries)
            .map_err(|e| Error::system(format!("cannot write the workload down: {e}")))?;
        Ok(Briefing {
            workload: plan.workload.name.clone(),
            queries,
            tasks,
            database: plan.database.path().to_path_buf(),
            is_fixture: plan.database.is_fixture(),
            timeout: plan.timeout,
            clock_origin_ns: monotonic_ns().saturating_sub(clock.now().as_nanos() as u64),
            parent: parent.as_raw(),
            death_signal,
        })
    }

    /// The plan again, in the worker, with the run's clock.
    fn plan(self) -> Option<(Plan, Clock)> {
        let queries: Vec<Query> = serde_json::from_str(&self.queries).ok()?;
        let queries: Vec<Arc<Query>> = queries.into_iter().map(Arc::new).collect();
        let tasks = self.tasks.iter().enumerate().map(|(i, &(query, fault))| {
            let query = Arc::clone(queries.get(query as usize)?);
            let writes = None; // Only a workload that reads is briefed (see `for_run`).
            Some(Task {
                id: i + 1,
                query,
                fault,
                writes,
            })
        });
        let workload = Workload {
            name: self.workload,
            tasks: tasks.collect::<Option<_>>()?,
        };
        let plan = Plan {
            workload,
            database: Database::prepared_elsewhere(self.database, self.is_fixture),
            workers: None,
            timeout: self.timeout,
        };
        let elapsed = monotonic_ns().saturating_sub(self.clock_origin_ns);
        Some((plan, Clock::started_ago(Duration::from_nanos(elapsed))))
    }
}

/// A fresh worker's whole life, spawned or forked by the fork server: read the briefing from the
/// job pipe, then serve jobs as a forked child does, until the job pipe closes. Never returns.
pub(crate) fn serve_briefed(jobs: OwnedFd, results: OwnedFd) -> ! {
    // A spawned worker did not go through `shared::cli::main`, which quiets the injected panics.
    shared::quiet_injected_panics();
    let mut jobs = File::from(jobs);
    let briefed = match read_frame::<Briefing>(&mut jobs) {
        Ok(Some(briefing)) => (briefing.parent, briefing.death_signal, briefing.plan()),
        // End of file: the parent is gone before it briefed this worker.
        _ => child::exit_after(|| 1),
    };
    let (parent, death_signal, Some((plan, clock))) = briefed else {
        child::exit_after(|| 1)
    };
    let forked = Forked {
        plan: &plan,
        clock,
        parent: Pid::from_raw(parent),
        death_signal,
    };
    child::serve_jobs(forked, OwnedFd::from(jobs), results)
}

/// Now, on the system's monotonic clock, in nanoseconds: the clock `Instant` reads on Linux, and
/// one every process of the machine reads alike.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; CLOCK_MONOTONIC exists on every Unix.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

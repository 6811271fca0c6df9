//! What a worker that is not a fork of the parent is told before its first job, and its life
//! after: the other half of `start.rs`, for spawned workers (`spawn.rs`) and those forked by
//! the fork server (`forkserver.rs`). A forked child finds the plan, the clock and its parent
//! in the memory it copied; a fresh worker reads them from its job pipe, as a [`Briefing`], the
//! first frame the parent writes there, and rebuilds the plan before it says it is ready.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use shared::{Clock, Database, Error, Fault, Plan, Query, Task, Workload};

use crate::child::{self, Forked};
use crate::frames::read_frame;

/// What a fresh worker needs to know of the run, which a forked child finds in the memory it
/// copied: the tasks, the database, the timeout, the run's clock, and whose child it is.
#[derive(Serialize, Deserialize)]
pub(crate) struct Briefing {
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
    pub fn new(plan: &Plan, clock: Clock, parent: Pid, death_signal: bool) -> shared::Result<Self> {
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

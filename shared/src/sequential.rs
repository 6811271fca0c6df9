//! The baseline: one connection, one task after another, on the main thread.
//!
//! Every speedup in this project is this run's wall time divided by a method's, on the same
//! tasks, and the ideal schedules are computed from the task durations measured here. It is
//! also the first user of the conformance suite, and the simplest reading of what a task is:
//! wait the latency, run the SQL, record the outcome.

use std::time::Duration;

use crate::cli::Method;
use crate::error::{Error, Result};
use crate::outcome::{Dispatch, Outcome, Outcomes, Run};
use crate::task::{Clock, catch_panic, run_blocking};
use crate::workload::Plan;

pub const METHOD: Method = Method {
    name: "sequential",
    survives_crash: false,
};

/// Runs every task of the plan in order on this thread. `plan.workers` is ignored: one.
pub fn run(plan: &Plan) -> Result<Run> {
    let clock = Clock::start();
    let conn = plan.database.open().map_err(|e| {
        Error::input(format!(
            "cannot open {}: {e}",
            plan.database.path().display()
        ))
    })?;
    let startup = clock.now();
    let mut outcomes = Outcomes::new(plan);
    for task in &plan.workload.tasks {
        // Every task is queued at the start: the loop is the queue.
        let attempt = catch_panic(&clock, || run_blocking(&conn, task, plan.timeout, &clock));
        outcomes.record(Outcome::new(task, "main", Duration::ZERO, attempt));
    }
    Ok(Run {
        outcomes: outcomes.finish(),
        workers: 1,
        connections: None,
        dispatch: Dispatch::Fifo,
        wall: clock.now(),
        startup,
        children_max_rss_kib: None,
        children_pss_kib: None,
        notes: Vec::new(),
    })
}

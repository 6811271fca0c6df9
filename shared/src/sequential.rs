//! The baseline: one connection, one task after another, on the main thread.
//!
//! Every speedup in this project is this run's wall time divided by a method's, on the same
//! tasks, and the ideal schedules are computed from the task durations measured here. It is
//! also the first user of the conformance suite, and the simplest reading of what a task is:
//! wait the latency, run the SQL, record the outcome.
//!
//! It also measures the tasks' work: the time this thread needed a core for them (their waits
//! need none). The ideal counts the cores from it: work, unlike a wait, needs a core.
//!
//! **What it costs.** Per task, what every method does around a task and nothing else: the
//! task's SQL with its deadline and checksum, a reading of the clock, a caught panic, the
//! outcome (docs/benchmarks.md has them piece by piece).
#![doc = include_str!("../../results/cost-sequential.md")]

use std::sync::Arc;

use crate::error::Result;
use crate::method::Method;
use crate::outcome::{Outcome, Outcomes, Run};
use crate::plan::Plan;
use crate::status::Clock;
use crate::task::{catch_panic, run_blocking};
use crate::usage::thread_core_time;

pub const METHOD: Method = Method {
    name: "sequential",
    survives_crash: false,
};

/// Runs every task of the plan in order on this thread. `plan.workers` is ignored: one.
pub fn run(plan: &Plan) -> Result<Run> {
    let clock = Clock::start();
    let conn = plan.database.open()?;
    let startup = clock.now();
    let mut outcomes = Outcomes::new(plan);
    let main = Arc::from("main");
    // Read around the loop, not around each task: a read costs about what a `SELECT 1` does.
    let before = thread_core_time();
    // A task starts when the one before it ends: the loop goes straight on to it, and reading
    // the clock again would give the same time, for what a `SELECT 1` costs.
    let mut started = clock.now();
    for task in &plan.workload.tasks {
        // Every task is queued at the start: the loop is the queue.
        let attempt = catch_panic(&clock, started, || {
            run_blocking(&conn, task, plan.timeout, &clock, started)
        });
        started = attempt.finished;
        outcomes.record(Outcome::new(task, &main, attempt));
    }
    let work = thread_core_time().saturating_sub(before);
    let outcomes = outcomes.finish();
    Ok(Run::new(outcomes, 1, startup, clock.now()).with_work(work))
}

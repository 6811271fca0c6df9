//! The connections are shared by the pool's threads, taken only around a task's SQL.

use std::time::Duration;

use shared::conformance::plan;
use shared::{Fault, Status};
use threadpool_executor::Options;

#[test]
fn a_task_waiting_for_a_connection_behind_a_hang_times_out() {
    // Task 1 hangs on the only connection until the timeout; task 2 waits for it meanwhile, and
    // is timed out as soon as it gets it, instead of waiting for ever or running late.
    let mut plan = plan(2, 2, &[(Fault::Hang, 1)]);
    plan.timeout = Duration::from_millis(500);
    let run = bounded_run(
        &plan,
        &Options {
            connections: Some(1),
        },
    )
    .expect("the run is made");
    for o in &run.outcomes {
        assert_eq!(o.status, Status::TimedOut, "task {}", o.task);
    }
    assert!(
        run.wall < Duration::from_secs(2),
        "the run took {:?}",
        run.wall
    );
}

#[test]
fn many_threads_share_a_few_connections() {
    let run = bounded_run(
        &plan(16, 16, &[]),
        &Options {
            connections: Some(2),
        },
    )
    .expect("the run is made");
    assert!(
        run.outcomes.iter().all(|o| o.status.is_ok()),
        "{:?}",
        run.outcomes
    );
    assert!(
        run.notes[0].contains("shared 2 SQLite connections"),
        "{:?}",
        run.notes
    );
}

/// The method, bounded: a pool that never shuts down fails the test instead of hanging it.
fn bounded_run(plan: &shared::Plan, options: &Options) -> shared::Result<shared::Run> {
    shared::conformance::within(
        shared::conformance::BOUND,
        "threadpool_executor::run",
        || threadpool_executor::run(plan, options),
    )
}

//! `as_completed`: outcomes are reported in the order the tasks finish, not the order they were
//! submitted.

use std::time::Duration;

use shared::Preset;
use shared::{Database, Plan, Workload};
use threadpool_executor::Options;

/// The guide's `io` workload, with its real latencies (50 to 300 ms), on enough threads for all.
fn io_plan() -> Plan {
    Plan {
        workload: Workload::preset(Preset::Io, None),
        database: Database::prepare(None, false).expect("the fixture is built"),
        workers: Some(8),
        timeout: Duration::from_secs(10),
    }
}

#[test]
fn results_arrive_in_completion_order_not_submission_order() {
    let run = bounded_run(&io_plan(), &Options::default()).expect("the run is made");
    let arrival: Vec<usize> = run.outcomes.iter().map(|o| o.task).collect();
    assert!(
        run.outcomes.iter().all(|o| o.status.is_ok()),
        "{:?}",
        run.outcomes
    );
    assert_ne!(
        arrival,
        (1..=8).collect::<Vec<_>>(),
        "results came back in submission order"
    );
    // Task 6 waits 300 ms; task 1 waits 50 ms and task 7, submitted after task 6, waits 100 ms.
    // With a thread each, both finish 200 ms or more before task 6: a margin no loaded machine
    // eats, so their order is certain.
    let at = |task: usize| {
        arrival
            .iter()
            .position(|&t| t == task)
            .expect("every task reported")
    };
    assert!(
        at(1) < at(6),
        "task 1 (50 ms) arrived after task 6 (300 ms): {arrival:?}"
    );
    assert!(
        at(7) < at(6),
        "task 7 (100 ms) arrived after task 6 (300 ms): {arrival:?}"
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

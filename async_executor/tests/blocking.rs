//! The guide's pitfall, measured: a blocking call freezes the event loop.

use std::time::Duration;

use async_executor::Options;
use shared::conformance::{BOUND, within};
use shared::{Database, Plan, Preset, Run, Workload};

/// The guide's `io` benchmark: 8 waits of 50 to 300 ms, 1.3 s in all, the longest 0.3 s.
fn run_io(blocking: bool) -> Run {
    let plan = Plan {
        workload: Workload::preset(Preset::Io, None),
        database: Database::prepare(None, false).expect("the fixture is built"),
        workers: None,
        timeout: Duration::from_secs(10),
    };
    let options = Options {
        blocking,
        ..Options::default()
    };
    within(BOUND, "async_executor::run", || {
        async_executor::run(&plan, &options).expect("the run is made")
    })
}

#[test]
fn blocking_calls_make_the_waits_run_one_after_another() {
    let blocking = run_io(true);
    let awaiting = run_io(false);
    for run in [&blocking, &awaiting] {
        assert!(
            run.outcomes.iter().all(|o| o.status.is_ok()),
            "{:?}",
            run.outcomes
        );
    }
    // Bounds that hold on a loaded machine: blocked waits cannot take less than their sum,
    // whatever the load; awaited waits overlap, so they end far sooner than that sum.
    let sum = Duration::from_millis(1300);
    assert!(
        blocking.wall >= sum,
        "with --blocking the 1.3 s of waits took only {:?}: they overlapped",
        blocking.wall
    );
    assert!(
        awaiting.wall < sum * 3 / 4,
        "awaited, the waits took {:?}: they did not overlap",
        awaiting.wall
    );
    // Every blocked task ran on the loop's own thread, none on a connection's.
    assert!(blocking.outcomes.iter().all(|o| &*o.worker == "event-loop"));
}

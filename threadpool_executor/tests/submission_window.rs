//! Tasks are submitted a window at a time, not all at once (see `window.rs`): past the first
//! window, more go in as earlier ones come out, half a window at a time, and none is lost or
//! reordered on the way.

use std::time::Duration;

use shared::{Database, Plan, Preset, Workload};
use threadpool_executor::Options;

#[test]
fn tasks_past_the_first_window_all_run_in_submission_order() {
    // A window of 4,096, so 10,000 tasks go in over several top-ups; with one thread, FIFO
    // means the results arrive in submission order.
    let plan = Plan {
        workload: Workload::preset(Preset::Overhead, Some(10_000)),
        database: Database::prepare(None, false).expect("the fixture is built"),
        workers: Some(1),
        timeout: Duration::from_secs(10),
    };
    let run = threadpool_executor::run(&plan, &Options::default()).expect("the run is made");
    let arrival: Vec<usize> = run.outcomes.iter().map(|o| o.task).collect();
    assert_eq!(arrival, (1..=10_000).collect::<Vec<_>>());
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
}

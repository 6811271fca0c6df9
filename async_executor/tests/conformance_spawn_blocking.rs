//! The same behaviour with the SQL on tokio's blocking threads (`--sql-on spawn-blocking`), and
//! what that way adds: no more SQL at once than the pool has connections, whatever the threads.

use std::time::Duration;

use async_executor::{Options, SqlOn};
use shared::conformance::{BOUND, plan, within};
use shared::{Fault, Run, Status};

fn spawn_blocking(plan: &shared::Plan, connections: usize) -> shared::Result<Run> {
    async_executor::run(
        plan,
        &Options {
            sql_on: SqlOn::SpawnBlocking,
            connections,
            ..Options::default()
        },
    )
}

shared::conformance_tests!(|plan: &shared::Plan| spawn_blocking(
    plan,
    async_executor::DEFAULT_CONNECTIONS
));

/// With one connection to lend, a hung query holds it until its timeout, and no other query
/// starts meanwhile, however many blocking threads tokio would start: the pool, not the
/// threads, bounds how much SQL runs at once. Every task still gets its outcome.
#[test]
fn no_more_sql_runs_at_once_than_the_pool_lends_connections() {
    shared::quiet_injected_panics();
    let mut plan = plan(8, 8, &[(Fault::Hang, 1)]);
    plan.workers = None;
    plan.timeout = Duration::from_secs(1);
    let run = within(BOUND, "spawn_blocking", || {
        spawn_blocking(&plan, 1).unwrap_or_else(|e| panic!("the run failed: {e}"))
    });
    let hang = run.outcomes.iter().find(|o| o.task == 1).expect("task 1");
    assert_eq!(hang.status, Status::TimedOut);
    let (from, to) = (hang.sql_started().unwrap(), hang.finished().unwrap());
    assert!(
        to - from > Duration::from_millis(500),
        "the hang held its connection {:?}",
        to - from
    );
    // Its answer is noticed on the loop a moment after the connection is free again: margins of
    // a few milliseconds either side keep that moment out of the window.
    let window = (
        from + Duration::from_millis(5),
        to - Duration::from_millis(50),
    );
    for o in run.outcomes.iter().filter(|o| o.task != 1) {
        if let Some(sql) = o.sql_started() {
            assert!(
                sql <= window.0 || sql >= window.1,
                "task {} started its SQL at {sql:?}, while the hang held the one connection \
                 ({from:?} to {to:?})",
                o.task
            );
        }
    }
    assert_eq!(run.outcomes.len(), 8);
    assert!(run.threads_started.is_some_and(|n| n >= 1));
}

//! What this method adds to the shared conformance suite: the SQL runs on a pool of connection
//! threads, and a busy connection (a hung query, a panic) costs nobody else their task.

use std::time::Duration;

use async_executor::{Options, Runtime};
use shared::Preset;
use shared::conformance::{BOUND, plan, within};
use shared::quiet_injected_panics;
use shared::{Fault, Outcome, Run, Status, Workload};

fn run(plan: &shared::Plan, connections: usize) -> Run {
    quiet_injected_panics();
    let options = Options {
        runtime: Runtime::Current,
        connections,
        ..Options::default()
    };
    // Bounded: a task or a connection thread that never ends fails the test, not CI's clock.
    within(BOUND, "async_executor::run", || {
        async_executor::run(plan, &options).unwrap_or_else(|e| panic!("the run failed: {e}"))
    })
}

fn outcome(run: &Run, task: usize) -> &Outcome {
    run.outcomes
        .iter()
        .find(|o| o.task == task)
        .unwrap_or_else(|| panic!("no outcome for task {task}"))
}

#[test]
fn a_hung_query_on_one_connection_does_not_delay_tasks_on_the_others() {
    // Task 1 waits 5 ms, takes a connection and hangs on it until its timeout; the seven others
    // start their SQL after it (10 to 30 ms). Had they been dealt connections in turn, three of
    // them would have queued behind the hang and timed out with it.
    let mut plan = plan(8, 8, &[(Fault::Hang, 1)]);
    plan.workers = None;
    plan.timeout = Duration::from_secs(2);
    let run = run(&plan, 2);

    let hung = outcome(&run, 1);
    assert_eq!(hung.status, Status::TimedOut);
    assert!(
        hung.worker.starts_with("conn-"),
        "the hang ran on {:?}",
        hung.worker
    );
    for o in run.outcomes.iter().filter(|o| o.task != 1) {
        assert!(
            o.status.is_ok(),
            "task {} is {:?}: it was held up by the hang",
            o.task,
            o.status
        );
        assert_ne!(
            o.worker, hung.worker,
            "task {} was given the hung connection",
            o.task
        );
        let took = o.duration().expect("a task that ran has times");
        assert!(
            took < plan.timeout,
            "task {} took {took:?}, as long as the hang",
            o.task
        );
    }
    // The hang is stopped at its deadline, not left running to the end of the run.
    assert!(
        run.wall < plan.timeout + Duration::from_millis(1500),
        "the run took {:?}",
        run.wall
    );
}

#[test]
fn a_panic_costs_its_task_and_not_its_connection() {
    // One connection only: had a panic ended its thread, every later task would have failed.
    let run = run(&plan(6, 6, &[(Fault::Panic, 1), (Fault::Panic, 3)]), 1);
    for task in [1, 3] {
        match &outcome(&run, task).status {
            Status::Failed(message) => assert!(message.contains("panic"), "{message}"),
            other => panic!("task {task} should have failed, but is {other:?}"),
        }
    }
    for task in [2, 4, 5, 6] {
        let o = outcome(&run, task);
        assert!(
            o.status.is_ok(),
            "task {task} is {:?} after a panic on its connection",
            o.status
        );
        assert_eq!(&*o.worker, "conn-0");
    }
}

#[test]
fn every_outcome_names_the_connection_that_ran_its_sql() {
    let run = run(&plan(16, 16, &[]), 3);
    let names = ["conn-0", "conn-1", "conn-2"];
    for o in &run.outcomes {
        assert!(
            names.contains(&&*o.worker),
            "task {} ran on {:?}",
            o.task,
            o.worker
        );
        assert!(
            o.sql_started().is_some(),
            "task {} has no SQL start",
            o.task
        );
    }
}

#[test]
fn a_task_whose_latency_outlasts_its_timeout_never_takes_a_connection() {
    // 100 ms waits with a 5 ms timeout: the wait is cut short at the deadline, on the event loop.
    let mut plan = plan(4, 4, &[]);
    plan.workload = Workload::preset(Preset::Scale, Some(4));
    plan.timeout = Duration::from_millis(5);
    let run = run(&plan, 2);
    for o in &run.outcomes {
        assert_eq!(o.status, Status::TimedOut, "task {}", o.task);
        assert_eq!(
            &*o.worker, "event-loop",
            "task {} reached a connection",
            o.task
        );
        assert_eq!(o.sql_started(), None, "task {} started its SQL", o.task);
    }
}

#[test]
fn without_a_worker_limit_every_task_is_in_flight_at_once() {
    // A thousand waits of 100 ms (100 s in sequence), gathered as asyncio.gather would: all of
    // them wait at once on the one event-loop thread. Five seconds is generous on a loaded
    // machine and still far below what any limit on concurrent waits would take.
    let mut plan = plan(0, 1, &[]);
    plan.workload = Workload::preset(Preset::Scale, Some(1000));
    plan.workers = None;
    let run = run(&plan, 4);
    assert_eq!(
        run.workers, 1000,
        "without --workers, every task counts as in flight"
    );
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert!(
        run.wall < Duration::from_secs(5),
        "1,000 concurrent waits of 100 ms took {:?}",
        run.wall
    );
}

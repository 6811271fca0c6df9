//! A pool of many threads, most of them idle most of the time (see `idle_gates.rs`): every task
//! completes and the run returns, whether the tasks outnumber the threads or not.

use std::time::Duration;

use shared::{Database, Plan, Preset, Workload};
use threadpool_executor::Options;

fn plan(tasks: usize, workers: usize) -> Plan {
    Plan {
        workload: Workload::preset(Preset::Scale, Some(tasks)),
        database: Database::prepare(None, false).expect("the fixture is built"),
        workers: Some(workers),
        timeout: Duration::from_secs(10),
    }
}

/// The method, bounded: a thread left behind a gate fails the test instead of hanging it.
fn bounded_run(plan: &Plan) -> shared::Run {
    shared::conformance::within(
        shared::conformance::BOUND,
        "threadpool_executor::run",
        || threadpool_executor::run(plan, &Options::default()),
    )
    .expect("the run is made")
}

#[test]
fn a_thousand_threads_run_a_thousand_waits_and_all_complete() {
    let run = bounded_run(&plan(1000, 1000));
    assert_eq!(run.outcomes.len(), 1000);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    let mut names: Vec<&str> = run.outcomes.iter().map(|o| &*o.worker).collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() > 100, "only {} threads ran tasks", names.len());
}

#[test]
fn more_workers_asked_than_tasks_start_a_thread_a_task() {
    let run = bounded_run(&plan(8, 200));
    assert_eq!(run.outcomes.len(), 8);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert_eq!(run.workers, 8, "a thread with no task to take does nothing");
}

// Only Linux says how many mappings a process may have; elsewhere nothing is refused up front.
#[cfg(target_os = "linux")]
#[test]
fn more_threads_than_this_process_can_start_is_an_error_not_an_abort() {
    let threads = shared::conformance::more_threads_than_this_machine_maps();
    let Err(error) = threadpool_executor::run(&plan(threads, threads), &Options::default()) else {
        panic!("{threads} threads must be refused before one is started");
    };
    assert!(
        error.to_string().contains(&format!("--workers {threads}")),
        "{error}"
    );
}

#[test]
fn more_tasks_than_threads_park_no_thread_while_tasks_wait() {
    // 300 waits on 100 threads: a thread parked too early would leave tasks queued with no
    // thread to take them, and the run would end at its deadline with tasks not run.
    let run = bounded_run(&plan(300, 100));
    assert_eq!(run.outcomes.len(), 300);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
}

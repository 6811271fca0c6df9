//! What rayon does with a panic in a `spawn`ed job, and how this executor keeps a panic to its
//! own task.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use shared::conformance::{plan, run_alone_in_a_child};
use shared::quiet_injected_panics;
use shared::{Fault, Status};
use threadpool_executor::Options;

/// Set in the child process that [`bare_rayon_job_panics`] runs as.
const CHILD: &str = "THREADPOOL_EXECUTOR_PANIC_CHILD";

/// Not a check on its own: the body of the child process of the next test, which runs it with
/// `--ignored`. Ignored in every other run, so that it is never counted as a passing test; and
/// without the environment variable it does nothing, so that `--include-ignored` cannot abort
/// the test binary.
#[test]
#[ignore = "the child process of a_panic_in_a_bare_rayon_job_aborts_the_whole_process"]
fn bare_rayon_job_panics() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // A pool with no `panic_handler`, as `ThreadPoolBuilder::new()` makes by default.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool of one thread");
    pool.spawn(|| panic!("a task panicked in a bare rayon job"));
    // Rayon aborts within moments. Nothing here may wait on the job itself: anything the job
    // owned is dropped while its panic unwinds, before rayon aborts, and a wait that ended then
    // would let this process exit 0 first. If rayon only lost the job, the sleep ends, the
    // process exits 0, and the parent test fails.
    std::thread::sleep(Duration::from_secs(10));
    std::process::exit(0);
}

#[test]
fn a_panic_in_a_bare_rayon_job_aborts_the_whole_process() {
    let output = run_alone_in_a_child("bare_rayon_job_panics", CHILD);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.signal(),
        Some(SIGABRT),
        "the child should have been killed by SIGABRT, but {:?}; stderr: {stderr}",
        output.status
    );
    assert!(
        stderr.contains("Rayon: detected unexpected panic; aborting"),
        "stderr: {stderr}"
    );
}

/// The signal `std::process::abort` raises: 6 on every Unix.
const SIGABRT: i32 = 6;

#[test]
fn a_panic_in_every_task_still_gives_one_failed_outcome_each() {
    quiet_injected_panics();
    let faults: Vec<(Fault, usize)> = (1..=8).map(|t| (Fault::Panic, t)).collect();
    let run = bounded_run(&plan(8, 2, &faults), &Options::default()).expect("the run is made");
    assert_eq!(run.outcomes.len(), 8);
    for o in &run.outcomes {
        assert!(
            matches!(&o.status, Status::Failed(m) if m.contains("panic")),
            "task {}: {:?}",
            o.task,
            o.status
        );
    }
}

#[test]
fn a_connection_in_use_when_its_task_panics_is_replaced_not_lost() {
    quiet_injected_panics();
    // One connection for everyone: if a panicking task lost it, every task after would wait for
    // it until its timeout.
    let faults: Vec<(Fault, usize)> = (1..=6).map(|t| (Fault::Panic, t)).collect();
    let mut plan = plan(8, 2, &faults);
    plan.timeout = Duration::from_secs(5);
    let run = bounded_run(
        &plan,
        &Options {
            connections: Some(1),
        },
    )
    .expect("the run is made");
    for o in run.outcomes.iter().filter(|o| o.task > 6) {
        assert!(o.status.is_ok(), "task {} is {:?}", o.task, o.status);
    }
}

/// The method, bounded: a pool that never shuts down fails the test instead of hanging it.
fn bounded_run(plan: &shared::Plan, options: &Options) -> shared::Result<shared::Run> {
    shared::conformance::within(
        shared::conformance::BOUND,
        "threadpool_executor::run",
        || threadpool_executor::run(plan, options),
    )
}

//! What this method promises beyond the conformance suite: the queue's order, its lock, and
//! a thousand threads.

use std::sync::Arc;
use std::time::Duration;

use shared::Preset;
use shared::conformance::{BOUND, plan, within};
use shared::{Outcome, Plan, Run, Workload};
use threading_executor::{Options, Priority};

fn run(plan: &Plan, priority: Priority) -> Run {
    shared::quiet_injected_panics();
    // Bounded: a broken shutdown (a worker that never leaves) fails the test, not CI's clock.
    within(BOUND, "threading_executor::run", || {
        threading_executor::run(plan, &Options { priority }).expect("the run is made")
    })
}

/// The task ids in the order their workers started them.
fn start_order(run: &Run) -> Vec<usize> {
    let mut by_start: Vec<&Outcome> = run.outcomes.iter().collect();
    by_start.sort_by_key(|o| (o.started(), o.task));
    by_start.iter().map(|o| o.task).collect()
}

/// A plan of tasks with these latencies (in ms), on `workers` workers.
fn plan_with_latencies(latencies_ms: &[u64], workers: usize) -> Plan {
    let mut plan = plan(latencies_ms.len(), workers, &[]);
    for (task, &ms) in plan.workload.tasks.iter_mut().zip(latencies_ms) {
        let mut query = (*task.query).clone();
        query.latency_ms = ms;
        task.query = Arc::new(query);
    }
    plan
}

#[test]
fn longest_first_starts_the_longest_tasks_first_and_ties_in_submission_order() {
    // One worker, so the start order is exactly the order the queue hands jobs out.
    let plan = plan_with_latencies(&[5, 30, 10, 30, 20, 5], 1);
    let run = run(&plan, Priority::LongestFirst);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert_eq!(start_order(&run), vec![2, 4, 5, 3, 1, 6]);
    assert_eq!(run.dispatch, shared::Dispatch::LongestFirst);
}

#[test]
fn longest_first_on_four_workers_gives_the_four_longest_tasks_to_the_first_four_workers() {
    // The io pattern's latencies (50..300 ms, divided by ten by `plan`): 6, 5, 4 and 3 (or its
    // twin 8, submitted later) are the longest, so they are the first four handed out.
    let plan = plan(8, 4, &[]);
    let run = run(&plan, Priority::LongestFirst);
    let first_four: Vec<usize> = start_order(&run).into_iter().take(4).collect();
    let mut sorted = first_four.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![3, 4, 5, 6], "started first: {first_four:?}");
}

#[test]
fn fifo_with_one_worker_runs_tasks_in_submission_order_like_the_sequential_baseline() {
    let plan = plan_with_latencies(&[5, 30, 10, 30, 20, 5], 1);
    let run = run(&plan, Priority::Fifo);
    assert_eq!(start_order(&run), (1..=6).collect::<Vec<_>>());
    let baseline = shared::sequential::run(&plan).expect("the baseline runs");
    for b in &baseline.outcomes {
        let o = run
            .outcomes
            .iter()
            .find(|o| o.task == b.task)
            .expect("every task has an outcome");
        assert_eq!(o.status, b.status, "task {}", b.task);
        assert_eq!(&*o.worker, "worker-0");
    }
}

#[test]
fn the_queue_lock_is_not_held_while_a_job_runs() {
    // Two workers, two tasks of 300 ms. If a worker kept the queue's lock while running its
    // job (the `while let ... lock().recv()` trap), the second worker could not take the
    // second job until the first had finished: the two would not overlap at all.
    let plan = plan_with_latencies(&[300, 300], 2);
    let run = run(&plan, Priority::Fifo);
    let [a, b] = [&run.outcomes[0], &run.outcomes[1]];
    let (a_start, a_end) = (a.started().expect("a ran"), a.finished().expect("a ran"));
    let (b_start, b_end) = (b.started().expect("b ran"), b.finished().expect("b ran"));
    assert!(
        a_start < b_end && b_start < a_end,
        "the jobs ran one after the other: {a:?} {b:?}"
    );
    assert_ne!(a.worker, b.worker);
}

#[test]
fn a_thousand_workers_on_the_scale_workload_all_complete() {
    let mut plan = plan(0, 1000, &[]);
    plan.workload = Workload::preset(Preset::Scale, Some(1000));
    let run = run(&plan, Priority::Fifo);
    assert_eq!(run.outcomes.len(), 1000);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert_eq!(run.workers, 1000);
    // A thousand 100 ms waits at once, not one after another (100 s). Ten seconds of margin
    // holds on a loaded machine and a debug build.
    assert!(run.wall < Duration::from_secs(10), "took {:?}", run.wall);
    let mut names: Vec<&str> = run.outcomes.iter().map(|o| &*o.worker).collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() > 100, "only {} workers ran tasks", names.len());
}

#[test]
fn more_workers_than_tasks_wait_on_the_queue_and_leave_when_it_closes() {
    let plan = plan(3, 16, &[]);
    let run = run(&plan, Priority::Fifo);
    assert_eq!(run.outcomes.len(), 3);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
}

#[test]
fn workers_are_named_worker_0_to_worker_n_minus_1() {
    let plan = plan(12, 3, &[]);
    let run = run(&plan, Priority::Fifo);
    for o in &run.outcomes {
        assert!(
            ["worker-0", "worker-1", "worker-2"].contains(&&*o.worker),
            "{}",
            o.worker
        );
    }
}

#[test]
fn a_panic_in_every_task_of_a_one_worker_pool_loses_no_task() {
    use shared::Fault;
    let faults: Vec<(Fault, usize)> = (1..=4).map(|t| (Fault::Panic, t)).collect();
    let plan = plan(6, 1, &faults);
    let run = run(&plan, Priority::Fifo);
    for o in &run.outcomes {
        if o.task <= 4 {
            assert!(
                matches!(&o.status, shared::Status::Failed(m) if m.contains("panic")),
                "{o:?}"
            );
        } else {
            assert!(o.status.is_ok(), "{o:?}");
        }
    }
}

/// The two traps of the writes table, shown on threads: with no busy timeout, or with
/// `BEGIN DEFERRED` transactions that read before they write (busy timeout or not), concurrent
/// writers fail with "database is locked". Every failure is reported, none is lost: the rows
/// in the database are exactly the rows the ok tasks report.
#[test]
fn the_write_traps_fail_tasks_on_the_lock_and_lose_nothing() {
    use shared::conformance::writes_plan;
    use shared::{Begin, Status, WriteSettings};
    let traps = [
        WriteSettings {
            busy_timeout: Duration::ZERO,
            ..WriteSettings::default()
        },
        WriteSettings {
            begin: Begin::Deferred,
            ..WriteSettings::default()
        },
    ];
    for settings in traps {
        let plan = writes_plan(300, 8, settings, &[]);
        let run = run(&plan, Priority::Fifo);
        let locked = run
            .outcomes
            .iter()
            .filter(|o| matches!(&o.status, Status::Failed(m) if m.contains("locked")))
            .count();
        let ok = run.rows_reported();
        assert!(locked > 0, "{settings:?}: no write failed on the lock");
        assert_eq!(ok as usize + locked, 300, "{settings:?}: other failures");
        assert_eq!(plan.database.rows_written().unwrap(), ok, "{settings:?}");
    }
}

/// With `--writer single`, the writes of 8 threads reach one writer, which commits what is
/// queued together: fewer commits than rows, and every row accounted for.
#[test]
fn one_writer_commits_the_writes_of_many_threads_in_groups() {
    use shared::conformance::writes_plan;
    use shared::{WriteSettings, WriterKind};
    let settings = WriteSettings {
        writer: WriterKind::Single,
        ..WriteSettings::default()
    };
    let plan = writes_plan(300, 8, settings, &[]);
    let run = run(&plan, Priority::Fifo);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    let commits = plan.writes().and_then(|w| w.group_commits()).unwrap();
    assert_eq!(commits.rows, 300);
    assert_eq!(plan.database.rows_written().unwrap(), 300);
    assert!(
        commits.transactions < 300 && commits.largest_batch > 1,
        "{commits:?}: no commit carried more than one row"
    );
}

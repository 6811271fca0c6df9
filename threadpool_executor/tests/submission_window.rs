//! Tasks are submitted a window at a time, not all at once (see `window.rs`): however many tasks
//! a run has, only a window of them is ever a job in the pool, queued or running, and none is
//! lost or reordered on the way.
//!
//! How many jobs are alive is counted, not timed. Every task of the workload below shares one
//! `Arc<Query>`, and each job holds a clone of its task, so the query's strong count, less what
//! the plan itself holds, is the number of jobs submitted and not yet done. A tracing subscriber
//! reads that count at every event a pool thread logs, as each task starts and ends. The pool's
//! threads wait until the first window is queued (`idle_gates.rs`), so the first count already
//! holds every job submitted before the first task ran: the whole workload, if the tasks went in
//! all at once, however fast or loaded the machine.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shared::{Database, Plan, Preset, Query, Workload};
use threadpool_executor::Options;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// More than twice the window (4,096 tasks in `window.rs`), so that the window is filled and
/// topped up several times over; a run that submitted them all at once would hold every one of
/// them as a job before its first task started.
const TASKS: usize = 10_000;

#[test]
fn never_more_than_a_window_of_tasks_is_in_the_pool_and_all_run_in_submission_order() {
    let plan = Plan {
        workload: Workload::preset(Preset::Overhead, Some(TASKS)),
        database: Database::prepare(None, false).expect("the fixture is built"),
        // One thread: FIFO then means the results arrive in submission order, and at most one
        // job at a time has sent its outcome but not yet been dropped.
        workers: Some(1),
        timeout: Duration::from_secs(10),
    };
    // The `overhead` workload repeats one query, so its tasks already share one `Arc`.
    let query = Arc::clone(&plan.workload.tasks[0].query);
    assert!(
        plan.workload
            .tasks
            .iter()
            .all(|t| Arc::ptr_eq(&t.query, &query)),
        "the workload's tasks do not share one query: the count below would miss jobs"
    );
    let held_by_the_plan = Arc::strong_count(&query);
    JOBS.set(JobCounter {
        query,
        held_by_the_plan,
        samples: AtomicUsize::new(0),
        most_alive: AtomicUsize::new(0),
    })
    .unwrap_or_else(|_| panic!("only this test sets the counter"));
    tracing::subscriber::set_global_default(CountJobs)
        .expect("this test binary installs the only subscriber");

    let run = shared::conformance::within(
        shared::conformance::BOUND,
        "threadpool_executor::run",
        || threadpool_executor::run(&plan, &Options::default()),
    )
    .expect("the run is made");

    let jobs = JOBS.get().expect("set above");
    let samples = jobs.samples.load(Ordering::Relaxed);
    assert!(
        samples >= TASKS,
        "the pool's threads logged {samples} events for {TASKS} tasks: nothing was counted"
    );
    let most_alive = jobs.most_alive.load(Ordering::Relaxed);
    assert!(
        most_alive <= TASKS / 2,
        "{most_alive} of the {TASKS} tasks were jobs in the pool at once: they were not \
         submitted a window at a time"
    );
    let arrival: Vec<usize> = run.outcomes.iter().map(|o| o.task).collect();
    assert_eq!(arrival, (1..=TASKS).collect::<Vec<_>>());
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
}

/// What the subscriber counts with: set once, before the run, by the test.
static JOBS: OnceLock<JobCounter> = OnceLock::new();

struct JobCounter {
    /// The query every task shares; the plan's tasks and each live job hold a clone.
    query: Arc<Query>,
    /// The strong count with no job alive: the plan's tasks, and the clones held here.
    held_by_the_plan: usize,
    /// How many events were counted, so that a run that logged nothing cannot pass.
    samples: AtomicUsize,
    most_alive: AtomicUsize,
}

/// A subscriber that takes every event of `threadpool_executor` (all of them logged on the
/// pool's threads, as a task starts and ends) as a moment to count the jobs alive.
struct CountJobs;

impl Subscriber for CountJobs {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn event(&self, event: &Event<'_>) {
        if !event.metadata().target().starts_with("threadpool_executor") {
            return;
        }
        let Some(jobs) = JOBS.get() else { return };
        let alive = Arc::strong_count(&jobs.query).saturating_sub(jobs.held_by_the_plan);
        jobs.most_alive.fetch_max(alive, Ordering::Relaxed);
        jobs.samples.fetch_add(1, Ordering::Relaxed);
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

//! The tasks run on the executor's own pool: rayon's global pool stays free for everyone else.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use shared::Preset;
use shared::{Database, Plan, Workload};
use threadpool_executor::Options;

#[test]
fn blocking_tasks_run_on_the_dedicated_pool_and_never_starve_the_global_one() {
    // The global pool with one thread, named so that any task run there would show it.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|i| format!("rayon-global-{i}"))
        .build_global()
        .expect("this test binary builds the global pool once");

    // One worker and the eight `io` tasks: 1.3 s of blocking waits, one after another.
    let plan = Plan {
        workload: Workload::preset(Preset::Io, None),
        database: Database::prepare(None, false).expect("the fixture is built"),
        workers: Some(1),
        timeout: Duration::from_secs(10),
    };
    let executor = std::thread::spawn(move || threadpool_executor::run(&plan, &Options::default()));

    // Meanwhile, work on the global pool is not held up behind those waits.
    std::thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    let (sender, receiver) = mpsc::channel();
    rayon::spawn(move || {
        sender
            .send(std::thread::current().name().map(str::to_string))
            .expect("the test waits")
    });
    // Bounded, like every wait in these tests: a starved global pool fails here, in seconds.
    let ran_on = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("the global job runs within 30 s");
    let waited = asked.elapsed();
    assert!(
        !executor.is_finished(),
        "the executor ended before the check: make its tasks longer"
    );

    let run =
        shared::conformance::within(shared::conformance::BOUND, "the executor's thread", || {
            executor.join()
        })
        .expect("no panic")
        .expect("the run is made");
    assert_eq!(ran_on.as_deref(), Some("rayon-global-0"));
    assert!(
        waited < run.wall,
        "the global pool waited {waited:?}, as long as the tasks' {:?}",
        run.wall
    );
    for o in &run.outcomes {
        assert!(
            o.worker.starts_with("pool-"),
            "task {} ran on {}",
            o.task,
            o.worker
        );
    }
}

//! The behaviour every method must show, as checks that each executor's tests run.
//!
//! A method is a function from a [`Plan`] to a [`Run`]. Each check builds a small plan on the
//! fixture, runs the method on it, and asserts what must hold whatever the method: the results
//! equal the sequential baseline's, every task has exactly one outcome, zero tasks and one
//! worker work, no more than `workers` tasks run at once, and an error, a panic or a hang costs
//! its own task and nothing else; and what the database holds after a writing run is what its
//! tasks reported, with either writer. [`conformance_tests!`](crate::conformance_tests) turns them
//! into one named `#[test]` each:
//!
//! ```ignore
//! shared::conformance_tests!(|plan: &shared::Plan| threading_executor::run(plan, &Options::default()));
//! ```
//!
//! The plans use the `io` queries with a tenth of their latencies (5 to 30 ms), so that the
//! whole suite stays quick, even in a debug build.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use crate::database::Database;
use crate::error::Result;
use crate::outcome::{Outcome, Run};
use crate::plan::Plan;
use crate::presets::Preset;
use crate::sequential;
use crate::status::Status;
use crate::task::quiet_injected_panics;
use crate::workload::{Fault, Injection, Workload};
use crate::write_settings::{Begin, WriteSettings, WriterKind};

/// What a program's `--help` says of `flag`: the lines after the flag's own, up to the next
/// blank line, joined into one. `program` is the binary's path (`env!("CARGO_BIN_EXE_…")`).
pub fn help_of(program: &str, flag: &str) -> String {
    let out = std::process::Command::new(program)
        .arg("--help")
        .output()
        .expect("the program runs");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(flag));
    lines
        .next()
        .unwrap_or_else(|| panic!("no {flag} in:\n{help}"));
    let said: Vec<&str> = lines.take_while(|l| !l.trim().is_empty()).collect();
    said.join(" ")
}

/// The JSON report a program printed, after checking that it ended with exit 0 (its stderr
/// says why not, if it did not): what a test of a program's command line starts from.
pub fn json_report(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// More threads than this machine lets one process map the stacks of: `vm.max_map_count`
/// divided by the mappings each thread takes (see `room.rs`), and one more. Linux's default
/// limit makes that about sixteen thousand, and the limits some distributions raise it to, a few
/// hundred thousand; past eight million mappings the workload would be too large to build for a
/// test, which then fails and says why, rather than pass without having shown anything. Linux
/// only: elsewhere nothing is refused up front.
#[cfg(target_os = "linux")]
pub fn more_threads_than_this_machine_maps() -> usize {
    let most =
        crate::room::max_map_count().expect("Linux says how many mappings a process may have");
    let threads = most / crate::room::MAPPINGS_PER_THREAD + 1;
    assert!(
        threads <= 2_000_000,
        "vm.max_map_count is {most} here: showing the refusal would take a workload of \
         {threads} tasks; run this test where the limit is Linux's default"
    );
    threads
}

/// A user's database of one table `t` holding one row, at `folder/name`: small enough for a
/// test of what happens to a user's own file.
pub fn small_database(folder: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = folder.join(name);
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);"))
        .expect("a small database");
    path
}

/// How long any one check may take before the test program is stopped: far more than a check
/// takes in a debug build on a loaded machine (a few seconds), and short enough that a method
/// which never returns fails CI in seconds instead of hanging it.
pub const BOUND: Duration = Duration::from_secs(60);

/// Runs `check` on this thread and stops the whole test program, with a message, if it has not
/// returned within `bound`. A test that waits on a shutdown, a worker or a channel can wait
/// forever when the code under test is broken; a bound turns that hang into a failure.
///
/// A watchdog thread does the waiting, so `check` may borrow anything. Test programs that must
/// stay single-threaded (a method that forks) bound each check with `alarm` instead.
pub fn within<T>(bound: Duration, name: &str, check: impl FnOnce() -> T) -> T {
    let (finished, watched) = mpsc::channel::<()>();
    let name = name.to_string();
    let watchdog = thread::spawn(move || {
        // `Disconnected` is the check ending, by returning or by panicking (which drops
        // `finished` as it unwinds); only `Timeout` means it is still running.
        if let Err(RecvTimeoutError::Timeout) = watched.recv_timeout(bound) {
            eprintln!(
                "{name}: still running after {bound:?}, a wait that never ends: stopping the test program"
            );
            std::process::exit(101);
        }
    });
    let value = check();
    drop(finished);
    // The watchdog returns as soon as `finished` is dropped, so this join is immediate.
    let _ = watchdog.join();
    value
}

/// Runs this test binary again, as a child process, with only the ignored test `test` selected
/// and the environment variable `flag` set: how a test watches something that must end a whole
/// process (an abort, an exit) without ending its own. `test` does nothing without `flag`, so
/// that `--include-ignored` cannot end the test program.
pub fn run_alone_in_a_child(test: &str, flag: &str) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    std::process::Command::new(exe)
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(flag, "1")
        .output()
        .expect("the child runs")
}

/// The fixture, prepared once per test binary (other binaries wait on its build lock).
fn database() -> Database {
    static DATABASE: OnceLock<Database> = OnceLock::new();
    DATABASE
        .get_or_init(|| Database::prepare(None, false).unwrap_or_else(|e| panic!("fixture: {e}")))
        .clone()
}

/// The `io` preset with its latencies divided by ten, `tasks` long, with these faults.
pub fn plan(tasks: usize, workers: usize, faults: &[(Fault, usize)]) -> Plan {
    let mut workload = Workload::preset(Preset::Io, Some(tasks));
    for task in &mut workload.tasks {
        let mut query = (*task.query).clone();
        query.latency_ms /= 10;
        task.query = Arc::new(query);
    }
    plan_of(workload, workers, faults)
}

/// The `writes` preset, `tasks` long, with these faults and write settings, on a scratch copy.
pub fn writes_plan(
    tasks: usize,
    workers: usize,
    settings: WriteSettings,
    faults: &[(Fault, usize)],
) -> Plan {
    let workload = Workload::preset(Preset::Writes, Some(tasks));
    writing_plan(workload, workers, settings, faults)
}

/// A workload that writes, with these faults and write settings, on a scratch copy of the
/// fixture.
pub fn writing_plan(
    workload: Workload,
    workers: usize,
    settings: WriteSettings,
    faults: &[(Fault, usize)],
) -> Plan {
    plan_of(workload, workers, faults)
        .writing_on_a_copy(settings)
        .unwrap_or_else(|e| panic!("scratch copy: {e}"))
}

/// A user's own workload on their own database, as the command line plans it: the tasks SQLite
/// says write, on a scratch copy with the default write settings.
pub fn users_plan(database: Database, mut workload: Workload) -> Plan {
    workload
        .find_writes(&database)
        .expect("SQLite says which tasks write");
    Plan {
        workload,
        database,
        workers: None,
        timeout: Duration::from_secs(10),
    }
    .writing_on_a_copy(WriteSettings::default())
    .unwrap_or_else(|e| panic!("scratch copy: {e}"))
}

fn plan_of(mut workload: Workload, workers: usize, faults: &[(Fault, usize)]) -> Plan {
    let injections: Vec<Injection> = faults
        .iter()
        .map(|&(fault, task)| Injection { fault, task })
        .collect();
    // The faults name tasks that exist: the callers below are the only ones.
    workload
        .inject(&injections)
        .expect("faults on existing tasks");
    Plan {
        workload,
        database: database(),
        workers: Some(workers),
        timeout: Duration::from_secs(10),
    }
}

fn run_ok(method: &dyn Fn(&Plan) -> Result<Run>, plan: &Plan) -> Run {
    quiet_injected_panics();
    method(plan).unwrap_or_else(|e| panic!("the method failed to run: {e}"))
}

fn status_of(run: &Run, task: usize) -> &Status {
    &run.outcomes
        .iter()
        .find(|o| o.task == task)
        .unwrap_or_else(|| panic!("no outcome for task {task}"))
        .status
}

fn assert_ok_except(run: &Run, except: &[usize]) {
    for o in run.outcomes.iter().filter(|o| !except.contains(&o.task)) {
        assert!(
            o.status.is_ok(),
            "task {} should be ok, but is {:?}",
            o.task,
            o.status
        );
    }
}

/// The largest number of tasks whose [started, finished) intervals overlap.
fn most_at_once(outcomes: &[Outcome]) -> usize {
    let mut events: Vec<(Duration, i32)> = Vec::new();
    for o in outcomes {
        if let (Some(start), Some(end)) = (o.started(), o.finished()) {
            events.push((start, 1));
            events.push((end, -1));
        }
    }
    // At equal times, ends before starts: a worker that finishes and starts again at the same
    // instant runs one task, not two.
    events.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in events {
        now += delta;
        most = most.max(now);
    }
    most as usize
}

/// Every task's rows and checksum equal the sequential baseline's.
pub fn results_match_the_sequential_baseline(method: &dyn Fn(&Plan) -> Result<Run>) {
    let plan = plan(8, 4, &[]);
    let run = run_ok(method, &plan);
    let baseline = sequential::run(&plan).expect("the baseline runs");
    for b in &baseline.outcomes {
        assert!(
            b.status.is_ok(),
            "baseline task {} is {:?}",
            b.task,
            b.status
        );
        assert_eq!(
            status_of(&run, b.task),
            &b.status,
            "task {} differs from the baseline",
            b.task
        );
    }
}

/// Every task has exactly one outcome, none missing, none twice.
pub fn every_task_has_exactly_one_outcome(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(method, &plan(20, 3, &[]));
    let mut ids: Vec<usize> = run.outcomes.iter().map(|o| o.task).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    assert_ok_except(&run, &[]);
}

/// A workload of no tasks is an empty run, not an error or a hang.
pub fn zero_tasks_make_an_empty_run(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(method, &plan(0, 4, &[]));
    assert!(run.outcomes.is_empty());
}

/// With one worker, tasks run one at a time, in submission order.
pub fn one_worker_runs_tasks_one_at_a_time_in_order(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(method, &plan(6, 1, &[]));
    assert_ok_except(&run, &[]);
    assert_eq!(
        most_at_once(&run.outcomes),
        1,
        "one worker ran tasks at the same time"
    );
    let mut by_start: Vec<&Outcome> = run.outcomes.iter().collect();
    by_start.sort_by_key(|o| o.started());
    let order: Vec<usize> = by_start.iter().map(|o| o.task).collect();
    assert_eq!(
        order,
        (1..=6).collect::<Vec<_>>(),
        "one worker ran tasks out of order"
    );
}

/// More tasks than workers: all complete, and never more than `workers` at once.
pub fn more_tasks_than_workers_never_exceed_the_workers(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(method, &plan(24, 2, &[]));
    assert_eq!(run.outcomes.len(), 24);
    assert_ok_except(&run, &[]);
    let most = most_at_once(&run.outcomes);
    assert!(most <= 2, "{most} tasks ran at once with 2 workers");
}

/// Tasks really overlap: 8 tasks that each wait 100 ms, on 8 workers, finish in well under
/// their 0.8 s sum (and one worker, as the baseline has, takes at least the sum). Measured from
/// the first task's start to the last one's end, so that a method's startup (forking 8
/// processes on a loaded machine) is not mistaken for waits that did not overlap.
pub fn waits_overlap_across_workers(method: &dyn Fn(&Plan) -> Result<Run>) {
    let mut plan = plan(8, 8, &[]);
    let wait = Workload::preset(Preset::Scale, Some(8));
    plan.workload = Workload {
        name: "overlap".into(),
        tasks: wait.tasks,
    };
    let run = run_ok(method, &plan);
    assert_ok_except(&run, &[]);
    let first_start = run.outcomes.iter().filter_map(|o| o.started()).min();
    let last_end = run.outcomes.iter().filter_map(|o| o.finished()).max();
    let (Some(first_start), Some(last_end)) = (first_start, last_end) else {
        panic!("the tasks have no start or end times");
    };
    let span = last_end - first_start;
    let sum = Duration::from_millis(800);
    if run.workers == 1 {
        assert!(span >= sum, "one worker took {span:?} for {sum:?} of waits");
    } else {
        assert!(
            span < sum / 2,
            "8 waits of 100 ms on 8 workers took {span:?} from the first start to the last end"
        );
    }
}

/// A task whose SQL fails is `failed` with SQLite's message; every other task is ok.
pub fn an_error_fails_only_its_own_task(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(method, &plan(8, 2, &[(Fault::Error, 2)]));
    match status_of(&run, 2) {
        Status::Failed(message) => assert!(message.contains("no such table"), "{message}"),
        other => panic!("task 2 should have failed, but is {other:?}"),
    }
    assert_ok_except(&run, &[2]);
}

/// Panics in more tasks than there are workers: each is `failed`, and no worker is lost with it.
pub fn panics_fail_only_their_own_tasks(method: &dyn Fn(&Plan) -> Result<Run>) {
    let run = run_ok(
        &method,
        &plan(
            8,
            2,
            &[(Fault::Panic, 1), (Fault::Panic, 2), (Fault::Panic, 5)],
        ),
    );
    for task in [1, 2, 5] {
        match status_of(&run, task) {
            Status::Failed(message) => assert!(message.contains("panic"), "{message}"),
            other => panic!("task {task} should have failed, but is {other:?}"),
        }
    }
    assert_ok_except(&run, &[1, 2, 5]);
}

/// A query that never ends is stopped at its timeout, and the run finishes soon after.
pub fn a_hang_is_stopped_at_its_timeout(method: &dyn Fn(&Plan) -> Result<Run>) {
    let mut plan = plan(8, 2, &[(Fault::Hang, 3)]);
    plan.timeout = Duration::from_millis(500);
    let run = run_ok(method, &plan);
    assert_eq!(status_of(&run, 3), &Status::TimedOut);
    assert_ok_except(&run, &[3]);
    // The hang's worker is busy for the timeout; the others finish the rest meanwhile. A second
    // and a half of margin holds on a loaded machine and still fails if the hang is not stopped.
    assert!(
        run.wall < plan.timeout + Duration::from_millis(1500),
        "the run took {:?}",
        run.wall
    );
}

/// Every way of writing (`--writer`): each worker on its own connection, one writer, and each
/// worker after taking the program's lock.
const WRITERS: [WriterKind; 3] = [WriterKind::Shared, WriterKind::Single, WriterKind::Lock];

/// What the database holds after a writing run is what its ok tasks reported: nothing lost
/// that was reported written, nothing written that was reported failed. Checked for every
/// writer, with an error and a panic among the writes (under `lock`, the panic strikes with
/// the lock held: the next writer must still get it).
pub fn writes_agree_with_the_database(method: &dyn Fn(&Plan) -> Result<Run>) {
    for writer in WRITERS {
        let settings = WriteSettings {
            writer,
            ..WriteSettings::default()
        };
        let plan = writes_plan(60, 4, settings, &[(Fault::Error, 3), (Fault::Panic, 7)]);
        let run = run_ok(method, &plan);
        assert!(
            matches!(status_of(&run, 3), Status::Failed(m) if m.contains("no such table")),
            "{writer:?}: task 3 is {:?}",
            status_of(&run, 3)
        );
        assert!(
            matches!(status_of(&run, 7), Status::Failed(m) if m.contains("panic")),
            "{writer:?}: task 7 is {:?}",
            status_of(&run, 7)
        );
        assert_ok_except(&run, &[3, 7]);
        assert_rows_agree(&plan, &run, 58);
    }
}

/// The `app` preset's reads and write transactions at once: every write task that ended ok is
/// recorded in the run's own table and no other is, and a write that failed left nothing half
/// done (its order is not there either). Checked for every writer, with an error in one write
/// and a panic in another, mid-transaction.
pub fn an_application_mix_records_each_write_it_reports(method: &dyn Fn(&Plan) -> Result<Run>) {
    // Tasks 7, 27 and 47 place orders; 17, 37 and 57 change prices (the preset's pattern).
    let faults = [(Fault::Error, 7), (Fault::Panic, 27), (Fault::Panic, 17)];
    for writer in WRITERS {
        let settings = WriteSettings {
            writer,
            ..WriteSettings::default()
        };
        let plan = writing_plan(
            Workload::preset(Preset::App, Some(60)),
            8,
            settings,
            &faults,
        );
        let run = run_ok(method, &plan);
        assert_ok_except(&run, &[7, 17, 27]);
        let writes_ok: Vec<usize> = run
            .outcomes
            .iter()
            .filter(|o| o.status.is_ok() && plan.workload.tasks[o.task - 1].query.writes)
            .map(|o| o.task)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            writes_ok,
            [37, 47, 57],
            "{writer:?}: the writes that ended ok"
        );
        let recorded = plan.database.tasks_recorded().expect("the table is read");
        assert_eq!(recorded, writes_ok, "{writer:?}: recorded against ended ok");
        let orders: i64 = plan
            .database
            .open()
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM orders WHERE status = 'new'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| crate::error::Error::system(e.to_string()))
            })
            .expect("the orders are counted");
        assert_eq!(orders, 1, "{writer:?}: the order of task 47, and no other");
    }
}

/// With `--writer lock`, writers queue on the program's lock and never meet SQLite's: with no
/// busy timeout at all, where writers that collide fail at once (`--writer shared` loses most
/// of these 200), not one write fails.
pub fn the_lock_keeps_every_writer_from_meeting_sqlites_lock(
    method: &dyn Fn(&Plan) -> Result<Run>,
) {
    let settings = WriteSettings {
        writer: WriterKind::Lock,
        busy_timeout: Duration::ZERO,
        ..WriteSettings::default()
    };
    let plan = writes_plan(200, 8, settings, &[]);
    let run = run_ok(method, &plan);
    assert_ok_except(&run, &[]);
    assert_rows_agree(&plan, &run, 200);
}

/// A write transaction that waits inside itself (`--hold-ms`) holds SQLite's write lock through
/// the wait, so every other writer waits through it too: 6 writes holding 40 ms each on 6
/// workers take at least their 240 ms sum, whichever the writer, where 6 waits outside any
/// transaction would overlap. And each is written once, as reported.
pub fn a_held_transaction_holds_every_writer_up(method: &dyn Fn(&Plan) -> Result<Run>) {
    const HOLD: Duration = Duration::from_millis(40);
    for writer in WRITERS {
        let settings = WriteSettings {
            writer,
            hold: HOLD,
            ..WriteSettings::default()
        };
        let plan = writes_plan(6, 6, settings, &[]);
        let run = run_ok(method, &plan);
        assert_ok_except(&run, &[]);
        assert_rows_agree(&plan, &run, 6);
        assert!(
            run.wall >= HOLD * 6,
            "{writer:?}: 6 writes holding {HOLD:?} each took {:?}, less than their sum",
            run.wall
        );
    }
}

/// With no busy timeout and `BEGIN DEFERRED`, writers lose the lock (all but a lone one do):
/// each loss is a failed task that names the lock, never a write lost or written twice.
pub fn a_lost_lock_fails_its_task_and_nothing_else(method: &dyn Fn(&Plan) -> Result<Run>) {
    let settings = WriteSettings {
        busy_timeout: Duration::ZERO,
        begin: Begin::Deferred,
        ..WriteSettings::default()
    };
    let plan = writes_plan(200, 8, settings, &[]);
    let run = run_ok(method, &plan);
    let mut ok = 0;
    for o in &run.outcomes {
        match &o.status {
            Status::Ok { rows: 1, .. } => ok += 1,
            Status::Failed(m) if m.contains("locked") || m.contains("busy") => {}
            other => panic!("task {} is {other:?}", o.task),
        }
    }
    assert_rows_agree(&plan, &run, ok);
}

/// The rows in the database after `run` equal the rows its ok tasks report, and `expected`.
fn assert_rows_agree(plan: &Plan, run: &Run, expected: u64) {
    let reported = run.rows_reported();
    let in_db = plan.database.rows_written().expect("the rows are counted");
    assert_eq!(
        in_db, reported,
        "rows in the database against rows reported"
    );
    assert_eq!(reported, expected, "rows reported");
}

/// A conformance check: runs the method on its plans and panics if the method misbehaves.
pub type Check = fn(&dyn Fn(&Plan) -> Result<Run>);

/// Every check with its name, for test programs that cannot use libtest's threads (a method
/// that forks runs them one after another on its main thread); the others use
/// [`conformance_tests!`](crate::conformance_tests).
pub const CHECKS: [(&str, Check); 14] = [
    (
        "results_match_the_sequential_baseline",
        results_match_the_sequential_baseline,
    ),
    (
        "every_task_has_exactly_one_outcome",
        every_task_has_exactly_one_outcome,
    ),
    ("zero_tasks_make_an_empty_run", zero_tasks_make_an_empty_run),
    (
        "one_worker_runs_tasks_one_at_a_time_in_order",
        one_worker_runs_tasks_one_at_a_time_in_order,
    ),
    (
        "more_tasks_than_workers_never_exceed_the_workers",
        more_tasks_than_workers_never_exceed_the_workers,
    ),
    ("waits_overlap_across_workers", waits_overlap_across_workers),
    (
        "an_error_fails_only_its_own_task",
        an_error_fails_only_its_own_task,
    ),
    (
        "panics_fail_only_their_own_tasks",
        panics_fail_only_their_own_tasks,
    ),
    (
        "a_hang_is_stopped_at_its_timeout",
        a_hang_is_stopped_at_its_timeout,
    ),
    (
        "writes_agree_with_the_database",
        writes_agree_with_the_database,
    ),
    (
        "a_lost_lock_fails_its_task_and_nothing_else",
        a_lost_lock_fails_its_task_and_nothing_else,
    ),
    (
        "an_application_mix_records_each_write_it_reports",
        an_application_mix_records_each_write_it_reports,
    ),
    (
        "a_held_transaction_holds_every_writer_up",
        a_held_transaction_holds_every_writer_up,
    ),
    (
        "the_lock_keeps_every_writer_from_meeting_sqlites_lock",
        the_lock_keeps_every_writer_from_meeting_sqlites_lock,
    ),
];

/// One `#[test]` per conformance check, for the method `$run` (a `Fn(&Plan) -> Result<Run>`).
#[macro_export]
macro_rules! conformance_tests {
    ($run:expr) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn results_match_the_sequential_baseline() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "results_match_the_sequential_baseline",
                    || $crate::conformance::results_match_the_sequential_baseline(&$run),
                )
            }
            #[test]
            fn every_task_has_exactly_one_outcome() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "every_task_has_exactly_one_outcome",
                    || $crate::conformance::every_task_has_exactly_one_outcome(&$run),
                )
            }
            #[test]
            fn zero_tasks_make_an_empty_run() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "zero_tasks_make_an_empty_run",
                    || $crate::conformance::zero_tasks_make_an_empty_run(&$run),
                )
            }
            #[test]
            fn one_worker_runs_tasks_one_at_a_time_in_order() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "one_worker_runs_tasks_one_at_a_time_in_order",
                    || $crate::conformance::one_worker_runs_tasks_one_at_a_time_in_order(&$run),
                )
            }
            #[test]
            fn more_tasks_than_workers_never_exceed_the_workers() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "more_tasks_than_workers_never_exceed_the_workers",
                    || $crate::conformance::more_tasks_than_workers_never_exceed_the_workers(&$run),
                )
            }
            #[test]
            fn waits_overlap_across_workers() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "waits_overlap_across_workers",
                    || $crate::conformance::waits_overlap_across_workers(&$run),
                )
            }
            #[test]
            fn an_error_fails_only_its_own_task() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "an_error_fails_only_its_own_task",
                    || $crate::conformance::an_error_fails_only_its_own_task(&$run),
                )
            }
            #[test]
            fn panics_fail_only_their_own_tasks() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "panics_fail_only_their_own_tasks",
                    || $crate::conformance::panics_fail_only_their_own_tasks(&$run),
                )
            }
            #[test]
            fn writes_agree_with_the_database() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "writes_agree_with_the_database",
                    || $crate::conformance::writes_agree_with_the_database(&$run),
                )
            }
            #[test]
            fn a_lost_lock_fails_its_task_and_nothing_else() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "a_lost_lock_fails_its_task_and_nothing_else",
                    || $crate::conformance::a_lost_lock_fails_its_task_and_nothing_else(&$run),
                )
            }
            #[test]
            fn an_application_mix_records_each_write_it_reports() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "an_application_mix_records_each_write_it_reports",
                    || $crate::conformance::an_application_mix_records_each_write_it_reports(&$run),
                )
            }
            #[test]
            fn a_held_transaction_holds_every_writer_up() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "a_held_transaction_holds_every_writer_up",
                    || $crate::conformance::a_held_transaction_holds_every_writer_up(&$run),
                )
            }
            #[test]
            fn the_lock_keeps_every_writer_from_meeting_sqlites_lock() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "the_lock_keeps_every_writer_from_meeting_sqlites_lock",
                    || {
                        $crate::conformance::the_lock_keeps_every_writer_from_meeting_sqlites_lock(
                            &$run,
                        )
                    },
                )
            }
            #[test]
            fn a_hang_is_stopped_at_its_timeout() {
                $crate::conformance::within(
                    $crate::conformance::BOUND,
                    "a_hang_is_stopped_at_its_timeout",
                    || $crate::conformance::a_hang_is_stopped_at_its_timeout(&$run),
                )
            }
        }
    };
}

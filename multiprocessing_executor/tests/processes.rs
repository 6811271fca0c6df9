//! What worker processes add over threads: a crash, a kill from outside or a hang costs one
//! task and one child, which is replaced; and no child outlives its run or its parent.
//!
//! Single-threaded, without libtest, for the reason given in Cargo.toml. Every wait is bounded:
//! a check that hangs fails within seconds instead of holding up the suite.

mod common;

use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_ok_except, distinct_workers, status_of};
use multiprocessing_executor::Options;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use shared::conformance::plan;
use shared::{Fault, Preset, Run, RunReport, Status, Workload};

fn run(plan: &shared::Plan) -> Run {
    shared::quiet_injected_panics();
    let run = multiprocessing_executor::run(plan, &Options::default()).expect("the run is made");
    common::assert_no_children();
    run
}

fn a_crashed_worker_is_replaced_and_no_task_is_lost() {
    // Two children at first, then a third in place of the one that crashed.
    common::assert_the_crash_cost_task_3_alone(&run(&plan(8, 2, &[(Fault::Crash, 3)])));
}

fn a_task_past_its_timeout_has_its_worker_killed_and_replaced() {
    let mut plan = plan(8, 2, &[(Fault::Hang, 2)]);
    plan.timeout = Duration::from_millis(300);
    let run = run(&plan);
    assert_eq!(status_of(&run, 2), &Status::TimedOut);
    assert_ok_except(&run, 2);
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("task 2") && n.contains("SIGKILL")),
        "{:?}",
        run.notes
    );
}

fn a_panic_costs_its_task_but_not_its_worker() {
    let run = run(&plan(6, 1, &[(Fault::Panic, 2)]));
    assert!(matches!(status_of(&run, 2), Status::Failed(m) if m.contains("panic")));
    assert_ok_except(&run, 2);
    assert_eq!(
        distinct_workers(&run),
        1,
        "the one worker should have gone on after the panic"
    );
}

fn tiny_tasks_are_pipelined_and_every_one_completes() {
    let mut plan = plan(0, 2, &[]);
    plan.workload = shared::Workload::preset(shared::Preset::Overhead, Some(2_000));
    let run = run(&plan);
    assert_eq!(run.outcomes.len(), 2_000);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert!(
        run.notes.iter().any(|n| n.contains("busy child")),
        "{:?}",
        run.notes
    );
}

fn a_short_query_that_hangs_with_answers_held_back_costs_its_own_task_only() {
    // One query, quick for every task but task 40, which recurses until it is stopped. After the
    // first runs it counts short, so jobs queue behind it and the child holds their answers back
    // (`pipelining.rs`). When task 40 hangs, the child is killed with the answers it held: none of
    // them may be blamed for the hang or lost.
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("tasks.json");
    let sql = "WITH RECURSIVE f(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM f WHERE :task = 40 \
               OR n < 3) SELECT count(*) FROM f";
    let json = format!(r#"[{{"name": "quick", "sql": "{sql}"}}]"#);
    std::fs::write(&file, json).expect("written");
    let mut plan = plan(0, 1, &[]);
    plan.workload = Workload::from_file(&file, Some(80)).expect("a workload");
    plan.timeout = Duration::from_millis(300);
    let run = run(&plan);
    assert_eq!(status_of(&run, 40), &Status::TimedOut);
    assert_ok_except(&run, 40);
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("task 40") && n.contains("SIGKILL")),
        "the hang is blamed on its own task: {:?}",
        run.notes
    );
}

fn the_deepest_pipeline_still_fits_in_a_pipe_and_a_deeper_one_is_refused() {
    // One child and 20,000 tiny tasks: it is handed the deepest pipeline of jobs, round after
    // round. Jobs that did not fit in its pipe would block the parent's write while the child
    // waits for the parent to read its results: the run would never end.
    let most = Options::MOST_PIPELINE.to_string();
    let mut demo = start(&[
        "--workload",
        "overhead",
        "--tasks",
        "20000",
        "--workers",
        "1",
        "--pipeline",
        &most,
    ]);
    let json = common::read_stdout_within(&mut demo, Duration::from_secs(30));
    common::wait_within(&mut demo, Duration::from_secs(5));
    let report: RunReport = serde_json::from_str(&json).expect("a JSON report");
    assert_eq!(report.tasks.len(), 20_000);
    assert!(report.tasks.iter().all(|t| t.status == "ok"));
    let deeper = (Options::MOST_PIPELINE + 1).to_string();
    let mut refused = start(&["--workload", "overhead", "--pipeline", &deeper]);
    let status = common::wait_within(&mut refused, Duration::from_secs(20));
    assert_eq!(status.code(), Some(2), "a usage error");
}

fn the_report_gives_each_childs_pid_startup_and_memory() {
    let run = run(&plan(8, 4, &[]));
    assert!(
        run.outcomes.iter().all(|o| o.worker.starts_with("pid ")),
        "workers: {:?}",
        run.outcomes
    );
    assert!(run.startup > Duration::ZERO);
    if common::has_proc() {
        assert!(run.children_max_rss_kib.is_some_and(|kib| kib > 0));
    } else {
        println!("  (skipped: the children's memory, which only Linux's /proc gives)");
        assert_eq!(run.children_max_rss_kib, None);
    }
}

/// `tasks` waits of `latency_ms` and a `SELECT 1` each (the `scale` preset, slowed down), on
/// `workers` children.
fn waits(tasks: usize, workers: usize, latency_ms: u64) -> shared::Plan {
    let mut plan = plan(0, workers, &[]);
    plan.workload = Workload::preset(Preset::Scale, Some(tasks));
    for task in &mut plan.workload.tasks {
        let mut query = (*task.query).clone();
        query.latency_ms = latency_ms;
        task.query = Arc::new(query);
    }
    plan
}

fn every_child_of_a_large_pool_is_forked_and_serves_tasks() {
    // Two rounds of 300 ms waits: forking 64 children takes a few milliseconds, and even a
    // machine many times slower has them all ready long before the first wait ends, after
    // which a child could take a second task away from a sibling not yet ready.
    let run = run(&waits(128, 64, 300));
    assert_eq!(run.outcomes.len(), 128);
    assert!(run.outcomes.iter().all(|o| o.status.is_ok()));
    assert_eq!(distinct_workers(&run), 64, "{:?}", run.notes);
    assert!(
        run.notes[0].starts_with("64 worker processes forked"),
        "{:?}",
        run.notes
    );
    assert!(
        !run.notes.iter().any(|n| n.contains("replace")),
        "{:?}",
        run.notes
    );
}

fn a_database_that_cannot_be_opened_ends_the_run_with_one_clear_error() {
    // A copy of the fixture, accepted by `prepare` and then taken away: a child opens its
    // connection only when its first task is about to run SQL, so that is where it finds out.
    let fixture = shared::Database::prepare(None, false).expect("the fixture");
    let copy = std::env::temp_dir().join(format!("gone-{}.db", std::process::id()));
    std::fs::copy(fixture.path(), &copy).expect("a copy of the fixture");
    let mut plan = waits(8, 4, 10);
    plan.database = shared::Database::prepare(Some(&copy), false).expect("the copy is a fixture");
    std::fs::remove_file(&copy).expect("the copy can be removed");
    let error = multiprocessing_executor::run(&plan, &Options::default())
        .expect_err("no child can open the database");
    common::assert_no_children();
    let message = error.to_string();
    assert!(message.contains("cannot open"), "{message}");
    assert!(message.contains(&copy.display().to_string()), "{message}");
}

/// Starts the demo binary on `args` (JSON report, no baseline), with its output piped.
fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_multiprocessing_executor"))
        .args(args)
        .args(["--json", "--no-baseline"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo binary starts")
}

/// Waits until `parent` has `count` children (it builds nothing: the fixture exists already).
fn wait_for_children(parent: u32, count: usize) -> Vec<u32> {
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let children = common::children_of(parent);
        if children.len() >= count {
            return children;
        }
        assert!(
            Instant::now() < give_up,
            "{parent} never had {count} children"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn a_child_killed_from_outside_costs_only_its_task() {
    // 16 waits of 50-300 ms on 2 workers: about 1.3 s, the children busy nearly all along.
    let mut demo = start(&["--workload", "io", "--tasks", "16", "--workers", "2"]);
    let children = wait_for_children(demo.id(), 2);
    std::thread::sleep(Duration::from_millis(200));
    let victim = children[0];
    kill(Pid::from_raw(victim as i32), Signal::SIGKILL).expect("the child can be killed");
    let json = common::read_stdout_within(&mut demo, Duration::from_secs(20));
    let status = common::wait_within(&mut demo, Duration::from_secs(5));
    let report: RunReport = serde_json::from_str(&json).expect("a JSON report");
    assert_eq!(
        status.code(),
        Some(1),
        "some task is not ok, so the exit code is 1"
    );
    assert_eq!(report.tasks.len(), 16);
    let failed: Vec<_> = report.tasks.iter().filter(|t| t.status != "ok").collect();
    assert_eq!(
        failed.len(),
        1,
        "exactly the victim's task fails: {failed:?}"
    );
    assert_eq!(
        failed[0].worker.as_deref(),
        Some(format!("pid {victim}").as_str())
    );
    let error = failed[0].error.as_deref().unwrap_or("");
    assert!(error.contains("SIGKILL"), "{error}");
}

fn a_child_keeps_only_its_own_pipe_ends_however_many_siblings_it_has() {
    // 100 children, 20 waits of 100 ms each: about two seconds in all.
    let mut demo = start(&["--workload", "scale", "--tasks", "2000", "--workers", "100"]);
    let children = wait_for_children(demo.id(), 100);
    // Its standard streams, its two pipes, the database and its two WAL files, and room to
    // spare: without closing them, the last child forked would also hold 2 × 99 of its
    // siblings' pipe ends. A child closes them as it starts, so a child just forked is given
    // a moment; one that ends before it was seen to have closed them fails the check.
    const MOST: usize = 16;
    let give_up = Instant::now() + Duration::from_secs(10);
    for pid in children {
        loop {
            let open = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|fds| fds.count());
            let Ok(open) = open else {
                panic!("child {pid} ended before it was seen with its own pipe ends only");
            };
            if open <= MOST {
                break;
            }
            assert!(
                Instant::now() < give_up,
                "child {pid} still holds {open} descriptors"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    common::read_stdout_within(&mut demo, Duration::from_secs(30));
    let status = common::wait_within(&mut demo, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
}

fn killing_the_parent_leaves_no_child_running() {
    // 200 waits of 100 ms on 4 workers: about 5 s, killed long before the end.
    let mut demo = start(&["--workload", "scale", "--tasks", "200", "--workers", "4"]);
    let children = wait_for_children(demo.id(), 4);
    std::thread::sleep(Duration::from_millis(100));
    demo.kill().expect("the demo can be killed"); // SIGKILL: no chance to clean up.
    common::wait_within(&mut demo, Duration::from_secs(5));
    // Each child gets SIGKILL from the kernel when its parent dies (PR_SET_PDEATHSIG). A dead
    // child may linger as a zombie until its new parent reaps it, but it runs no more.
    let give_up = Instant::now() + Duration::from_secs(5);
    for pid in children {
        while common::stat(pid).is_some_and(|(state, _)| state != 'Z') {
            assert!(
                Instant::now() < give_up,
                "child {pid} still runs after its parent was killed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The portable way a child learns that its parent is gone, tried on Linux with the death signal
/// turned off. The check itself needs Linux: `/proc` to find the children and see them wait,
/// and `PR_SET_CHILD_SUBREAPER` to be handed the orphans and read how they ended.
#[cfg(target_os = "linux")]
mod parent_gone {
    use std::time::{Duration, Instant};

    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::WaitStatus;
    use nix::unistd::Pid;

    use super::common::{self, Subreaper, waitpid_within};
    use super::{start, wait_for_children};

    /// Without Linux's parent-death signal, as on macOS: when the parent dies while its children
    /// wait for jobs, each child reads end of file on its job pipe and exits by itself, with code 0
    /// (the way a child finishes when told to), not killed by any signal.
    pub fn a_parent_gone_ends_its_idle_children_through_their_job_pipes() {
        // Orphans come to this process instead of to init, so that their exit statuses can be read.
        let _subreaper = Subreaper::start();
        let no_death_signal = "--no-parent-death-signal";
        let mut demo = start(&[
            "--workload",
            "scale",
            "--tasks",
            "200",
            "--workers",
            "4",
            no_death_signal,
        ]);
        let children = wait_for_children(demo.id(), 4);
        // A stopped parent sends no more jobs: each child finishes the task it has (100 ms of
        // latency and a `SELECT 1`), writes its result into the pipe, and waits for the next job.
        let parent = Pid::from_raw(demo.id() as i32);
        kill(parent, Signal::SIGSTOP).expect("the demo can be stopped");
        wait_until_idle(&children);
        let killed = Instant::now();
        kill(parent, Signal::SIGKILL).expect("the demo can be killed");
        common::wait_within(&mut demo, Duration::from_secs(5));
        for pid in children {
            let status = waitpid_within(pid, Duration::from_secs(5));
            assert_eq!(
                status,
                WaitStatus::Exited(Pid::from_raw(pid as i32), 0),
                "child {pid} should have seen end of file and exited by itself"
            );
        }
        println!(
            "  every child had exited by itself {:.0?} after its parent was killed",
            killed.elapsed()
        );
    }

    /// Waits until every one of `children` is asleep reading a pipe, as `/proc/PID/wchan` shows
    /// (a running process shows `0`). Where the kernel hides `wchan` (`0` for all, always), the
    /// wait, 3 s, is far longer than any task of the `scale` workload, which is enough.
    fn wait_until_idle(children: &[u32]) {
        let give_up = Instant::now() + Duration::from_secs(3);
        loop {
            let wchans: Vec<String> = children
                .iter()
                .map(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default()
                })
                .collect();
            if wchans.iter().all(|w| w.contains("pipe")) {
                break;
            }
            if Instant::now() >= give_up {
                let hidden = wchans.iter().all(|w| w.is_empty() || w == "0");
                assert!(
                    hidden,
                    "the children never all waited on a pipe: {wchans:?}"
                );
                println!("  (wchan is hidden here: the children were given 3 s to become idle)");
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for &pid in children {
            assert!(
                common::stat(pid).is_some_and(|(state, _)| state != 'Z'),
                "child {pid} ended while its parent was only stopped"
            );
        }
    }
}

fn a_process_with_other_threads_is_refused_rather_than_forked() {
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    // Bounded too: it ends when `stop` is dropped, or after 10 s whatever happens.
    let other = std::thread::spawn(move || wait.recv_timeout(Duration::from_secs(10)));
    let result = multiprocessing_executor::run(&plan(2, 1, &[]), &Options::default());
    drop(stop);
    let _ = other.join();
    let error = result.expect_err("a second thread is running");
    assert!(error.to_string().contains("one thread"), "{error}");
    common::assert_no_children();
}

fn main() -> ExitCode {
    // The fixture, built once before anything forks or starts the demo binary.
    shared::Database::prepare(None, false).expect("the fixture");
    let mut checks = common::Checks::new();
    checks.run(
        "a_crashed_worker_is_replaced_and_no_task_is_lost",
        a_crashed_worker_is_replaced_and_no_task_is_lost,
    );
    checks.run(
        "a_task_past_its_timeout_has_its_worker_killed_and_replaced",
        a_task_past_its_timeout_has_its_worker_killed_and_replaced,
    );
    checks.run(
        "a_panic_costs_its_task_but_not_its_worker",
        a_panic_costs_its_task_but_not_its_worker,
    );
    checks.run(
        "tiny_tasks_are_pipelined_and_every_one_completes",
        tiny_tasks_are_pipelined_and_every_one_completes,
    );
    checks.run(
        "a_short_query_that_hangs_with_answers_held_back_costs_its_own_task_only",
        a_short_query_that_hangs_with_answers_held_back_costs_its_own_task_only,
    );
    checks.run(
        "the_deepest_pipeline_still_fits_in_a_pipe_and_a_deeper_one_is_refused",
        the_deepest_pipeline_still_fits_in_a_pipe_and_a_deeper_one_is_refused,
    );
    checks.run(
        "the_report_gives_each_childs_pid_startup_and_memory",
        the_report_gives_each_childs_pid_startup_and_memory,
    );
    checks.run(
        "every_child_of_a_large_pool_is_forked_and_serves_tasks",
        every_child_of_a_large_pool_is_forked_and_serves_tasks,
    );
    checks.run(
        "a_database_that_cannot_be_opened_ends_the_run_with_one_clear_error",
        a_database_that_cannot_be_opened_ends_the_run_with_one_clear_error,
    );
    checks.run_with_proc(
        "a_child_killed_from_outside_costs_only_its_task",
        a_child_killed_from_outside_costs_only_its_task,
    );
    checks.run_with_proc(
        "a_child_keeps_only_its_own_pipe_ends_however_many_siblings_it_has",
        a_child_keeps_only_its_own_pipe_ends_however_many_siblings_it_has,
    );
    checks.run_with_proc(
        "killing_the_parent_leaves_no_child_running",
        killing_the_parent_leaves_no_child_running,
    );
    #[cfg(target_os = "linux")]
    checks.run_with_proc(
        "a_parent_gone_ends_its_idle_children_through_their_job_pipes",
        parent_gone::a_parent_gone_ends_its_idle_children_through_their_job_pipes,
    );
    #[cfg(not(target_os = "linux"))]
    checks.skip(
        "a_parent_gone_ends_its_idle_children_through_their_job_pipes",
        "it needs Linux's /proc and PR_SET_CHILD_SUBREAPER to watch the orphans",
    );
    // Last: it starts a thread, and the checks above fork.
    // Only where the threads can be counted (see `platform.rs`): elsewhere the check is skipped.
    checks.run_with_proc(
        "a_process_with_other_threads_is_refused_rather_than_forked",
        a_process_with_other_threads_is_refused_rather_than_forked,
    );
    checks.finish()
}

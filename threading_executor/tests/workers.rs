//! How many threads a run starts: one a task at most, and never more than the process can start.

use std::process::Command;

fn threading(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_threading_executor"))
        .args(args)
        .args(["--no-baseline", "--json"])
        .output()
        .expect("the program runs")
}

#[test]
fn more_workers_asked_than_tasks_start_a_thread_a_task_and_the_report_says_both() {
    let out = threading(&["--workload", "io", "--workers", "100000"]);
    let report = shared::conformance::json_report(&out);
    assert_eq!(report["workers"], 8);
    assert_eq!(report["workers_asked"], 100000);
}

// Only Linux says how many mappings a process may have; elsewhere nothing is refused up front.
#[cfg(target_os = "linux")]
#[test]
fn more_threads_than_the_process_can_start_is_one_line_and_exit_2() {
    let threads = shared::conformance::more_threads_than_this_machine_maps().to_string();
    let out = threading(&[
        "--workload",
        "scale",
        "--tasks",
        &threads,
        "--workers",
        &threads,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("--workers {threads}")), "{err}");
}

//! A figure that cannot compare says so instead of printing a number.

use std::process::Command;

fn sequential(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(args)
        .arg("--json")
        .output()
        .expect("the sequential binary runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_run_whose_tasks_all_timed_out_has_no_speedup_and_says_why() {
    let report = sequential(&["--workload", "io", "--timeout", "0.05"]);
    assert_eq!(report["counts"]["timed_out"], 8, "{report}");
    assert!(report["speedup"].is_null() && report["efficiency"].is_null());
    let why = report["not_compared"].as_str().unwrap_or_default();
    assert!(
        why.contains("8 of 8 tasks did not end ok (8 timed out)"),
        "{why}"
    );
}

#[test]
fn an_empty_task_list_has_no_speedup() {
    let report = sequential(&["--workload", "io", "--tasks", "0"]);
    assert!(report["speedup"].is_null() && report["efficiency"].is_null());
    assert!(
        report["not_compared"]
            .as_str()
            .unwrap_or_default()
            .contains("no tasks")
    );
}

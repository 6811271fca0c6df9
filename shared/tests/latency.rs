//! Every report gives each kind of task's latency, from a worker taking it to its outcome.

use std::process::Command;

fn report(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(args)
        .args(["--no-baseline", "--json"])
        .output()
        .expect("the sequential binary runs");
    shared::conformance::json_report(&out)
}

fn in_order(p: &serde_json::Value) -> bool {
    let at = |k: &str| p[k].as_f64().expect(k);
    at("p50_s") <= at("p95_s") && at("p95_s") <= at("p99_s") && at("p99_s") <= at("max_s")
}

fn every_task_says_it_writes(report: &serde_json::Value, writes: bool) -> bool {
    let tasks = report["tasks"].as_array().expect("tasks");
    !tasks.is_empty() && tasks.iter().all(|t| t["writes"] == writes)
}

#[test]
fn reads_and_writes_each_get_their_percentiles_in_order() {
    let reads = report(&["--workload", "io"]);
    let latency = &reads["latency"];
    assert_eq!(latency["read"]["count"], 8);
    assert!(in_order(&latency["read"]), "{latency}");
    // io's longest task waits 300 ms before its query: the slowest read took at least that.
    assert!(
        latency["read"]["max_s"].as_f64().unwrap() >= 0.3,
        "{latency}"
    );
    assert_eq!(latency["write"]["count"], 0);
    assert!(latency["write"]["p50_s"].is_null());
    assert!(every_task_says_it_writes(&reads, false));

    let writes = report(&["--workload", "writes", "--tasks", "20"]);
    let latency = &writes["latency"];
    assert_eq!(
        (
            latency["write"]["count"].as_u64(),
            latency["read"]["count"].as_u64()
        ),
        (Some(20), Some(0))
    );
    assert!(in_order(&latency["write"]), "{latency}");
    assert!(every_task_says_it_writes(&writes, true));
}

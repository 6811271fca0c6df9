//! A workload file as a user writes one by hand: what may be left out.

use std::process::Command;

#[test]
fn a_task_without_latency_ms_waits_for_nothing() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let db = shared::conformance::small_database(folder.path(), "mine.db");
    let workload = folder.path().join("mine.json");
    std::fs::write(
        &workload,
        r#"[{"name": "count", "sql": "SELECT count(*) FROM t"}]"#,
    )
    .expect("the workload file");
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .arg("--db")
        .arg(&db)
        .arg("--workload-file")
        .arg(&workload)
        .args(["--no-baseline", "--json"])
        .output()
        .expect("the sequential binary runs");
    let report = shared::conformance::json_report(&out);
    let task = &report["tasks"][0];
    assert_eq!(task["status"], "ok");
    let waited = task["sql_started_s"].as_f64().unwrap() - task["started_s"].as_f64().unwrap();
    assert!(waited < 0.05, "a task with no latency waited {waited} s");
}

//! A workload file as a user writes one by hand: what may be left out.

use std::process::Command;

#[test]
fn a_task_without_latency_ms_waits_for_nothing() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let db = folder.path().join("mine.db");
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);"))
        .expect("a small database");
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let task = &report["tasks"][0];
    assert_eq!(task["status"], "ok");
    let waited = task["sql_started_s"].as_f64().unwrap() - task["started_s"].as_f64().unwrap();
    assert!(waited < 0.05, "a task with no latency waited {waited} s");
}

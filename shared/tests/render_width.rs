//! The human report's table keeps its columns in line whatever the task names are written in.

use std::process::Command;

use unicode_width::UnicodeWidthStr;

#[test]
fn the_table_stays_aligned_with_wide_characters_in_task_names() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let db = shared::conformance::small_database(folder.path(), "names.db");
    let workload = folder.path().join("names.json");
    let tasks = serde_json::json!([
        {"name": "plain", "sql": "SELECT x FROM t", "params": [], "latency_ms": 0},
        {"name": "顧客の注文", "sql": "SELECT x FROM t", "params": [], "latency_ms": 0},
        {"name": "🚀 launch", "sql": "SELECT x FROM t", "params": [], "latency_ms": 0},
    ]);
    std::fs::write(&workload, tasks.to_string()).expect("the workload file");
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .arg("--db")
        .arg(&db)
        .arg("--workload-file")
        .arg(&workload)
        .args(["--no-baseline"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the sequential binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Where the worker column starts, in terminal columns, on the header and every task's row.
    let starts: Vec<usize> = text
        .lines()
        .skip_while(|l| !l.contains("checksum or error"))
        .take(4)
        .map(|l| {
            let at = l
                .find("main")
                .or_else(|| l.find("worker"))
                .unwrap_or_else(|| panic!("no worker column in {l:?}"));
            l[..at].width()
        })
        .collect();
    assert_eq!(starts.len(), 4, "{text}");
    assert!(
        starts.iter().all(|&s| s == starts[0]),
        "the worker column starts at columns {starts:?}:\n{text}"
    );
}

//! The human report's summary: how many tasks a second the run did, every count with its noun in
//! the singular for one, and each task that did not end ok named whole, quoted, with its error,
//! wherever it is in the run and whatever its name holds.

use std::path::Path;
use std::process::Command;

/// The human report of the baseline program on `args`, which must run to its end (exit 0 or 1).
fn report(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(args)
        .arg("--no-baseline")
        .env("NO_COLOR", "1")
        .output()
        .expect("the sequential binary runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}\n{text}");
    text
}

/// A workload file of `tasks` (name, SQL) with no latency, on a small database of one table `t`.
fn users_run(folder: &Path, tasks: &[(&str, &str)]) -> String {
    let db = shared::conformance::small_database(folder, "names.db");
    let file = folder.join("tasks.json");
    let tasks: Vec<serde_json::Value> = tasks
        .iter()
        .map(|(name, sql)| serde_json::json!({"name": name, "sql": sql, "latency_ms": 0}))
        .collect();
    std::fs::write(&file, serde_json::Value::from(tasks).to_string()).expect("the workload file");
    let (db, file) = (db.to_str().unwrap(), file.to_str().unwrap());
    report(&["--db", db, "--workload-file", file])
}

fn summary_line(text: &str) -> &str {
    let line = text.lines().find(|l| l.starts_with("summary: "));
    line.unwrap_or_else(|| panic!("no summary in:\n{text}"))
}

#[test]
fn a_failed_task_is_named_whole_and_quoted_wherever_it_is_in_the_run() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    // Past the table's rows, and with a name longer than its column, holding spaces, a quote
    // and characters beyond ASCII: only the summary can show it, and only quoting keeps it one
    // name.
    let mut tasks = vec![("fine", "SELECT x FROM t"); 30];
    let name = r#"bad "no such column" of the 顧客 table, named at length"#;
    tasks.push((name, "SELECT nope FROM t"));
    let text = users_run(folder.path(), &tasks);
    let named =
        r#"  failed: task 31 "bad \"no such column\" of the 顧客 table, named at length": "#;
    assert!(text.contains(named), "{text}");
    let line = text.lines().find(|l| l.starts_with(named)).unwrap();
    assert!(
        line.ends_with("no such column: nope in SELECT nope FROM t at offset 7"),
        "{line}"
    );
}

#[test]
fn past_a_few_the_tasks_that_did_not_end_ok_are_counted_not_named() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let text = users_run(folder.path(), &[("bad", "SELECT nope FROM t"); 7]);
    let named = text
        .lines()
        .filter(|l| l.starts_with("  failed: task "))
        .count();
    assert_eq!(named, 5, "{text}");
    assert!(
        text.contains("  … and 2 more tasks that did not end ok (every one is in --json)"),
        "{text}"
    );
}

#[test]
fn the_summary_gives_the_tasks_done_a_second() {
    let text = report(&["--workload", "io", "--tasks", "2"]);
    let summary = summary_line(&text);
    let wall: f64 = summary
        .split(" · wall ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no wall time in {summary}"));
    let rate: f64 = summary
        .split(" · ")
        .find_map(|part| part.strip_suffix(" tasks/s"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no tasks/s in {summary}"));
    // The wall time is printed to the millisecond: the rate agrees with it to about that.
    let expected = 2.0 / wall;
    assert!((rate - expected).abs() / expected < 0.02, "{summary}");
}

#[test]
fn one_of_anything_is_counted_in_the_singular() {
    let text = report(&["--workload", "writes", "--tasks", "1"]);
    for said in [
        "· 1 task · 1 worker ·",
        "latency of 1 write (taken to done)",
        "the 1 that ended ok (1 row changed)",
    ] {
        assert!(text.contains(said), "expected '{said}' in:\n{text}");
    }
    let text = report(&["--workload", "io", "--tasks", "25"]);
    assert!(
        text.contains("… and 1 more task (every one is in --json)"),
        "{text}"
    );
    let text = report(&["--workload", "io", "--tasks", "1"]);
    assert!(text.contains("latency of 1 read (taken"), "{text}");
}

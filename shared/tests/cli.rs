//! The command line as a user meets it: bad input gets one clear line and exit 2, the fixture
//! is built once and safely, a user's own database is never modified, and the JSON report has
//! the documented fields.

use std::path::Path;
use std::process::{Command, Output};

fn sequential(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the sequential binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON report of a run that must succeed (exit 0); its stderr if it does not.
fn succeeds(args: &[&str]) -> serde_json::Value {
    let out = sequential(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(out)))
}

/// Exit 2, a message that starts with an error line, and no panic or backtrace.
fn assert_rejected(args: &[&str], says: &str) {
    let out = sequential(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2; stderr: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{args:?}: {err}"
    );
    let first = err.lines().next().unwrap_or("");
    assert!(
        first.contains("error"),
        "{args:?}: the first line should say error: {err}"
    );
    assert!(err.contains(says), "{args:?}: expected '{says}' in: {err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed a report after an error"
    );
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write a test file");
}

#[test]
fn zero_workers_are_rejected() {
    assert_rejected(&["--workers", "0"], "at least 1");
}

#[test]
fn an_unknown_workload_is_rejected_with_the_choices() {
    assert_rejected(&["--workload", "nosuchworkload"], "possible values");
}

#[test]
fn a_write_share_is_for_the_app_preset_and_a_percentage() {
    assert_rejected(
        &["--workload", "io", "--write-share", "50"],
        "use it with --workload app",
    );
    assert_rejected(&["--workload", "app", "--write-share", "101"], "0..=100");
    assert_rejected(&["--workload", "app", "--write-share", "half"], "half");
    // At 0% nothing writes, so the write flags have nothing to act on.
    assert_rejected(
        &["--workload", "app", "--write-share", "0", "--hold-ms", "5"],
        "--hold-ms",
    );
}

/// `--write-share` sets how many of the app's requests write, and every write is recorded; the
/// write lock and a held transaction change how, not what.
#[test]
fn the_app_preset_writes_the_share_it_is_given() {
    for (share, extra) in [
        ("0", &[][..]),
        ("50", &["--writer", "lock", "--hold-ms", "2"][..]),
        ("100", &["--writer", "single"][..]),
    ] {
        let mut args = vec![
            "--workload",
            "app",
            "--write-share",
            share,
            "--tasks",
            "40",
            "--json",
            "--no-baseline",
        ];
        args.extend(extra);
        let report = succeeds(&args);
        let tasks = report["tasks"].as_array().expect("tasks");
        let writes = tasks.iter().filter(|t| t["writes"] == true).count();
        assert_eq!(
            writes * 100,
            share.parse::<usize>().unwrap() * 40,
            "{args:?}"
        );
        if writes > 0 {
            assert_eq!(report["rows_in_db_after"], writes, "{args:?}");
        }
    }
}

#[test]
fn a_negative_or_non_numeric_timeout_is_rejected() {
    assert_rejected(&["--timeout", "-1"], "more than 0 and at most 86400");
    assert_rejected(&["--timeout", "soon"], "not a number of seconds");
    assert_rejected(&["--timeout", "0"], "more than 0 and at most 86400");
}

#[test]
fn a_database_in_a_missing_folder_is_rejected() {
    assert_rejected(
        &["--db", "/nonexistent-folder-for-tests/shop.db"],
        "does not exist",
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    write(&junk, &"this is not a database\n".repeat(100));
    assert_rejected(&["--db", junk.to_str().unwrap()], "not a SQLite database");
}

#[test]
fn a_bad_workload_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.json");
    write(&file, "{ this is not json");
    assert_rejected(
        &["--workload-file", file.to_str().unwrap()],
        "--workload-file",
    );
    write(
        &file,
        r#"{"workload": "w", "tasks": [{"name": "a", "latency_ms": 0}]}"#,
    );
    assert_rejected(
        &["--workload-file", file.to_str().unwrap()],
        "missing field `sql`",
    );
    // The error names the form the file started in, and where it departs from it.
    write(
        &file,
        r#"[{"name": "a", "sql": "SELECT 1", "latncy_ms": 0}]"#,
    );
    assert_rejected(
        &["--workload-file", file.to_str().unwrap()],
        "expected a list of tasks",
    );
    assert_rejected(&["--workload-file", file.to_str().unwrap()], "column");
    write(&file, r#""just a string""#);
    assert_rejected(
        &["--workload-file", file.to_str().unwrap()],
        "expected a JSON list of tasks, or {\"workload\"",
    );
    assert_rejected(
        &["--workload-file", "/nonexistent-folder-for-tests/w.json"],
        "No such file",
    );
}

#[test]
fn bad_injections_are_rejected() {
    assert_rejected(&["--inject", "explode@1"], "unknown fault 'explode'");
    assert_rejected(&["--inject", "error"], "KIND@TASK");
    assert_rejected(&["--inject", "error@0"], "numbered from 1");
    assert_rejected(&["--inject", "error@99999"], "the workload has 8 tasks");
    assert_rejected(
        &["--inject", "crash@1"],
        "only multiprocessing survives a crash",
    );
}

#[test]
fn the_baseline_refuses_more_than_one_worker() {
    assert_rejected(&["--workers", "4"], "one task at a time");
}

#[test]
fn a_failed_task_exits_1_and_keeps_every_other_result() {
    let out = sequential(&["--inject", "error@2", "--json", "--no-baseline"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 8);
    for t in tasks {
        let expected = if t["id"] == 2 { "failed" } else { "ok" };
        assert_eq!(t["status"], expected, "{t}");
    }
    assert!(
        tasks[1]["error"]
            .as_str()
            .unwrap()
            .contains("no such table")
    );
}

#[test]
fn the_json_report_has_every_documented_field() {
    let report = succeeds(&["--workload", "overhead", "--tasks", "50", "--json"]);
    for field in [
        "schema",
        "method",
        "workload",
        "build",
        "cores",
        "workers",
        "connections",
        "dispatch",
        "timeout_s",
        "wall_s",
        "startup_s",
        "baseline_wall_s",
        "speedup",
        "ideal_makespan_s",
        "fifo_makespan_s",
        "lower_bound_s",
        "ideal_speedup",
        "efficiency",
        "counts",
        "usage",
        "notes",
        "tasks",
    ] {
        assert!(report.get(field).is_some(), "no field {field}");
    }
    for field in [
        "user_cpu_s",
        "sys_cpu_s",
        "max_rss_kib",
        "children_max_rss_kib",
        "children_pss_kib",
        "voluntary_context_switches",
        "involuntary_context_switches",
    ] {
        assert!(
            report["usage"].get(field).is_some(),
            "no usage field {field}"
        );
    }
    let task = &report["tasks"][0];
    for field in [
        "id",
        "name",
        "worker",
        "status",
        "rows",
        "checksum",
        "error",
        "queued_s",
        "started_s",
        "sql_started_s",
        "finished_s",
        "arrival",
    ] {
        assert!(task.get(field).is_some(), "no task field {field}");
    }
    assert_eq!(report["method"], "sequential");
    assert_eq!(report["tasks"].as_array().unwrap().len(), 50);
    assert_eq!(report["speedup"], 1.0);
}

#[test]
fn no_baseline_leaves_the_ratios_null() {
    let report = json(&sequential(&["--tasks", "2", "--json", "--no-baseline"]));
    assert!(
        report["speedup"].is_null()
            && report["efficiency"].is_null()
            && report["baseline_wall_s"].is_null()
    );
}

#[test]
fn a_dumped_workload_runs_again_from_its_file() {
    let dump = sequential(&["--workload", "mixed", "--tasks", "3", "--dump-workload"]);
    assert_eq!(dump.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.json");
    std::fs::write(&file, &dump.stdout).unwrap();
    let report = succeeds(&[
        "--workload-file",
        file.to_str().unwrap(),
        "--json",
        "--no-baseline",
    ]);
    let names: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "returns_by_category",
            "top_products_by_region",
            "days_between_category_purchases"
        ]
    );
}

#[test]
fn a_users_own_database_is_never_modified_even_by_tasks_that_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mine.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('a'), ('b');",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let file = dir.path().join("w.json");
    // The second task writes, and the file does not say so: SQLite does, so the run works on a
    // scratch copy, where the write succeeds.
    write(
        &file,
        r#"{"workload": "mine", "tasks": [
            {"name": "read", "sql": "SELECT body FROM notes WHERE body > ?1", "params": [""], "latency_ms": 0},
            {"name": "write", "sql": "INSERT INTO notes VALUES ('c'), ('d')", "latency_ms": 0}
        ]}"#,
    );
    let (db_arg, file_arg) = (db.to_str().unwrap(), file.to_str().unwrap());
    let report = succeeds(&[
        "--db",
        db_arg,
        "--workload-file",
        file_arg,
        "--json",
        "--no-baseline",
    ]);
    assert_eq!(report["tasks"][0]["rows"], 2);
    assert_eq!(report["tasks"][1]["status"], "ok");
    assert_eq!(report["tasks"][1]["rows"], 2, "rows changed");
    // Only rows added to the run's own table are counted after the run.
    assert!(report["rows_in_db_after"].is_null(), "{report}");
    assert_eq!(report["writes"]["writer"], "shared");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the user's database changed"
    );
    // The scratch copy is made in the temp dir, and removed after the run.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(["--db", db_arg, "--workload-file", file_arg, "--no-baseline"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "left behind");
    // The presets query the fixture's tables, which a user's database does not have.
    assert_rejected(&["--db", db_arg], "is not this project's fixture");
}

#[test]
fn a_users_delete_is_reported_as_rows_changed_never_as_a_bug() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mine.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE t (x INTEGER);
             WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 999)
             INSERT INTO t SELECT x FROM n;",
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let file = dir.path().join("mine.json");
    write(
        &file,
        r#"[
            {"name": "count", "sql": "SELECT count(*) FROM t", "latency_ms": 0},
            {"name": "wipe", "sql": "DELETE FROM t", "latency_ms": 0},
            {"name": "sum", "sql": "SELECT sum(x) FROM t WHERE x > ?", "params": [10], "latency_ms": 0}
        ]"#,
    );
    let args = [
        "--db",
        db.to_str().unwrap(),
        "--workload-file",
        file.to_str().unwrap(),
        "--no-baseline",
    ];
    let out = sequential(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!text.contains("a bug"), "{text}");
    assert!(!text.contains("rows/s"), "{text}");
    assert!(
        text.contains("rows changed: 1000 by the ok tasks; not checked against the database"),
        "{text}"
    );

    let report = succeeds(&[&args[..], &["--json"]].concat());
    assert_eq!(
        report["tasks"][1]["rows"], 1000,
        "the rows the DELETE changed"
    );
    assert!(report["rows_in_db_after"].is_null(), "{report}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the user's file changed"
    );
}

#[test]
fn programs_started_together_build_one_fixture_and_a_truncated_one_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let db_arg = db.to_str().unwrap().to_string();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_sequential"))
            .args(["--db", &db_arg, "--tasks", "1", "--json", "--no-baseline"])
            .output()
    };
    let runs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(spawn)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    let builds = runs
        .iter()
        .filter(|o| stderr(o).contains("built the fixture"))
        .count();
    assert_eq!(
        builds, 1,
        "three programs started together built {builds} fixtures"
    );
    for out in &runs {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
        assert_eq!(json(out)["tasks"][0]["status"], "ok");
    }
    let checksum = json(&runs[0])["tasks"][0]["checksum"].clone();

    let full = std::fs::metadata(&db).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.set_len(full / 2).unwrap();
    drop(file);
    let out = sequential(&["--db", &db_arg, "--tasks", "1", "--json", "--no-baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&db).unwrap().len(), full);
    assert_eq!(
        json(&out)["tasks"][0]["checksum"],
        checksum,
        "the rebuilt fixture differs"
    );
}

#[test]
fn write_flags_on_a_workload_that_only_reads_are_refused() {
    assert_rejected(&["--writer", "single"], "this workload has none");
    assert_rejected(
        &["--workload", "io", "--busy-timeout", "0"],
        "this workload has none",
    );
}

#[test]
fn a_workload_file_may_be_a_plain_list_named_after_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my_queries.json");
    write(
        &file,
        r#"[{"name": "one", "sql": "SELECT 1", "latency_ms": 0},
            {"name": "two", "sql": "SELECT 2", "latency_ms": 0}]"#,
    );
    let report = succeeds(&[
        "--workload-file",
        file.to_str().unwrap(),
        "--json",
        "--no-baseline",
    ]);
    assert_eq!(report["workload"], "my_queries");
    assert_eq!(report["tasks"].as_array().unwrap().len(), 2);
    // The object form may leave the name out too.
    write(
        &file,
        r#"{"tasks": [{"name": "one", "sql": "SELECT 1", "latency_ms": 0}]}"#,
    );
    let out = sequential(&["--workload-file", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["workload"], "my_queries");
}

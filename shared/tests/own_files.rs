//! A user's file is theirs: under `--db`, nothing is created, replaced or left beside it.

use std::path::Path;
use std::process::Command;

/// Runs the sequential program; returns its exit code and its stderr.
fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sequential"))
        .args(args)
        .arg("--no-baseline")
        .output()
        .expect("the sequential binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("the folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Exit 2 with one line that names the file, and the folder as it was.
fn refused(folder: &Path, args: &[&std::ffi::OsStr], says: &str) {
    let before = names_in(folder);
    let (code, err) = run(args);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line, not {err}");
    assert!(lines[0].contains(says), "{args:?}: {err}");
    assert_eq!(names_in(folder), before, "{args:?} left something behind");
}

#[test]
fn an_empty_file_under_db_is_refused_and_left_empty() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let empty = folder.path().join("zero.db");
    std::fs::write(&empty, b"").expect("an empty file");
    let queries = folder.path().join("q.json");
    std::fs::write(&queries, r#"[{"name": "a", "sql": "SELECT 1"}]"#).expect("a workload");
    refused(
        folder.path(),
        &["--db".as_ref(), empty.as_os_str()],
        "zero.db: the file is empty",
    );
    refused(
        folder.path(),
        &[
            "--db".as_ref(),
            empty.as_os_str(),
            "--workload-file".as_ref(),
            queries.as_os_str(),
        ],
        "zero.db: the file is empty",
    );
    assert_eq!(std::fs::metadata(&empty).expect("still there").len(), 0);
}

#[test]
fn a_missing_db_with_a_workload_file_is_refused_and_not_created() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let queries = folder.path().join("q.json");
    std::fs::write(&queries, r#"[{"name": "a", "sql": "SELECT 1"}]"#).expect("a workload");
    let typo = folder.path().join("typo.db");
    refused(
        folder.path(),
        &[
            "--db".as_ref(),
            typo.as_os_str(),
            "--workload-file".as_ref(),
            queries.as_os_str(),
        ],
        "typo.db: no such file",
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_without_advice_to_delete_it() {
    let folder = tempfile::tempdir().expect("a scratch folder");
    let notes = folder.path().join("notes.db");
    std::fs::write(&notes, b"not a database, but a user's notes".repeat(10)).expect("a file");
    refused(
        folder.path(),
        &["--db".as_ref(), notes.as_os_str()],
        "not a SQLite database",
    );
    let (_, err) = run(&["--db".as_ref(), notes.as_os_str()]);
    assert!(!err.contains("delete"), "{err}");
}

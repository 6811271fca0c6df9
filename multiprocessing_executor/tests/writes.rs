//! Writes from worker processes. With `--writer single`, one writer process commits the rows of
//! every child, several in each transaction; with `--writer shared`, each child writes on its
//! own connection. Either way, what the database holds after the run is what the ok tasks
//! reported, a crash, an error or a panic costs its own write only, and nothing is left behind:
//! no worker, no writer, no scratch copy, no socket.
//!
//! Single-threaded, without libtest, for the reason given in Cargo.toml. Each check runs the
//! demo binary as a user would, and reads its JSON report. Every wait is bounded.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use shared::RunReport;

/// A folder of its own for the demo's temporary files (its `TMPDIR`), so that a check can see
/// that the demo removed its scratch copy, and remove it itself when the demo was killed.
struct TempHome(PathBuf);

impl TempHome {
    fn new(name: &str) -> TempHome {
        let path = std::env::temp_dir().join(format!(
            "multiprocessing-writes-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        TempHome(path)
    }

    fn entries(&self) -> Vec<PathBuf> {
        let entries = std::fs::read_dir(&self.0).expect("the temporary folder can be listed");
        entries.filter_map(|e| Some(e.ok()?.path())).collect()
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the demo binary on the `writes` workload with `args` (JSON report, no baseline), its
/// temporary files in `home`, on the fixture built in `main`.
fn start(home: &Path, args: &[&str]) -> Child {
    let fixture = shared::Database::default_path();
    Command::new(env!("CARGO_BIN_EXE_multiprocessing_executor"))
        .args(["--workload", "writes", "--json", "--no-baseline", "--db"])
        .arg(fixture)
        .args(args)
        .env("TMPDIR", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo binary starts")
}

/// Runs the demo to its end and returns its report, having checked that it left nothing
/// behind: no process (on Linux, where its orphans come to this process and can be seen) and
/// nothing in its temporary folder.
fn demo(args: &[&str]) -> RunReport {
    #[cfg(target_os = "linux")]
    let _subreaper = common::Subreaper::start();
    let home = TempHome::new("run");
    let mut demo = start(&home.0, args);
    let json = common::read_stdout_within(&mut demo, Duration::from_secs(30));
    let status = common::wait_within(&mut demo, Duration::from_secs(5));
    // A child the demo did not reap would now be this process's: none must be.
    common::assert_no_children();
    assert_eq!(home.entries(), Vec::<PathBuf>::new(), "left in TMPDIR");
    let report: RunReport = serde_json::from_str(&json).expect("a JSON report");
    assert_eq!(status.code(), Some(i32::from(report.exit_code())));
    report
}

/// 200 writes on 4 workers, with this writer and these faults.
fn writes(writer: &str, faults: &[&str]) -> RunReport {
    let mut args = vec!["--tasks", "200", "--workers", "4", "--writer", writer];
    for fault in faults {
        args.extend(["--inject", fault]);
    }
    demo(&args)
}

/// The tasks recorded in the database after the run are the write tasks that ended ok, and
/// `expected`.
fn assert_rows_agree(report: &RunReport, expected: u64) {
    let in_db = report
        .rows_in_db_after
        .expect("a writing run counts its rows");
    assert_eq!(
        Some(in_db),
        report.write_tasks_ok(),
        "in the database, reported"
    );
    assert_eq!(in_db, expected);
}

fn every_row_reported_is_in_the_database(writer: &str) {
    let report = writes(writer, &[]);
    assert_eq!(report.tasks.len(), 200);
    let failed: Vec<_> = report.tasks.iter().filter(|t| t.status != "ok").collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_rows_agree(&report, 200);
}

fn a_crash_an_error_and_a_panic_cost_their_own_rows(writer: &str) {
    let report = writes(writer, &["crash@5", "error@7", "panic@9"]);
    let failed: Vec<(usize, &str)> = report
        .tasks
        .iter()
        .filter(|t| t.status != "ok")
        .map(|t| (t.id, t.error.as_deref().unwrap_or("")))
        .collect();
    let ids: Vec<usize> = failed.iter().map(|&(id, _)| id).collect();
    assert_eq!(ids, [5, 7, 9], "{failed:?}");
    // The crash aborts the worker child (in the middle of its transaction with `shared`, before
    // the hand-over with `single`); the error runs where the write runs; the panic is caught in
    // the child.
    assert!(failed[0].1.contains("SIGABRT"), "{failed:?}");
    assert!(failed[1].1.contains("no such table"), "{failed:?}");
    assert!(failed[2].1.contains("panic"), "{failed:?}");
    assert_rows_agree(&report, 197);
}

fn with_one_writer_process_every_row_reported_is_in_the_database() {
    every_row_reported_is_in_the_database("single");
}

fn with_shared_writers_every_row_reported_is_in_the_database() {
    every_row_reported_is_in_the_database("shared");
}

fn with_one_writer_process_a_crash_an_error_and_a_panic_cost_their_own_rows() {
    a_crash_an_error_and_a_panic_cost_their_own_rows("single");
}

fn with_shared_writers_a_crash_an_error_and_a_panic_cost_their_own_rows() {
    a_crash_an_error_and_a_panic_cost_their_own_rows("shared");
}

fn with_the_lock_file_every_row_reported_is_in_the_database() {
    every_row_reported_is_in_the_database("lock");
}

/// The crash strikes with the lock file taken, mid-transaction: the kernel lets go of a dead
/// process's `flock`, and the writes after it go on.
fn with_the_lock_file_a_crash_an_error_and_a_panic_cost_their_own_rows() {
    a_crash_an_error_and_a_panic_cost_their_own_rows("lock");
}

/// One writer, not one per child: the report's note names one writer process, which committed
/// every row, and with 8 children waiting on it, more than one row a commit on average.
fn one_writer_process_commits_the_rows_of_several_children_at_once() {
    let report = demo(&["--tasks", "400", "--workers", "8", "--writer", "single"]);
    assert_rows_agree(&report, 400);
    let note = report
        .notes
        .iter()
        .find(|n| n.starts_with("one writer process"))
        .unwrap_or_else(|| panic!("no note from the writer: {:?}", report.notes));
    // "one writer process (pid P) committed R rows in T transactions: ..."
    let words: Vec<&str> = note.split_whitespace().collect();
    let number_after = |word: &str| -> u64 {
        let at = words.iter().position(|w| *w == word).expect(word);
        words[at + 1].parse().expect("a number")
    };
    let (rows, transactions) = (number_after("committed"), number_after("in"));
    assert_eq!(rows, 400, "{note}");
    assert!(
        transactions < rows,
        "each commit should carry more than one row on average: {note}"
    );
    println!("  {note}");
}

/// Without Linux's parent-death signal, as on macOS: when the parent dies, the writer reads end
/// of file on its control stream and exits by itself, with code 0. The workers are stopped
/// first, so that they cannot end it some other way: the check also shows that no worker kept
/// a copy of the parent's end of that stream, which would have kept the end of file from coming.
#[cfg(target_os = "linux")]
fn a_writer_process_whose_parent_dies_ends_by_itself() {
    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::WaitStatus;
    use nix::unistd::Pid;
    use std::time::Instant;

    let _subreaper = common::Subreaper::start();
    // The demo is killed, so its scratch copy is this check's to remove.
    let home = TempHome::new("killed");
    let args = [
        "--tasks",
        "100000",
        "--workers",
        "4",
        "--writer",
        "single",
        "--no-parent-death-signal",
    ];
    let mut demo = start(&home.0, &args);
    let give_up = Instant::now() + Duration::from_secs(20);
    let (writer, workers) = loop {
        let children = common::children_of(demo.id());
        let named = |pid: &u32| common::command_name(*pid).as_deref() == Some("sqlite-writer");
        if children.len() == 5
            && let Some(&writer) = children.iter().find(|pid| named(pid))
        {
            let workers: Vec<u32> = children.into_iter().filter(|&pid| pid != writer).collect();
            break (writer, workers);
        }
        assert!(Instant::now() < give_up, "no writer and four workers");
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(Duration::from_millis(200)); // Writes under way.
    let pid = |pid: u32| Pid::from_raw(pid as i32);
    for &worker in &workers {
        kill(pid(worker), Signal::SIGSTOP).expect("a worker can be stopped");
    }
    demo.kill().expect("the demo can be killed"); // SIGKILL: no chance to clean up.
    common::wait_within(&mut demo, Duration::from_secs(5));
    let status = common::waitpid_within(writer, Duration::from_secs(5));
    assert_eq!(status, WaitStatus::Exited(pid(writer), 0));
    for worker in workers {
        let _ = kill(pid(worker), Signal::SIGKILL);
        common::waitpid_within(worker, Duration::from_secs(5));
    }
}

fn main() -> ExitCode {
    // The fixture, built once before the demo binary runs.
    shared::Database::prepare(None, false).expect("the fixture");
    let mut checks = common::Checks::new();
    checks.run(
        "with_one_writer_process_every_row_reported_is_in_the_database",
        with_one_writer_process_every_row_reported_is_in_the_database,
    );
    checks.run(
        "with_shared_writers_every_row_reported_is_in_the_database",
        with_shared_writers_every_row_reported_is_in_the_database,
    );
    checks.run(
        "with_one_writer_process_a_crash_an_error_and_a_panic_cost_their_own_rows",
        with_one_writer_process_a_crash_an_error_and_a_panic_cost_their_own_rows,
    );
    checks.run(
        "with_shared_writers_a_crash_an_error_and_a_panic_cost_their_own_rows",
        with_shared_writers_a_crash_an_error_and_a_panic_cost_their_own_rows,
    );
    checks.run(
        "with_the_lock_file_every_row_reported_is_in_the_database",
        with_the_lock_file_every_row_reported_is_in_the_database,
    );
    checks.run(
        "with_the_lock_file_a_crash_an_error_and_a_panic_cost_their_own_rows",
        with_the_lock_file_a_crash_an_error_and_a_panic_cost_their_own_rows,
    );
    checks.run(
        "one_writer_process_commits_the_rows_of_several_children_at_once",
        one_writer_process_commits_the_rows_of_several_children_at_once,
    );
    #[cfg(target_os = "linux")]
    checks.run_with_proc(
        "a_writer_process_whose_parent_dies_ends_by_itself",
        a_writer_process_whose_parent_dies_ends_by_itself,
    );
    #[cfg(not(target_os = "linux"))]
    checks.skip(
        "a_writer_process_whose_parent_dies_ends_by_itself",
        "it needs Linux's /proc and PR_SET_CHILD_SUBREAPER to watch the orphans",
    );
    checks.finish()
}

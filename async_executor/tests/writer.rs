//! `--writer single` under async: each write is awaited on the event loop, at the writer, and
//! not on a connection; what the tasks report is what the database holds, faults and timeouts
//! included. Run through the program itself, as a user runs it.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use shared::RunReport;
use shared::conformance::BOUND;

/// Runs the program on 300 writes for the single writer, 32 in flight, plus `args`: its exit
/// code and its JSON report. Bounded: a run that never ends is killed and fails the test.
fn run_single_writer(args: &[&str]) -> (Option<i32>, RunReport) {
    let mut program = Command::new(env!("CARGO_BIN_EXE_async_executor"))
        .args([
            "--json",
            "--no-baseline",
            "--workload",
            "writes",
            "--tasks",
            "300",
        ])
        .args(["--writer", "single", "--workers", "32"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the program starts");
    // Read on a thread of its own: the report is larger than a pipe holds, so the program
    // cannot end until someone reads it.
    let mut stdout = program.stdout.take().expect("stdout is piped");
    let (done, report) = mpsc::channel();
    std::thread::spawn(move || {
        let mut json = String::new();
        let _ = stdout.read_to_string(&mut json);
        let _ = done.send(json);
    });
    let json = report.recv_timeout(BOUND).unwrap_or_else(|_| {
        let _ = program.kill();
        panic!("{args:?}: the program did not finish within {BOUND:?}")
    });
    let status = program.wait().expect("the program is waited for");
    let report = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{args:?}: not a JSON report ({e}): {json}"));
    (status.code(), report)
}

/// The rows in the table after the run equal the rows the ok tasks reported.
fn assert_rows_agree(report: &RunReport) -> u64 {
    let reported: u64 = report
        .tasks
        .iter()
        .filter(|t| t.status == "ok")
        .map(|t| t.rows.unwrap_or(0))
        .sum();
    assert_eq!(
        report.rows_in_db_after,
        Some(reported),
        "rows in the database against rows reported"
    );
    reported
}

/// Every task's write went to the writer: none was sent to a connection.
fn assert_all_at_the_writer(report: &RunReport) {
    for t in &report.tasks {
        assert_eq!(
            t.worker.as_deref(),
            Some("writer"),
            "task {} ran on {:?}",
            t.id,
            t.worker
        );
    }
}

#[test]
fn every_write_is_awaited_at_the_writer_and_is_in_the_database() {
    let (code, report) = run_single_writer(&[]);
    assert_eq!(code, Some(0), "every task is ok, so the exit code is 0");
    assert_eq!(report.tasks.len(), 300);
    assert_eq!(report.counts.ok, 300, "{:?}", report.counts);
    assert_all_at_the_writer(&report);
    assert_eq!(assert_rows_agree(&report), 300);
}

#[test]
fn an_error_and_a_panic_fail_their_own_writes_and_no_other() {
    let (code, report) = run_single_writer(&["--inject", "error@5", "--inject", "panic@9"]);
    assert_eq!(code, Some(1), "some task failed, so the exit code is 1");
    let failed: Vec<_> = report.tasks.iter().filter(|t| t.status != "ok").collect();
    let ids: Vec<usize> = failed.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), 2, "exactly tasks 5 and 9 fail: {failed:?}");
    assert!(ids.contains(&5) && ids.contains(&9), "{failed:?}");
    for t in failed {
        assert_eq!(t.status, "failed", "task {}", t.id);
        let error = t.error.as_deref().unwrap_or("");
        let expected = if t.id == 5 { "no such table" } else { "panic" };
        assert!(error.contains(expected), "task {}: {error}", t.id);
    }
    assert_all_at_the_writer(&report);
    assert_eq!(assert_rows_agree(&report), 298);
}

#[test]
fn writes_queued_behind_a_hung_one_all_wait_at_once_and_agree_with_the_database() {
    // Task 1 hangs in the writer until its deadline, 1 s in. The 31 other tasks in flight hand
    // their writes over meanwhile and wait at the writer together, far more than the 4
    // connections could ever have held. Their deadlines fall just after the hang's: each is
    // written, or answered timed out unwritten, right at its deadline, where a task that
    // stopped waiting at its deadline could report timed out with its row in the table (one
    // that did failed here in most runs: a row written just before its deadline, committed
    // just after).
    let (code, report) = run_single_writer(&["--inject", "hang@1", "--timeout", "1"]);
    assert_eq!(
        code,
        Some(1),
        "the hung task timed out, so the exit code is 1"
    );
    let hung = report
        .tasks
        .iter()
        .find(|t| t.id == 1)
        .expect("task 1 is reported");
    assert_eq!(hung.status, "timed_out");
    for t in &report.tasks {
        assert!(
            t.status == "ok" || t.status == "timed_out",
            "task {} is {} ({:?})",
            t.id,
            t.status,
            t.error
        );
    }
    assert_all_at_the_writer(&report);
    assert_eq!(most_waiting_at_the_writer_at_once(&report), 32);
    assert_rows_agree(&report);
    // Only the tasks in flight during the hang can have timed out; the rest were written.
    assert!(report.counts.ok >= 300 - 32, "{:?}", report.counts);
}

/// The most tasks that had handed their write over and were waiting for its answer at once.
fn most_waiting_at_the_writer_at_once(report: &RunReport) -> usize {
    let mut events: Vec<(f64, i32)> = Vec::new();
    for t in &report.tasks {
        if let (Some(handed), Some(answered)) = (t.sql_started_s, t.finished_s) {
            events.push((handed, 1));
            events.push((answered, -1));
        }
    }
    // At equal times, answers before hand-overs: a task answered as another hands over did not
    // wait with it.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut waiting = 0;
    let mut most = 0;
    for (_, change) in events {
        waiting += change;
        most = most.max(waiting);
    }
    most as usize
}

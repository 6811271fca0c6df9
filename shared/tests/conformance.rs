//! The sequential baseline passes the conformance suite every executor runs, and the suite's
//! bound on a check really stops a check that never ends.

use std::time::{Duration, Instant};

shared::conformance_tests!(shared::sequential::run);

/// Set in the child process that [`a_check_that_never_ends`] runs as.
const CHILD: &str = "SHARED_BOUND_CHILD";

/// Not a check on its own: the child process of the next test, which runs it with `--ignored`.
#[test]
#[ignore = "the child process of a_check_past_its_bound_stops_the_test_program"]
fn a_check_that_never_ends() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    shared::conformance::within(Duration::from_millis(200), "never ends", || {
        std::thread::sleep(Duration::from_secs(30))
    });
}

#[test]
fn a_check_past_its_bound_stops_the_test_program() {
    let began = Instant::now();
    let output = shared::conformance::run_alone_in_a_child("a_check_that_never_ends", CHILD);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "stderr: {stderr}");
    assert!(stderr.contains("still running after"), "stderr: {stderr}");
    // The check sleeps 30 s; the bound must have stopped it long before.
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "took {:?}",
        began.elapsed()
    );
}

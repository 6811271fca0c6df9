//! What `--help` tells a user before any run: how many workers threading_executor
//! starts without `--workers`, as a number, and only the faults `--inject` can give it.

use std::process::{Command, Output};

fn threading(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_threading_executor"))
        .args(args)
        .output()
        .expect("the program runs")
}

/// What `--help` says of `flag`.
fn help_of(flag: &str) -> String {
    shared::conformance::help_of(env!("CARGO_BIN_EXE_threading_executor"), flag)
}

#[test]
fn the_help_gives_the_default_number_of_workers() {
    let workers = help_of("--workers");
    assert!(workers.contains("[default: 4]"), "{workers}");
}

#[test]
fn the_help_offers_only_the_faults_this_program_survives() {
    let inject = help_of("--inject");
    assert!(inject.contains("error, panic or hang"), "{inject}");
    assert!(!inject.contains("crash"), "{inject}");
}

#[test]
fn a_crash_asked_for_anyway_is_refused_with_the_reason_in_one_line() {
    let out = threading(&["--inject", "crash@1", "--no-baseline"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("only multiprocessing survives a crash"),
        "{err}"
    );
}

//! The behaviour every method must show (`shared::conformance`), for worker processes, and
//! after every run: no child process left behind.
//!
//! Not `shared::conformance_tests!`: that macro makes libtest tests, which run on threads, and
//! this method forks (see `harness = false` in Cargo.toml). The same checks run here in turn.

mod common;

use std::process::ExitCode;

use multiprocessing_executor::Options;
use shared::conformance as check;
use shared::{Plan, Result, Run};

fn method(plan: &Plan) -> Result<Run> {
    let run = multiprocessing_executor::run(plan, &Options::default());
    common::assert_no_children();
    run
}

fn main() -> ExitCode {
    let mut checks = common::Checks::new();
    for (name, check) in check::CHECKS {
        checks.run(name, || check(&method));
    }
    checks.finish()
}

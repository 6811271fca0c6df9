//! The demo as a user meets it before any worker runs: `--help` gives the default number of
//! worker processes as a number, and offers the crash that only this program survives; a pool
//! larger than the system can start is refused in one line, exit 2, before a single fork.
//!
//! Single-threaded, without libtest, for the reason given in Cargo.toml.

mod common;

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use multiprocessing_executor::Options;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_multiprocessing_executor"))
}

/// What `--help` says of `flag`.
fn help_of(flag: &str) -> String {
    shared::conformance::help_of(env!("CARGO_BIN_EXE_multiprocessing_executor"), flag)
}

fn the_help_gives_the_default_number_of_workers_on_this_machine() {
    let workers = help_of("--workers");
    let cores = Options::default_workers();
    assert!(
        workers.contains(&format!("[default: {cores}, one per core on this machine")),
        "{workers}"
    );
}

fn the_help_offers_a_crash_which_this_program_survives() {
    let inject = help_of("--inject");
    assert!(inject.contains("error, panic, hang or crash"), "{inject}");
}

/// A hundred million workers asked, a million tasks to give them: a million processes, more
/// than any Linux system allows (its `pid_max` is at most 4,194,304), or its memory holds. The
/// demo must say so and stop before it forks: exit 2, one line that names the flag, the limit,
/// and the largest pool that would fit, and no panic.
///
/// It is watched while it runs: a demo that forked would be stopped at its first child seen (its
/// children die with it), so that a refusal lost in a later change costs this machine a few
/// processes, not every process id it has.
fn a_pool_the_system_cannot_start_is_refused_before_any_fork() {
    use std::os::unix::process::CommandExt;
    let mut demo = demo()
        .args(["--workload", "scale", "--tasks", "1000000"])
        .args(["--workers", "100000000", "--no-baseline"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("the demo starts");
    let give_up = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = demo.try_wait().expect("the demo can be waited for") {
            break status;
        }
        let forked = common::children_of(demo.id());
        if !forked.is_empty() || Instant::now() > give_up {
            let _ = killpg(Pid::from_raw(demo.id() as i32), Signal::SIGKILL);
            let _ = demo.wait(); // SIGKILL ends it: this wait is short.
            panic!("the demo was still running, with children {forked:?}, instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut err = String::new();
    let mut out = String::new();
    demo.stderr
        .take()
        .expect("piped")
        .read_to_string(&mut err)
        .expect("stderr");
    demo.stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .expect("stdout");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(out.is_empty(), "a report after an error: {out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for said in [
        "--workers 100000000: 1000000 worker processes (one a task) would not fit",
        "ask for at most",
    ] {
        assert!(err.contains(said), "expected '{said}' in: {err}");
    }
    common::assert_no_children();
}

fn main() -> ExitCode {
    let mut checks = common::Checks::new();
    checks.run(
        "the_help_gives_the_default_number_of_workers_on_this_machine",
        the_help_gives_the_default_number_of_workers_on_this_machine,
    );
    checks.run(
        "the_help_offers_a_crash_which_this_program_survives",
        the_help_offers_a_crash_which_this_program_survives,
    );
    // Where there is no /proc to watch for children, the demo is not run at all: were it to
    // fork, nothing here could stop it in time.
    checks.run_with_proc(
        "a_pool_the_system_cannot_start_is_refused_before_any_fork",
        a_pool_the_system_cannot_start_is_refused_before_any_fork,
    );
    checks.finish()
}

//! A tiny single-threaded test runner with a time bound on every check, and a look at processes
//! in Linux's `/proc` (and, on Linux, a way to be handed the orphans of a process killed). Where there is no such `/proc` (macOS), a check that needs it says it was
//! skipped instead of passing without having looked.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::os::fd::AsFd;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Child, ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::alarm;
use shared::{Run, Status};

/// How long one check may take before the whole test binary is ended. A generous backstop for
/// a run that hangs; the checks bound their own waits more tightly.
const CHECK_BOUND_SECS: u32 = 60;

/// Runs named checks one after another on the main thread, and sums up like libtest does.
/// Arguments that do not start with `-` filter the checks by name, as `cargo test NAME` does.
pub struct Checks {
    filters: Vec<String>,
    passed: usize,
    failed: Vec<&'static str>,
    skipped: usize,
}

impl Checks {
    pub fn new() -> Checks {
        let filters = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        // A check that hangs (in `waitpid`, in `poll`) cannot be interrupted on the one thread
        // there is, so the kernel ends it: `SIGALRM` after the bound, caught below to say why.
        let action = SigAction::new(
            SigHandler::Handler(on_alarm),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only calls `write` and `_exit`, which are async-signal-safe.
        unsafe { sigaction(Signal::SIGALRM, &action) }.expect("a SIGALRM handler");
        Checks {
            filters,
            passed: 0,
            failed: Vec::new(),
            skipped: 0,
        }
    }

    /// Runs `check`, within [`CHECK_BOUND_SECS`]: past it, the test binary fails at once (the
    /// last `check NAME ...` line printed names the check).
    pub fn run(&mut self, name: &'static str, check: impl FnOnce()) {
        if !self.selected(name) {
            return;
        }
        println!("check {name} ...");
        alarm::set(CHECK_BOUND_SECS);
        let result = panic::catch_unwind(AssertUnwindSafe(check));
        alarm::cancel();
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("check {name} ... ok");
            }
            Err(_) => {
                self.failed.push(name);
                println!("check {name} ... FAILED");
            }
        }
    }

    /// Runs `check` where Linux's `/proc` is there to read; elsewhere reports it SKIPPED.
    pub fn run_with_proc(&mut self, name: &'static str, check: impl FnOnce()) {
        if has_proc() {
            self.run(name, check);
        } else {
            self.skip(name, "it reads Linux's /proc, which this system lacks");
        }
    }

    /// Reports a check that cannot run here as SKIPPED, with the reason: not as passed.
    pub fn skip(&mut self, name: &'static str, why: &str) {
        if self.selected(name) {
            self.skipped += 1;
            println!("check {name} ... SKIPPED ({why})");
        }
    }

    fn selected(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }

    pub fn finish(self) -> ExitCode {
        for name in &self.failed {
            println!("failed: {name}");
        }
        println!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed.len(),
            self.skipped
        );
        if self.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

extern "C" fn on_alarm(_: libc::c_int) {
    let message = b"\nFAILED: the check above ran past its time bound; the test binary ends here\n";
    // SAFETY: `write` and `_exit` are async-signal-safe; the buffer is a static string.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(101);
    }
}

/// The outcome of `task` in `run`.
pub fn status_of(run: &Run, task: usize) -> &Status {
    let outcome = run.outcomes.iter().find(|o| o.task == task);
    &outcome.expect("every task has an outcome").status
}

/// Fails unless every task but `except` ended ok.
pub fn assert_ok_except(run: &Run, except: usize) {
    for o in run.outcomes.iter().filter(|o| o.task != except) {
        assert!(o.status.is_ok(), "task {} is {:?}", o.task, o.status);
    }
}

/// How many worker processes served the run's tasks.
pub fn distinct_workers(run: &Run) -> usize {
    let mut pids: Vec<&str> = run.outcomes.iter().map(|o| &*o.worker).collect();
    pids.sort_unstable();
    pids.dedup();
    pids.len()
}

/// What a run of 8 tasks on 2 workers with `--inject crash@3` must show, however its workers
/// were started: task 3 failed with the signal that ended its worker, the other seven ok, and a
/// third worker in place of the one that crashed.
pub fn assert_the_crash_cost_task_3_alone(run: &Run) {
    match status_of(run, 3) {
        Status::Failed(message) => assert!(message.contains("SIGABRT"), "{message}"),
        other => panic!("the crashed task should have failed, but is {other:?}"),
    }
    assert_ok_except(run, 3);
    assert_eq!(run.outcomes.len(), 8);
    assert_eq!(distinct_workers(run), 3, "{:?}", run.notes);
    assert!(
        run.notes.iter().any(|n| n.contains("replace")),
        "{:?}",
        run.notes
    );
}

/// Whether this system has Linux's `/proc`, where a process's children and state can be read.
pub fn has_proc() -> bool {
    cfg!(target_os = "linux") && std::path::Path::new("/proc/self/stat").exists()
}

/// The processes whose parent is `parent`, zombies included, from `/proc/*/stat`.
pub fn children_of(parent: u32) -> Vec<u32> {
    assert!(has_proc(), "children_of needs Linux's /proc");
    let entries = std::fs::read_dir("/proc").expect("/proc can be listed");
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|(_, ppid)| ppid == parent))
        .collect()
}

/// A process's state letter and parent pid, or `None` if it no longer exists.
pub fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (command name) state ppid ...": the name may hold spaces and parentheses, so the
    // fields are counted from the last ')'.
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Fails if this process has any child, running or zombie. Without `/proc` it cannot look, and
/// says so rather than pass.
pub fn assert_no_children() {
    if !has_proc() {
        println!("  (skipped: no /proc to check that no child process was left)");
        return;
    }
    let left = children_of(std::process::id());
    assert!(
        left.is_empty(),
        "child processes left after the run: {left:?}"
    );
}

/// Waits for `child` to end, failing (and killing it) if it has not after `bound`.
pub fn wait_within(child: &mut Child, bound: Duration) -> ExitStatus {
    let give_up = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if Instant::now() >= give_up {
            let _ = child.kill();
            let _ = child.wait(); // SIGKILL ends it: this wait is short.
            panic!("process {} still ran after {bound:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads `child`'s piped stdout to its end, failing (and killing it) if that takes longer than
/// `bound`: `poll` with the time left, never a read that could block for good.
pub fn read_stdout_within(child: &mut Child, bound: Duration) -> String {
    use std::io::Read;
    let give_up = Instant::now() + bound;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let left = give_up.saturating_duration_since(Instant::now());
        let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, PollTimeout::from(millis)).expect("poll");
        if ready == 0 && Instant::now() < give_up {
            continue; // The bound is longer than one poll can wait.
        }
        if ready == 0 {
            let _ = child.kill();
            let _ = child.wait(); // SIGKILL ends it: this wait is short.
            panic!(
                "process {} wrote no end of its report in {bound:?}",
                child.id()
            );
        }
        match stdout.read(&mut buffer).expect("stdout can be read") {
            0 => return String::from_utf8(bytes).expect("the report is UTF-8"),
            n => bytes.extend_from_slice(&buffer[..n]),
        }
    }
}

/// A process's name as `ps` shows it (`/proc/PID/comm`), or `None` if it no longer exists.
pub fn command_name(pid: u32) -> Option<String> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(name.trim_end().to_string())
}

/// `waitpid` on a child of this process, bounded: fails if it has not ended after `bound`.
#[cfg(target_os = "linux")]
pub fn waitpid_within(pid: u32, bound: Duration) -> nix::sys::wait::WaitStatus {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    let give_up = Instant::now() + bound;
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)).expect("a child of this process") {
            WaitStatus::StillAlive => {
                assert!(
                    Instant::now() < give_up,
                    "{pid} still runs {bound:?} after its parent was killed"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            status => return status,
        }
    }
}

/// Makes this process the reaper of its orphaned descendants (Linux's
/// `PR_SET_CHILD_SUBREAPER`) while it lives; on drop, kills and reaps any left, and stops.
#[cfg(target_os = "linux")]
pub struct Subreaper;

#[cfg(target_os = "linux")]
impl Subreaper {
    pub fn start() -> Subreaper {
        nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
        Subreaper
    }
}

#[cfg(target_os = "linux")]
impl Drop for Subreaper {
    fn drop(&mut self) {
        // Only on a failed check are any left: they must not outlive it.
        for pid in children_of(std::process::id()) {
            let target = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(target, Signal::SIGKILL);
            let _ = waitpid_within(pid, Duration::from_secs(5));
        }
        let _ = nix::sys::prctl::set_child_subreaper(false);
    }
}

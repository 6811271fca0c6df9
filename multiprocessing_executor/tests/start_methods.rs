//! Worker processes started three ways (`--start fork`, `spawn`, `forkserver`) behave the same:
//! the same results, a crash or a hang costs one task and its worker is replaced, no child
//! outlives its run, and none outlives its parent, killed, stopped with `SIGTERM`, or
//! interrupted with Ctrl-C. Fork's own checks are in `processes.rs`; here each is run under
//! spawn and forkserver, and the signal checks under all three.
//!
//! Single-threaded, without libtest, for the reason given in Cargo.toml, until the last check,
//! which starts a thread on purpose: a process with threads cannot fork, and can still spawn, or
//! use a fork server started before the thread.

mod common;

use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_ok_except, distinct_workers, status_of};
use multiprocessing_executor::{ForkServer, Options, Start};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use shared::conformance::{self as check, plan};
use shared::{Fault, Plan, Run, Status};

/// The two ways of starting a worker that are not a fork of the test process.
#[derive(Clone, Copy)]
enum How {
    Spawn,
    ForkServer,
}

impl How {
    fn name(self) -> &'static str {
        match self {
            How::Spawn => "spawn",
            How::ForkServer => "forkserver",
        }
    }

    /// Options that start workers this way; a fork server of their own for `ForkServer`, which
    /// ends when the options are dropped.
    fn options(self) -> Options {
        let start = match self {
            How::Spawn => Start::Spawn,
            How::ForkServer => Start::ForkServer(ForkServer::start(true).expect("a fork server")),
        };
        Options {
            start,
            ..Options::default()
        }
    }

    /// Runs `plan` this way; after the run (and the fork server) no child is left.
    fn run(self, plan: &Plan) -> shared::Result<Run> {
        shared::quiet_injected_panics();
        let options = self.options();
        let run = multiprocessing_executor::run(plan, &options);
        drop(options);
        common::assert_no_children();
        run
    }
}

fn a_crashed_worker_is_replaced_and_no_task_is_lost(how: How) {
    // The exit status comes through the fork server too.
    let run = how.run(&plan(8, 2, &[(Fault::Crash, 3)])).expect("a run");
    common::assert_the_crash_cost_task_3_alone(&run);
}

fn a_task_past_its_timeout_has_its_worker_killed_and_replaced(how: How) {
    // 40 short tasks on two workers: some are still waiting when the hang is killed, so its
    // worker is replaced.
    let mut plan = plan(40, 2, &[(Fault::Hang, 2)]);
    plan.timeout = Duration::from_millis(300);
    let run = how.run(&plan).expect("a run");
    assert_eq!(status_of(&run, 2), &Status::TimedOut);
    assert_ok_except(&run, 2);
    let killed = |n: &String| n.contains("task 2") && n.contains("SIGKILL");
    assert!(run.notes.iter().any(killed), "{:?}", run.notes);
    assert_eq!(distinct_workers(&run), 3, "{:?}", run.notes);
}

fn the_report_says_how_the_workers_started(how: How) {
    let run = how.run(&plan(8, 4, &[])).expect("a run");
    let word = match how {
        How::Spawn => "4 worker processes spawned",
        How::ForkServer => "4 worker processes forked by the fork server",
    };
    assert!(run.notes[0].starts_with(word), "{:?}", run.notes);
    assert!(run.startup > Duration::ZERO);
}

fn a_workload_that_writes_is_refused_with_a_clear_error(how: How) {
    let plan = check::writes_plan(4, 2, shared::WriteSettings::default(), &[]);
    let error = how.run(&plan).expect_err("a writing run needs fork");
    let message = error.to_string();
    assert!(message.contains("--start fork"), "{message}");
}

/// Starts the demo binary on `args` and `--start HOW` as an interactive shell starts a job: in a
/// process group of its own, and with Ctrl-C's `SIGINT` at its default action, ending it. Its
/// output is thrown away.
///
/// The default has to be restored: a process started with `SIGINT` ignored (by `nohup`, as a
/// background job of a script, by some CI runners) passes that on to every program it starts,
/// across `exec`, and the demo would then sail through the Ctrl-C check's signal as if it had
/// never come.
fn start(how: &str, args: &[&str]) -> Child {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_multiprocessing_executor"));
    command
        .args(args)
        .args(["--start", how, "--json", "--no-baseline"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // SAFETY: this runs in the child between `fork` and `exec`, where only async-signal-safe
    // calls may be made: `signal` is one (it is `sigaction` underneath), and nothing here
    // allocates or takes a lock. (The signal mask needs no reset: `Command` empties it.)
    unsafe {
        command.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().expect("the demo binary starts")
}

/// Every process below `parent`: its children, theirs, and so on.
fn descendants(parent: u32) -> Vec<u32> {
    let mut found = common::children_of(parent);
    let mut i = 0;
    while i < found.len() {
        let below = common::children_of(found[i]);
        found.extend(below);
        i += 1;
    }
    found
}

/// Waits until the demo has at least `count` descendants, and returns them.
fn wait_for_descendants(parent: u32, count: usize) -> Vec<u32> {
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let found = descendants(parent);
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < give_up,
            "{parent} never had {count} descendants"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Fails unless every one of `pids` has ended (or is a zombie, which runs no more) within 5 s.
fn assert_all_end(pids: &[u32], after: &str) {
    let give_up = Instant::now() + Duration::from_secs(5);
    for &pid in pids {
        while common::stat(pid).is_some_and(|(state, _)| state != 'Z') {
            assert!(Instant::now() < give_up, "process {pid} still runs {after}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// How the demo is stopped from outside.
#[derive(Clone, Copy)]
enum Stop {
    /// `SIGKILL` to the parent alone: no chance to clean up.
    Kill,
    /// `SIGTERM` to the parent alone, as `kill PID` sends it.
    Term,
    /// `SIGINT` to the whole process group, as Ctrl-C in a terminal sends it.
    CtrlC,
}

/// The demo, busy with 200 waits of 100 ms on 4 workers (about 5 s), is stopped: every worker,
/// and the fork server, ends with it. `extra` adds flags (`--no-parent-death-signal`).
fn stopping_the_parent_leaves_no_worker_running(how: &str, stop: Stop, extra: &[&str]) {
    let mut args = vec!["--workload", "scale", "--tasks", "200", "--workers", "4"];
    args.extend(extra);
    let mut demo = start(how, &args);
    // The fork server is a descendant too.
    let count = if how == "forkserver" { 5 } else { 4 };
    let workers = wait_for_descendants(demo.id(), count);
    std::thread::sleep(Duration::from_millis(150));
    let parent = Pid::from_raw(demo.id() as i32);
    match stop {
        Stop::Kill => kill(parent, Signal::SIGKILL),
        Stop::Term => kill(parent, Signal::SIGTERM),
        Stop::CtrlC => killpg(parent, Signal::SIGINT),
    }
    .expect("the demo can be signalled");
    let status = common::wait_within(&mut demo, Duration::from_secs(5));
    assert!(!status.success(), "the demo was stopped: {status:?}");
    assert_all_end(&workers, "after its parent was stopped");
}

/// With 100 workers, each holds its own pipes and little else: a spawned worker inherits only
/// the descriptors not marked close-on-exec, and a worker forked by the fork server none of its
/// siblings' (the server keeps none), nor the server's socket.
fn a_worker_holds_no_siblings_pipe_ends(how: &str) {
    let mut demo = start(
        how,
        &["--workload", "scale", "--tasks", "2000", "--workers", "100"],
    );
    let found = wait_for_descendants(demo.id(), 100);
    // Its standard streams, its two pipes, the database and its two WAL files, and room to spare.
    const MOST: usize = 16;
    let mut looked = 0;
    for pid in found {
        if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            let open = fds.count();
            assert!(open <= MOST, "process {pid} holds {open} descriptors");
            looked += 1;
        }
    }
    assert!(looked >= 50, "only {looked} workers could be looked at");
    let _ = demo.kill();
    common::wait_within(&mut demo, Duration::from_secs(5));
}

fn a_process_with_threads_cannot_fork_but_can_spawn_or_use_an_earlier_fork_server() {
    // Started first, while this process has one thread, as `main` does with `--start forkserver`.
    let server = ForkServer::start(true).expect("a fork server");
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    // Bounded too: it ends when `stop` is dropped, or after 10 s whatever happens.
    let other = std::thread::spawn(move || wait.recv_timeout(Duration::from_secs(10)));
    let plan = plan(4, 2, &[]);
    let forked = multiprocessing_executor::run(&plan, &Options::default());
    let spawned = multiprocessing_executor::run(&plan, &How::Spawn.options());
    // The options' hold on the server ends with this block, so that dropping `server` ends it.
    let served = {
        let options = Options {
            start: Start::ForkServer(Arc::clone(&server)),
            ..Options::default()
        };
        multiprocessing_executor::run(&plan, &options)
    };
    let late = ForkServer::start(true);
    drop(stop);
    let _ = other.join();
    drop(server);
    common::assert_no_children();
    let error = forked.expect_err("fork is refused with a second thread running");
    assert!(error.to_string().contains("one thread"), "{error}");
    let late = late.expect_err("a fork server cannot be forked with a second thread running");
    assert!(late.to_string().contains("one thread"), "{late}");
    for (how, run) in [("spawn", spawned), ("forkserver", served)] {
        let run = run.unwrap_or_else(|e| panic!("{how} works beside a thread: {e}"));
        assert!(run.outcomes.iter().all(|o| o.status.is_ok()), "{how}");
    }
}

fn main() -> ExitCode {
    // Under `--start spawn` the workers of the in-process checks are this test program run
    // again: it serves them here, before anything else, as the demo's `main` does.
    multiprocessing_executor::serve_if_spawned();
    shared::Database::prepare(None, false).expect("the fixture");
    let mut checks = common::Checks::new();
    type Check = fn(How);
    let each: [(&str, Check); 4] = [
        (
            "a_crashed_worker_is_replaced_and_no_task_is_lost",
            a_crashed_worker_is_replaced_and_no_task_is_lost,
        ),
        (
            "a_task_past_its_timeout_has_its_worker_killed_and_replaced",
            a_task_past_its_timeout_has_its_worker_killed_and_replaced,
        ),
        (
            "the_report_says_how_the_workers_started",
            the_report_says_how_the_workers_started,
        ),
        (
            "a_workload_that_writes_is_refused_with_a_clear_error",
            a_workload_that_writes_is_refused_with_a_clear_error,
        ),
    ];
    let name = |how: How, what: &str| -> &'static str {
        Box::leak(format!("{}_{what}", how.name()).into_boxed_str())
    };
    for how in [How::Spawn, How::ForkServer] {
        for (what, check) in each {
            checks.run(name(how, what), || check(how));
        }
        // The behaviour every method must show, as `conformance.rs` checks it under fork; the
        // writing ones need fork (see the check above).
        for (what, check) in check::CHECKS {
            if what.contains("write") || what.contains("lock") {
                checks.skip(name(how, what), "a workload that writes needs --start fork");
                continue;
            }
            checks.run(name(how, what), || check(&|plan| how.run(plan)));
        }
    }
    let stops = [
        ("killing", Stop::Kill),
        ("sigterm", Stop::Term),
        ("ctrl_c", Stop::CtrlC),
    ];
    for how in ["fork", "spawn", "forkserver"] {
        for (word, stop) in stops {
            let what = format!("{how}_{word}_the_parent_leaves_no_worker_running");
            let what: &'static str = Box::leak(what.into_boxed_str());
            checks.run_with_proc(what, || {
                stopping_the_parent_leaves_no_worker_running(how, stop, &[])
            });
        }
    }
    // Without Linux's parent-death signal, as on macOS: end of file on the pipes (and on the
    // fork server's socket) ends them, a task later. (Fork's is in `processes.rs`.)
    for how in ["spawn", "forkserver"] {
        let what = format!("{how}_a_parent_gone_ends_its_workers_through_their_pipes");
        checks.run_with_proc(Box::leak(what.into_boxed_str()), || {
            stopping_the_parent_leaves_no_worker_running(
                how,
                Stop::Kill,
                &["--no-parent-death-signal"],
            )
        });
    }
    for how in ["spawn", "forkserver"] {
        let what = format!("{how}_a_worker_holds_no_siblings_pipe_ends");
        checks.run_with_proc(Box::leak(what.into_boxed_str()), || {
            a_worker_holds_no_siblings_pipe_ends(how)
        });
    }
    // Last: it starts a thread, and the checks above fork. Only where threads can be counted.
    checks.run_with_proc(
        "a_process_with_threads_cannot_fork_but_can_spawn_or_use_an_earlier_fork_server",
        a_process_with_threads_cannot_fork_but_can_spawn_or_use_an_earlier_fork_server,
    );
    checks.finish()
}

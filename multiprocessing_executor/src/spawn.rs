//! `--start spawn`: each worker is this program run again, with a hidden flag that makes it a
//! worker, as Python's `spawn` runs a fresh interpreter. See `start.rs` for when that is the
//! right choice and what it costs.
//!
//! The worker's job pipe is its standard input and its result pipe its standard output, the
//! only descriptors it inherits: every other descriptor of this process is opened close-on-exec
//! (Rust's default, and `std::io::pipe`'s), so a spawned worker never holds a sibling's pipe
//! end, and needs no `close_inherited` (`lib.rs`). The program has to let a worker in first
//! thing in `main`, before anything else runs: [`serve_if_spawned`], the counterpart of
//! Python's `if __name__ == "__main__":` guard, which keeps a spawned child from running the
//! whole program again.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use nix::unistd::Pid;
use shared::Error;

use crate::briefing;
use crate::process::Process;

/// The hidden flag that makes this program a worker: the first and only argument.
const WORKER_FLAG: &str = "--spawned-worker";

/// Starts this program again as a worker: its process, and the parent's ends of its job and
/// result pipes. `posix_spawn`, which `Command` uses where it can, is safe in a process with
/// threads: the child runs no code of this process before its `exec`.
pub(crate) fn spawn_worker() -> shared::Result<(Process, OwnedFd, OwnedFd)> {
    let system = |what: &str, e: std::io::Error| Error::system(format!("{what}: {e}"));
    let (job_out, job_in) = std::io::pipe().map_err(|e| system("cannot create a pipe", e))?;
    let (result_out, result_in) = std::io::pipe().map_err(|e| system("cannot create a pipe", e))?;
    let program = std::env::current_exe().map_err(|e| system("cannot find this program", e))?;
    // The child's ends go into its standard input and output, and `Command` closes this
    // process's copies as it is dropped, at the end of the statement.
    let child = Command::new(&program)
        .arg(WORKER_FLAG)
        .stdin(Stdio::from(job_out))
        .stdout(Stdio::from(result_in))
        .spawn()
        .map_err(|e| system(&format!("cannot spawn {}", program.display()), e))?;
    // `Child` neither waits nor kills when dropped: the pool's `Process` does both.
    let process = Process::new(Pid::from_raw(child.id() as i32));
    Ok((process, job_in.into(), result_out.into()))
}

/// Serves as a worker, and never returns, if this process was spawned as one; returns at once
/// otherwise. A program that uses `--start spawn` calls it first thing in `main`.
pub fn serve_if_spawned() {
    if std::env::args_os().nth(1).is_some_and(|a| a == WORKER_FLAG) {
        serve_spawned()
    }
}

fn serve_spawned() -> ! {
    // The pipes move to descriptors of their own, and standard input and output are pointed
    // elsewhere (nothing, and standard error), so that nothing printed by mistake can land in
    // the middle of a frame.
    let moved = |fd: i32| {
        // SAFETY: `dup` of a descriptor this process was started with; the copy is owned here.
        let copy = unsafe { libc::dup(fd) };
        // SAFETY: as above: a fresh descriptor, or -1, which the check turns away.
        (copy >= 0).then(|| unsafe { OwnedFd::from_raw_fd(copy) })
    };
    let (Some(jobs), Some(results)) = (moved(0), moved(1)) else {
        // SAFETY: nothing to clean up: the process has done nothing yet.
        unsafe { libc::_exit(1) }
    };
    if let Ok(nothing) = std::fs::File::open("/dev/null") {
        // SAFETY: both descriptors are open; `dup2` only replaces what 0 and 1 point at.
        unsafe {
            libc::dup2(nothing.as_raw_fd(), 0);
            libc::dup2(2, 1);
        }
    }
    briefing::serve_briefed(jobs, results)
}

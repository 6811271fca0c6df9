//! A child process as the parent holds it: a pid that is killed and reaped when dropped, unless
//! it was reaped already. This is the guarantee that an error or a panic in the parent, which
//! drops the pool on its way out, leaves no child running and no zombie behind. The pool
//! (`lib.rs`) keeps one per worker and reaps it itself when the child ends in the ordinary way.
//! A worker forked by the fork server is that server's child, not this process's: only the
//! server can reap it, so its `Process` asks the server to (see [`Reaper`]).

use std::sync::Arc;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

pub(crate) struct Process {
    pub pid: Pid,
    /// How the report names the worker: by its pid. Made once and shared by its outcomes.
    name: Arc<str>,
    reaped: bool,
    /// Who collects its exit status, when it is not this process's own child.
    reaper: Option<Arc<dyn Reaper>>,
}

/// The parent of a child that is not this process's: it waits for that child on request.
pub(crate) trait Reaper: Send + Sync {
    /// Blocks until `pid` has ended, and says how it ended.
    fn reap(&self, pid: Pid) -> WaitStatus;
}

impl Process {
    pub fn new(pid: Pid) -> Process {
        let name = format!("pid {pid}").into();
        Process {
            pid,
            name,
            reaped: false,
            reaper: None,
        }
    }

    /// A process that `reaper`, its parent, waits for on this process's behalf.
    pub fn reaped_by(pid: Pid, reaper: Arc<dyn Reaper>) -> Process {
        let mut process = Process::new(pid);
        process.reaper = Some(reaper);
        process
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// `SIGKILL`, which stops anything: a query, a sleep, a loop that checks no deadline.
    pub fn kill(&self) {
        // An error can only mean that it has been reaped already (ESRCH): nothing to stop.
        let _ = kill(self.pid, Signal::SIGKILL);
    }

    /// Waits for the child to end and collects its exit status, so that it does not linger as a
    /// zombie. Blocks: call it only on a child that has exited or is about to.
    pub fn reap(&mut self) -> WaitStatus {
        self.reaped = true;
        if let Some(reaper) = &self.reaper {
            return reaper.reap(self.pid);
        }
        loop {
            match waitpid(self.pid, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                // ECHILD: someone else reaped it; there is nothing left to wait for.
                Err(e) => return WaitStatus::Exited(self.pid, -(e as i32)),
                Ok(status) => return status,
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            self.reap();
        }
    }
}

/// How a child ended, in words: which signal killed it, or which code it exited with.
pub(crate) fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Signaled(_, signal, _) => format!("was killed by {signal}"),
        WaitStatus::Exited(_, code) => format!("exited with code {code}"),
        other => format!("ended ({other:?})"),
    }
}

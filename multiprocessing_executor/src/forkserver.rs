//! `--start forkserver`: a small server, forked before the program has threads or connections,
//! forks every worker on request, as Python's `forkserver` does. See `start.rs` for when that
//! is the right choice and what it costs.
//!
//! **How.** [`ForkServer::start`] forks the server and keeps one end of a Unix socket pair; the
//! server waits on the other end for requests, one at a time, each answered before the next:
//!
//! - *a worker*: the server makes the worker's two pipes and forks it. The worker keeps its
//!   ends; the parent's ends cross the socket to the program as `SCM_RIGHTS` (the kernel
//!   copies open descriptors into another process), with the worker's pid. The server then
//!   closes its copies, so that it holds no pipe of any worker, and no worker forked later
//!   inherits one.
//! - *reap pid*: a worker is the server's child, not the program's, so only the server can
//!   wait for it. The program kills a worker directly (any process may signal its own user's),
//!   and asks the server for its exit status, which keeps "killed by SIGKILL" or "SIGABRT" in
//!   the report as under fork. Until the server reaps it, a dead worker's pid cannot be reused,
//!   so the program's kill never reaches a stranger.
//!
//! **Its life.** The server ends when its socket reaches end of file: when the program drops
//! its [`ForkServer`], or dies. On Linux the kernel also kills the server when the program dies,
//! and each worker when the server dies, so a killed program takes every worker with it, as
//! under fork; elsewhere each worker reads end of file on its job pipe, as under fork too.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe};
use shared::Error;

use crate::briefing;
use crate::child;
use crate::platform;
use crate::process::{Process, Reaper};

/// Requests, one byte each; a reap is followed by the pid, 4 bytes little-endian.
const WORKER: u8 = b'w';
const REAP: u8 = b'r';

/// The fork server, as the program holds it: its process, reaped when dropped, and the socket
/// the requests cross.
pub struct ForkServer {
    process: Mutex<Process>,
    pid: Pid,
    socket: Mutex<UnixStream>,
}

impl std::fmt::Debug for ForkServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForkServer(pid {})", self.pid)
    }
}

impl ForkServer {
    /// Forks the fork server. Call it first thing in `main`, while the program has one thread
    /// and no connection: the server is a copy of the program as it is now, and so is every
    /// worker it forks. `death_signal` as in [`Options`](crate::Options).
    pub fn start(death_signal: bool) -> shared::Result<Arc<ForkServer>> {
        if let Some(threads) = platform::thread_count().filter(|&n| n > 1) {
            return Err(Error::system(format!(
                "the fork server must be forked while the program has one thread, and it has {threads}"
            )));
        }
        let system = |what: &str, e: &dyn std::fmt::Display| Error::system(format!("{what}: {e}"));
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| system("cannot create the fork server's socket", &e))?;
        let parent = getpid();
        // SAFETY: this process has one thread (checked above), so the server starts with every
        // lock free; it never returns from `serve`, it ends with `_exit`.
        match unsafe { fork() }.map_err(|e| system("cannot fork the fork server", &e))? {
            ForkResult::Child => {
                drop(ours);
                child::exit_after(|| serve(theirs, parent, death_signal))
            }
            ForkResult::Parent { child } => Ok(Arc::new(ForkServer {
                process: Mutex::new(Process::new(child)),
                pid: child,
                socket: Mutex::new(ours),
            })),
        }
    }

    /// The server's pid: the parent of every worker it forks.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Has the server fork a worker: its process, and the parent's ends of its job and result
    /// pipes.
    pub(crate) fn fork_worker(self: &Arc<Self>) -> shared::Result<(Process, OwnedFd, OwnedFd)> {
        let gone = |e: &dyn std::fmt::Display| {
            Error::system(format!(
                "the fork server (pid {}) did not fork a worker: {e}",
                self.pid
            ))
        };
        let socket = self.socket.lock().unwrap_or_else(|e| e.into_inner());
        (&*socket).write_all(&[WORKER]).map_err(|e| gone(&e))?;
        let mut answer = [0u8; 4];
        let mut space = nix::cmsg_space!([RawFd; 2]);
        let mut iov = [IoSliceMut::new(&mut answer)];
        let message = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .map_err(|e| gone(&e))?;
        let mut fds = Vec::new();
        for cmsg in message.cmsgs().map_err(|e| gone(&e))? {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                // SAFETY: the kernel has just opened these for this process; they are owned here.
                fds.extend(
                    received
                        .into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
        let bytes = message.bytes;
        drop(socket);
        let pid = i32::from_le_bytes(answer);
        if bytes != 4 || pid <= 0 || fds.len() != 2 {
            let why = match pid {
                ..0 => nix::Error::from_raw(-pid).to_string(),
                _ => "no answer".to_string(),
            };
            return Err(gone(&why));
        }
        let results = fds.pop().expect("two descriptors");
        let jobs = fds.pop().expect("two descriptors");
        let reaper: Arc<dyn Reaper> = Arc::clone(self) as Arc<dyn Reaper>;
        Ok((
            Process::reaped_by(Pid::from_raw(pid), reaper),
            jobs,
            results,
        ))
    }
}

impl Reaper for ForkServer {
    fn reap(&self, pid: Pid) -> WaitStatus {
        let socket = self.socket.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = [REAP, 0, 0, 0, 0];
        request[1..].copy_from_slice(&pid.as_raw().to_le_bytes());
        let mut answer = [0u8; 8];
        let asked = (&*socket)
            .write_all(&request)
            .and_then(|()| (&*socket).read_exact(&mut answer));
        let (code, raw) = (&answer[..4], &answer[4..]);
        let code = i32::from_le_bytes(code.try_into().expect("4 bytes"));
        let raw = i32::from_le_bytes(raw.try_into().expect("4 bytes"));
        match asked {
            // As `Process::reap` says of a child it cannot wait for: the error, negated.
            Err(_) => WaitStatus::Exited(pid, -(nix::errno::Errno::ECHILD as i32)),
            Ok(()) if code != 0 => WaitStatus::Exited(pid, code),
            Ok(()) => WaitStatus::from_raw(pid, raw).unwrap_or(WaitStatus::Exited(pid, raw)),
        }
    }
}

impl Drop for ForkServer {
    /// End of file on its socket tells the server to exit; then it is reaped.
    fn drop(&mut self) {
        let socket = self.socket.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = socket.shutdown(Shutdown::Both);
        self.process
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .reap();
    }
}

/// The server's whole life: answer requests until the socket reaches end of file.
fn serve(socket: UnixStream, parent: Pid, death_signal: bool) -> i32 {
    if death_signal && !platform::die_with_parent() {
        return 1;
    }
    if getppid() != parent {
        return 1; // The program died before the server could tie its life to it.
    }
    let mut socket = socket;
    loop {
        let mut request = [0u8; 1];
        match socket.read_exact(&mut request) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return 0, // End of file: the program is done, or gone.
        }
        let answered = match request[0] {
            WORKER => fork_one(&socket),
            REAP => reap_one(&mut socket),
            _ => return 1,
        };
        if answered.is_err() {
            return 1;
        }
    }
}

/// Forks one worker and sends the program its pid and the parent's ends of its pipes.
fn fork_one(socket: &UnixStream) -> io::Result<()> {
    let pipes = pipe().and_then(|jobs| Ok((jobs, pipe()?)));
    let ((job_out, job_in), (result_out, result_in)) = match pipes {
        Ok(pipes) => pipes,
        Err(e) => return send(socket, -(e as i32), &[]),
    };
    // SAFETY: the server has one thread (it was forked from a process with one and starts
    // none), so the worker starts with every lock free; it never returns, it ends with `_exit`.
    match unsafe { fork() } {
        Err(e) => send(socket, -(e as i32), &[]),
        Ok(ForkResult::Child) => {
            // The worker keeps its own ends only: not the server's socket, nor the parent's ends.
            // SAFETY: the socket's owner is never used again in this process, which ends in
            // `serve_briefed` without returning.
            unsafe { libc::close(socket.as_raw_fd()) };
            drop((job_in, result_out));
            briefing::serve_briefed(job_out, result_in)
        }
        Ok(ForkResult::Parent { child }) => {
            drop((job_out, result_in));
            // The program gets copies of its ends; the server's own go as `job_in` and
            // `result_out` are dropped, on the way out.
            send(
                socket,
                child.as_raw(),
                &[job_in.as_raw_fd(), result_out.as_raw_fd()],
            )
        }
    }
}

/// Reads the pid of a reap request, waits for that worker and answers how it ended: a code
/// (0, or an error negated) and the raw wait status.
fn reap_one(socket: &mut UnixStream) -> io::Result<()> {
    let mut pid = [0u8; 4];
    socket.read_exact(&mut pid)?;
    let pid = i32::from_le_bytes(pid);
    let mut status = 0;
    let code = loop {
        // SAFETY: plain `waitpid` on a pid, writing into a local.
        if unsafe { libc::waitpid(pid, &mut status, 0) } >= 0 {
            break 0;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            break -e.raw_os_error().unwrap_or(libc::ECHILD);
        }
    };
    let mut answer = [0u8; 8];
    answer[..4].copy_from_slice(&i32::to_le_bytes(code));
    answer[4..].copy_from_slice(&status.to_le_bytes());
    socket.write_all(&answer)
}

fn send(socket: &UnixStream, pid: i32, fds: &[RawFd]) -> io::Result<()> {
    let bytes = pid.to_le_bytes();
    let iov = [IoSlice::new(&bytes)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    sendmsg::<()>(socket.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)
        .map(drop)
        .map_err(io::Error::from)
}

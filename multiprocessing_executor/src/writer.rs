//! The single writer, as a process: with `--writer single`, one process of its own does every
//! write of the run, for every worker child, and commits them in groups.
//!
//! SQLite lets one connection write at a time (see `shared`'s `writes.rs`), so a run that
//! writes from many workers either lets them take turns at the database's write lock (`--writer
//! shared`: each child writes on its own connection) or hands every write to one writer. In a
//! program of threads that writer is a thread; here it has to be a process, because a thread
//! started in a worker child belongs to that child alone: N children would make N writers. So
//! the parent forks the writer **first**, while it still has one thread and before any worker
//! exists (the same rule as for the workers, in `lib.rs`; the writer itself is a new process
//! and may do anything after its fork). It opens its own connection to the run's scratch copy.
//!
//! **Transport: one Unix datagram socket**, bound to a path in the scratch copy's folder. Many
//! children send to one address, each message arrives whole or not at all, and nothing has to
//! be set up per child, which matters because children are forked after the writer, and again
//! in place of lost ones, so the writer never inherits anything of theirs. A pipe would carry
//! the requests as well, but not the answers, which must go back to the one child that asked:
//! each child binds a reply socket of its own (`child-PID.sock`) at its first write, and the
//! writer answers to the address each request came from. The parent binds the writer's socket
//! before the fork, so that it exists when the first child sends, and closes its copy after.
//!
//! **Group commit.** The writer waits for a request, then takes every other one already queued,
//! writes them all in one transaction with [`shared::commit_together`] (a savepoint per task,
//! so that a failed task is undone alone) and commits once: one sync to disk for the lot. Then
//! it answers each child. The more children are waiting to write, the more rows each commit
//! carries. The writer never blocks on one child: its socket is non-blocking, and an answer
//! that cannot be sent (its child was killed at its timeout) is dropped.
//!
//! **Its life.** It ends with the run and with its parent the way the workers do, by end of
//! file: the parent holds one end of a socket pair (the *control* stream), the writer polls the
//! other beside its requests, and the end of file comes when the parent shuts its end at the end
//! of the run, or when the parent dies, however it dies (the kernel closes a dead process's
//! descriptors). Every worker child closes its inherited copy of the parent's end, or that end
//! of file would wait for the last of them. On Linux the kernel also kills the writer when its
//! parent dies. Told to finish, the writer sends its tally (rows, transactions, memory) back
//! on the control stream and exits; the parent reaps it, and the report's notes give the tally.
//! A writer that dies mid-run (killed from outside) is not replaced: the writes waiting for its
//! answer time out, later ones fail at once ("cannot reach the writer process"), and a row it
//! had committed but not yet answered stays in the database though its task is not ok.
//!
//! **Faults.** `--inject crash` and `panic` strike in the worker child, before it hands the
//! write over (see `Writes::hand_over`): the writer never sees them. `error` and `hang` run in
//! the writer, inside the task's savepoint, so an error costs its own task; a hang, though,
//! holds up every write queued behind it until its deadline: that is the price of one writer.
//!
//! **`--writer lock`** needs no process: each child writes on its own connection, as with
//! `shared`, after taking one lock that every process of the run can see. A `Mutex`, what a
//! program of threads takes, cannot be that lock: each fork copies it, and every child would
//! take its own copy. So the lock is `flock` on a file beside the scratch copy
//! ([`lock_across_processes`]), opened by each write anew, since a descriptor opened before the
//! fork would be one lock shared by every child. A child that crashes holding it lets it go:
//! the kernel closes a dead process's files, and its transaction, never committed, is not
//! there.

use std::ffi::CStr;
use std::io::{self, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, fork, getpid};
use rusqlite::Connection;
use shared::{Answer, Clock, Error, Plan, SingleWriter, Status, Task, WriterKind, Writes};
use tracing::debug;

use crate::child::{self, BACKSTOP, Forked};
use crate::frames::{WriteAnswer, WriteRequest, WriterTally, frame, read_frame};
use crate::memory::ChildMemory;
use crate::notes::Notes;
use crate::platform;
use crate::process::{Process, describe};

/// The writer's socket, in the scratch copy's folder (removed with it after the run).
const WRITER_SOCKET: &str = "writer.sock";

/// The largest datagram sent or read: macOS caps a Unix datagram at 2 KiB by default
/// (`net.local.dgram.maxdgram`). A request is a few bytes; an answer is small unless it
/// carries an error message, which is cut to [`MAX_ERROR`].
const MAX_DATAGRAM: usize = 2048;
const MAX_ERROR: usize = 1024;

/// How `ps` and `top` name the writer on Linux; the workers keep the program's name.
const NAME: &CStr = c"sqlite-writer";

/// The writer process as the parent holds it: killed and reaped on drop (its [`Process`]),
/// unless [`WriterProcess::stop`] ended it first.
pub(crate) struct WriterProcess {
    pub process: Process,
    /// The parent's end of the control stream: shut, it tells the writer to finish.
    control: UnixStream,
    /// Where the writer's socket is, for the workers to send to.
    socket: PathBuf,
    clock: Clock,
}

impl WriterProcess {
    /// Forks the writer process, if the plan's writes go to a single writer; `None` if not.
    ///
    /// Called before any worker is forked, so that this process still has one thread and no
    /// child's pipes (see `Pool::fork_child` in `lib.rs` for why that matters). `clock` is the
    /// run's: the deadlines that the children send are offsets from it.
    pub fn fork_if_single(
        plan: &Plan,
        clock: Clock,
        death_signal: bool,
    ) -> shared::Result<Option<WriterProcess>> {
        if !plan.writes().is_some_and(|w| w.is_single()) {
            return Ok(None);
        }
        let Some(folder) = plan.database.scratch_folder() else {
            return Err(Error::system(
                "a single writer needs the run's scratch copy of the database, and this plan has none",
            ));
        };
        let system = |what: &str, e: &dyn std::fmt::Display| Error::system(format!("{what}: {e}"));
        let socket = folder.join(WRITER_SOCKET);
        // Left by an earlier run on the same plan, whose writer has ended: `bind` would refuse it.
        let _ = std::fs::remove_file(&socket);
        let requests = UnixDatagram::bind(&socket)
            .map_err(|e| system(&format!("cannot bind {}", socket.display()), &e))?;
        let (control, writers_end) = UnixStream::pair()
            .map_err(|e| system("cannot create the writer's control stream", &e))?;
        let parent = getpid();
        // SAFETY: `run` checked that this process has one thread, so the writer starts with every
        // lock free; it never returns from `serve_writes`, it ends with `_exit`.
        match unsafe { fork() }.map_err(|e| system("cannot fork the writer process", &e))? {
            ForkResult::Child => {
                drop(control);
                let forked = Forked {
                    plan,
                    clock,
                    parent,
                    death_signal,
                };
                serve_writes(forked, requests, writers_end)
            }
            ForkResult::Parent { child } => {
                // The writer's ends. The socket must go too: a worker forked later would inherit
                // it, and with it the writer's queue.
                drop(requests);
                drop(writers_end);
                Ok(Some(WriterProcess {
                    process: Process::new(child),
                    control,
                    socket,
                    clock,
                }))
            }
        }
    }

    /// The plan the worker children run: `plan`, with every write handed to this process.
    pub fn plan_for_workers(&self, plan: &Plan) -> Plan {
        let mut workers = plan.clone();
        // `fork_if_single` forked a writer only for a plan that writes.
        let settings = plan.writes().map(|w| w.settings).unwrap_or_default();
        let client = WriterClient {
            writer: self.socket.clone(),
            clock: self.clock,
            reply: OnceLock::new(),
        };
        workers.set_writes(Writes::elsewhere(settings, Box::new(client)));
        workers
    }

    /// The parent's end of the control stream, which every worker child inherits and must close
    /// (see `close_inherited` in `lib.rs`), so that the parent's death reaches the writer as end of
    /// file.
    pub fn parent_end(&self) -> RawFd {
        self.control.as_raw_fd()
    }

    /// Tells the writer to finish, reaps it, and puts in the report's notes what it did (its
    /// tally and memory) or how it ended without one.
    pub fn stop(self, bound: Duration, notes: &mut Notes) {
        let pid = self.process.pid;
        match self.stop_and_reap(bound) {
            (Some(tally), _) => {
                notes.memory(tally.memory);
                notes.writer(pid, &tally);
            }
            (None, status) => {
                notes.event(format!("the writer process pid {pid} {}", describe(status)))
            }
        }
    }

    /// Tells the writer to finish, and reaps it: its tally, if it sent one, and how it ended.
    /// It finishes the batch it is writing first, which its tasks' deadlines bound; past
    /// `bound`, it is killed.
    fn stop_and_reap(mut self, bound: Duration) -> (Option<WriterTally>, WaitStatus) {
        let _ = self.control.shutdown(Shutdown::Write);
        let _ = self.control.set_read_timeout(Some(bound));
        let tally = match read_frame::<WriterTally>(&mut self.control) {
            Ok(tally) => tally,
            // No answer within `bound`: it is stuck, and is killed.
            Err(_) => {
                self.process.kill();
                None
            }
        };
        (tally, self.process.reap())
    }
}

/// With `--writer lock`, the plan the children run: each write takes the lock file beside the
/// scratch copy instead of a `Mutex` of this process. `None` for any other writer.
pub fn lock_across_processes(plan: &Plan) -> Option<Plan> {
    let writes = plan
        .writes()
        .filter(|w| w.settings.writer == WriterKind::Lock)?;
    let mut children = plan.clone();
    children.set_writes(Writes::for_processes(writes.settings, &plan.database));
    Some(children)
}

/// The writer's whole life, from the fork to `_exit`. Like a worker child (see
/// `child::serve_jobs`), it never returns: it would run the parent's code.
fn serve_writes(forked: Forked<'_>, requests: UnixDatagram, control: UnixStream) -> ! {
    child::exit_after(|| serve(forked, requests, control))
}

fn serve(forked: Forked<'_>, requests: UnixDatagram, mut control: UnixStream) -> i32 {
    platform::name_this_process(NAME);
    // As a worker child does: the writer must not outlive its parent.
    if !forked.still_with_parent() || requests.set_nonblocking(true).is_err() {
        return 1;
    }
    let Forked { plan, clock, .. } = forked;
    // Without a connection the writer still answers, so that no child waits for nothing.
    let conn = plan
        .database
        .open()
        .map_err(|e| format!("the writer process has no connection: {e}"));
    let mut tally = WriterTally::default();
    loop {
        let mut fds = [
            PollFd::new(requests.as_fd(), PollFlags::POLLIN),
            PollFd::new(control.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return 1,
        }
        let asked = fds[0].any().unwrap_or(false);
        // The parent never writes on the control stream: readable means end of file (the run
        // is over, or the parent is gone), and so does an error or a hang-up.
        let stopping = fds[1].any().unwrap_or(true);
        if asked {
            let batch = take_queued(plan, &requests);
            write_and_answer(plan, clock, &conn, &requests, &batch, &mut tally);
        }
        if stopping {
            break;
        }
    }
    drop(conn);
    tally.memory = ChildMemory::own();
    // Nobody reads it if the parent is gone, and that is fine.
    let _ = control.write_all(&frame(&tally));
    0
}

/// One request taken off the writer's socket, with where to send the answer.
struct Queued {
    request: WriteRequest,
    from: PathBuf,
}

/// Every request queued on the socket now, in the order they came: the next batch.
///
/// On Linux a Unix datagram socket queues at most `net.unix.max_dgram_qlen` datagrams (10 by
/// default); a child that finds the queue full waits in `send_to` until this loop makes room,
/// and its request may still join this batch.
fn take_queued(plan: &Plan, requests: &UnixDatagram) -> Vec<Queued> {
    let mut batch = Vec::new();
    let mut buffer = [0u8; MAX_DATAGRAM];
    loop {
        let (length, from) = match requests.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // `WouldBlock`: the queue is empty.
            Err(_) => break,
        };
        let request: Option<WriteRequest> = postcard::from_bytes(&buffer[..length]).ok();
        // Only the run's children send here: a datagram that does not decode, names no task
        // of the run or comes from no address to answer is dropped.
        let from = from.as_pathname().map(Path::to_path_buf);
        if let (Some(request), Some(from)) = (request, from)
            && request.task >= 1
            && request.task <= plan.workload.tasks.len()
        {
            batch.push(Queued { request, from });
        }
    }
    batch
}

/// Writes `batch` in one transaction and answers each child.
fn write_and_answer(
    plan: &Plan,
    clock: Clock,
    conn: &Result<Connection, String>,
    requests: &UnixDatagram,
    batch: &[Queued],
    tally: &mut WriterTally,
) {
    if batch.is_empty() {
        return;
    }
    let tasks: Vec<(&Task, Instant)> = batch
        .iter()
        .map(|q| {
            let task = &plan.workload.tasks[q.request.task - 1];
            (task, clock.at(q.request.deadline))
        })
        .collect();
    let hold = plan.writes().map_or(Duration::ZERO, |w| w.settings.hold);
    let statuses = match conn {
        Ok(conn) => shared::commit_together(conn, &tasks, hold),
        Err(why) => vec![Status::Failed(why.clone()); batch.len()],
    };
    tally.commits.record(&statuses);
    debug!(tasks = batch.len(), "the writer committed a batch");
    for (queued, status) in batch.iter().zip(statuses) {
        let answer = WriteAnswer {
            task: queued.request.task,
            status: cut_to_fit(status).into(),
        };
        // Our own plain struct always serialises.
        let bytes = postcard::to_stdvec(&answer).expect("an answer serialises");
        // An answer that cannot be sent is dropped: its child was killed (at its timeout,
        // or from outside) and its socket has no reader, or it is not reading.
        let _ = requests.send_to(&bytes, &queued.from);
    }
}

/// The status, with an error message cut to [`MAX_ERROR`] bytes so that its answer fits in one
/// datagram.
fn cut_to_fit(status: Status) -> Status {
    match status {
        Status::Failed(mut message) if message.len() > MAX_ERROR => {
            let mut end = MAX_ERROR;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
            Status::Failed(message)
        }
        other => other,
    }
}

/// How a worker child reaches the writer process: the [`SingleWriter`] of the workers' plan.
/// Each child binds its reply socket at its first write, and keeps it for the rest of its
/// life: a `OnceLock` in the child's own memory (the parent never writes, so never binds one,
/// and each child starts from the parent's empty copy).
struct WriterClient {
    writer: PathBuf,
    clock: Clock,
    reply: OnceLock<Result<UnixDatagram, String>>,
}

impl SingleWriter for WriterClient {
    fn submit(&self, task: &Task, deadline: Instant, answer: Answer) {
        answer(self.write(task.id, deadline));
    }
}

impl WriterClient {
    /// Sends the write of `task` to the writer and waits for its answer, until `deadline`.
    ///
    /// `deadline` is the child's own, which is its parent's timeout plus [`BACKSTOP`] (see
    /// `child.rs`); the writer is given the timeout itself, so that it does not write a row
    /// for a task whose child is killed. Not exactly: the parent counts the timeout from a
    /// moment before the child starts the task, so a child can still be killed while the writer
    /// commits its row, and that row is then in the database though the task is reported timed
    /// out. The window is the time between the parent's dispatch and the child's start,
    /// microseconds; it is left open rather than closed with a second round trip per write.
    fn write(&self, task: usize, deadline: Instant) -> Status {
        let socket = match self.reply.get_or_init(|| self.bind_reply_socket()) {
            Ok(socket) => socket,
            Err(why) => return Status::Failed(why.clone()),
        };
        let last_moment = deadline.checked_sub(BACKSTOP).unwrap_or(deadline);
        let request = WriteRequest {
            task,
            deadline: last_moment.saturating_duration_since(self.clock.at(Duration::ZERO)),
        };
        // Our own plain struct always serialises.
        let bytes = postcard::to_stdvec(&request).expect("a request serialises");
        // A zero timeout is refused by the socket (it would mean "none"): one millisecond at least.
        let left = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        loop {
            let _ = socket.set_write_timeout(Some(left()));
            match socket.send_to(&bytes, &self.writer) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The writer's queue stayed full until the deadline.
                Err(e) if is_timeout(&e) => return Status::TimedOut,
                Err(e) => {
                    return Status::Failed(format!("cannot reach the writer process: {e}"));
                }
            }
        }
        let mut buffer = [0u8; MAX_DATAGRAM];
        loop {
            if Instant::now() >= deadline {
                return Status::TimedOut;
            }
            let _ = socket.set_read_timeout(Some(left()));
            match socket.recv(&mut buffer) {
                Ok(length) => match postcard::from_bytes::<WriteAnswer>(&buffer[..length]) {
                    Ok(answer) if answer.task == task => return answer.status.into(),
                    // A late answer to an earlier write, which this child gave up on at its
                    // deadline (or to an earlier child with this pid): not this one's.
                    _ => continue,
                },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => return Status::TimedOut,
                Err(e) => return Status::Failed(format!("no answer from the writer process: {e}")),
            }
        }
    }

    /// This child's socket for the writer's answers, next to the writer's.
    fn bind_reply_socket(&self) -> Result<UnixDatagram, String> {
        let folder = self.writer.parent().unwrap_or(Path::new("."));
        let path = folder.join(format!("child-{}.sock", std::process::id()));
        // Left by an earlier child with the same pid, which is gone: pids are reused.
        let _ = std::fs::remove_file(&path);
        UnixDatagram::bind(&path).map_err(|e| format!("cannot bind {}: {e}", path.display()))
    }
}

/// Whether a socket's time-out ran out (`WouldBlock` on Unix, `TimedOut` elsewhere).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

//! Writes: SQLite lets one connection write at a time, whatever the concurrency method.
//!
//! Reads run side by side, each on its own connection. Writes do not: a write
//! transaction holds the database's one write lock from its first write to its commit, and
//! every other connection that wants to write waits for it (up to its `busy_timeout`) or fails
//! with "database is locked". More writers therefore make SQLite slower, not faster: they take
//! turns at the lock and each commit pays its own sync to disk. This file has the two ways a
//! program can live with that, chosen with `--writer`:
//!
//! - **`shared`**: every worker writes on its own connection, in its own transaction, and the
//!   lock decides who goes next. Correct only with a busy timeout (without one, a writer that
//!   finds the lock taken fails at once) and with `BEGIN IMMEDIATE`, which takes the lock at
//!   the start. With `BEGIN DEFERRED` a transaction that first reads and then writes asks for
//!   the lock only at its first write; if another writer has committed since its read began,
//!   its snapshot is stale and SQLite fails it at once, busy timeout or not.
//! - **`single`**: one connection on a thread of its own (in the multiprocessing program, a
//!   process) does every write, fed through a channel. It takes what is queued, writes it all in
//!   one transaction (a savepoint per task, so a failed task is undone alone) and commits once:
//!   a *group commit*. Each task is answered when its row is committed. The more producers, the
//!   more rows each commit carries, and the cheaper each row.
//! - **`lock`**: every worker writes on its own connection, as with `shared`, but first takes
//!   one lock of the program's own, and gives it back after its `COMMIT`. The writers then
//!   queue on that lock, and a worker is woken the moment the one before it commits. With
//!   `shared` they queue in SQLite's busy handler instead, which does not wait for the lock to
//!   come free: it sleeps (1 ms, then 2, 5, 10 and on up to 100 ms between tries) and tries
//!   again, so a writer often sleeps on after the lock is free, and the more writers, the longer
//!   the sleeps. Threads share a `Mutex`; processes, which share no memory, `flock` a file
//!   beside the scratch copy. Async awaits a tokio `Mutex` of its own (`async_executor`'s
//!   `writer.rs`).
//!
//! `--hold-ms` makes each write transaction wait after its first statement, the write lock held:
//! what code that awaits something else inside a transaction does. Every other writer waits
//! through that wait too, whichever the writer.
//!
//! A writing run never touches the database it was given: [`Database::scratch_copy`] copies it
//! into a temporary folder, which is removed after the run, and every connection of the run
//! opens the copy. Faults still cost one task: a task that fails or panics mid-transaction is
//! rolled back, and a process that crashes mid-transaction leaves nothing behind, since SQLite
//! ignores what a transaction wrote until it commits.
//!
//! The settings are plain data in `write_settings`; the [`Writes`] a writing task carries, and
//! the [`SingleWriter`] it may hand its write to, are defined beside [`Task`] in `workload`,
//! since a task holds one and a writer takes tasks. What they do is here.
//!
//! The measured figures are in the writes table that `scripts/compare.sh` writes (`writes.md`).
//!
//! [`Database::scratch_copy`]: crate::database::Database::scratch_copy

use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::database::Database;
use crate::sql::{Step, Steps, raise_injected_fault, run_write, status_of};
use crate::status::{GroupCommits, Status};
use crate::workload::{Answer, SingleWriter, Task, WriteLock, Writes};
use crate::write_settings::{Begin, WriteSettings, WriterKind};

/// What a `--begin deferred` task reads before it writes, as real code reads before it updates.
const READ_BEFORE_WRITE: &str = "SELECT max(id) FROM task_writes";

impl Writes {
    /// The writes of a run on `database` (its scratch copy) with these settings.
    pub fn new(settings: WriteSettings, database: &Database) -> Writes {
        let single: Option<Box<dyn SingleWriter>> = match settings.writer {
            WriterKind::Single => Some(Box::new(OnFirstWrite {
                database: database.clone(),
                hold: settings.hold,
                writer: OnceLock::new(),
            })),
            WriterKind::Shared | WriterKind::Lock => None,
        };
        let lock =
            (settings.writer == WriterKind::Lock).then(|| WriteLock::Threads(Mutex::new(())));
        Writes {
            settings,
            single,
            lock,
        }
    }

    /// The same writes, for workers that are processes: `--writer lock` takes a lock file
    /// beside the scratch copy, since a `Mutex` in one process excludes nobody in another.
    pub fn for_processes(settings: WriteSettings, database: &Database) -> Writes {
        let mut writes = Writes::new(settings, database);
        if writes.lock.is_some() {
            let mut path = database.path().as_os_str().to_owned();
            path.push(".write-lock");
            writes.lock = Some(WriteLock::Processes(PathBuf::from(path)));
        }
        writes
    }

    /// The same writes, with `--writer lock`'s lock left to the method, which takes one of its
    /// own around each write (async awaits a tokio `Mutex`).
    pub fn locked_by_the_method(settings: WriteSettings) -> Writes {
        Writes {
            settings,
            single: None,
            lock: None,
        }
    }

    /// The same settings, every worker writing on its own connection: the sequential baseline.
    pub fn shared(settings: WriteSettings) -> Writes {
        Writes {
            settings: WriteSettings {
                writer: WriterKind::Shared,
                ..settings
            },
            single: None,
            lock: None,
        }
    }

    /// The same settings, with the single writer somewhere else (another process).
    pub fn elsewhere(settings: WriteSettings, writer: Box<dyn SingleWriter>) -> Writes {
        Writes {
            settings,
            single: Some(writer),
            lock: None,
        }
    }

    /// What this process's writer thread did, if it wrote anything: for the report's notes.
    pub fn group_commits(&self) -> Option<GroupCommits> {
        self.single.as_ref()?.group_commits()
    }

    /// Whether writes go to a single writer rather than the worker's own connection.
    pub fn is_single(&self) -> bool {
        self.single.is_some()
    }

    /// Runs a writing task on `conn` (shared, or after taking the lock) or hands it to the
    /// single writer and waits for its answer. What [`crate::execute`] does with a task that
    /// writes.
    pub(crate) fn execute(&self, conn: &Connection, task: &Task, deadline: Instant) -> Status {
        if self.is_single() {
            return self.hand_over(task, deadline);
        }
        // Given back when this returns, after the commit (or the rollback, or as a panic
        // unwinds through here).
        let _turn = match self.lock.as_ref().map(WriteLock::take).transpose() {
            Ok(turn) => turn,
            Err(e) => return Status::Failed(format!("cannot take the write lock: {e}")),
        };
        if Instant::now() >= deadline {
            return Status::TimedOut;
        }
        status_of(self.in_own_transaction(conn, task, deadline))
    }

    /// Hands a writing task to the single writer and blocks until it is written: how a thread
    /// or a process waits. The worker needs no connection of its own for it.
    pub fn hand_over(&self, task: &Task, deadline: Instant) -> Status {
        let (tx, rx) = mpsc::sync_channel(1);
        self.hand_over_with(
            task,
            deadline,
            Box::new(move |status| {
                // The worker waits on `rx` until answered, so the send finds it there.
                let _ = tx.send(status);
            }),
        );
        rx.recv()
            .unwrap_or_else(|_| Status::Failed("the writer ended before answering".to_string()))
    }

    /// [`Writes::hand_over`] without the blocking: the worker running `task` hands it over and
    /// returns at once, and `answer` is called once it is written. For a method that waits its
    /// own way (async awaits a oneshot channel).
    ///
    /// Called by the worker's own code, so the task's injected panic or crash strikes here,
    /// before the write is handed over, as it does in `hand_over`. Code that hands over writes
    /// on other workers' behalf (a relay) uses [`Writes::submit`], which raises no fault.
    pub fn hand_over_with(&self, task: &Task, deadline: Instant, answer: Answer) {
        raise_injected_fault(task);
        if Instant::now() >= deadline {
            return answer(Status::TimedOut);
        }
        self.submit(task, deadline, answer);
    }

    /// Hands a writing task to the single writer; `answer` is called once it is committed (or
    /// failed). No fault of the task is raised here: see [`Writes::hand_over_with`].
    ///
    /// With `--writer shared` there is no single writer: the task is answered with an error.
    pub fn submit(&self, task: &Task, deadline: Instant, answer: Answer) {
        match &self.single {
            None => answer(Status::Failed(
                "this run has no single writer (--writer shared)".to_string(),
            )),
            Some(writer) => writer.submit(task, deadline, answer),
        }
    }

    /// One task, in a transaction of its own on the worker's connection: `--writer shared`.
    fn in_own_transaction(
        &self,
        conn: &Connection,
        task: &Task,
        deadline: Instant,
    ) -> rusqlite::Result<Option<(u64, u64)>> {
        let behavior = match self.settings.begin {
            Begin::Deferred => TransactionBehavior::Deferred,
            Begin::Immediate => TransactionBehavior::Immediate,
        };
        // Rolled back when dropped without a commit: on an error, a timeout, or a panic that
        // unwinds through here.
        let transaction = Transaction::new_unchecked(conn, behavior)?;
        if self.settings.begin == Begin::Deferred {
            conn.query_row(READ_BEFORE_WRITE, [], |_| Ok(()))?;
        }
        let written = run_write(conn, task, deadline, self.settings.hold)?;
        // An injected panic or crash strikes mid-transaction, after the write and before the
        // commit: the panic rolls the transaction back as it unwinds, and a crashed process
        // leaves a transaction SQLite never counts.
        raise_injected_fault(task);
        if written.is_some() {
            transaction.commit()?;
        }
        Ok(written)
    }
}

impl fmt::Debug for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writes")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// `--writer single` in this process: a writer thread, started at the first write and joined
/// when the run's plan is dropped.
struct OnFirstWrite {
    database: Database,
    hold: Duration,
    writer: OnceLock<WriterThread>,
}

impl SingleWriter for OnFirstWrite {
    fn submit(&self, task: &Task, deadline: Instant, answer: Answer) {
        self.writer
            .get_or_init(|| WriterThread::start(self.database.clone(), self.hold))
            .submit(task, deadline, answer);
    }

    fn group_commits(&self) -> Option<GroupCommits> {
        let writer = self.writer.get()?;
        Some(
            *writer
                .commits
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

/// One write waiting for the single writer.
struct Request {
    /// The task without its `writes`, so that a request never keeps the writer itself alive.
    task: Task,
    deadline: Instant,
    answer: Answer,
}

/// The single writer of a process: a thread with its own connection, fed through a channel.
struct WriterThread {
    /// `Err` holds why the thread could not start: every write is then refused with it.
    requests: std::result::Result<Sender<Request>, String>,
    thread: Option<JoinHandle<()>>,
    commits: Arc<Mutex<GroupCommits>>,
}

impl WriterThread {
    fn start(database: Database, hold: Duration) -> WriterThread {
        let (requests, queue) = mpsc::channel();
        let commits = Arc::new(Mutex::new(GroupCommits::default()));
        let counted = Arc::clone(&commits);
        match std::thread::Builder::new()
            .name("writer".to_string())
            .spawn(move || serve(&database, hold, &queue, &counted))
        {
            Ok(thread) => WriterThread {
                requests: Ok(requests),
                thread: Some(thread),
                commits,
            },
            Err(e) => WriterThread {
                requests: Err(format!("cannot start the writer thread: {e}")),
                thread: None,
                commits,
            },
        }
    }

    fn submit(&self, task: &Task, deadline: Instant, answer: Answer) {
        let request = Request {
            task: Task {
                writes: None,
                ..task.clone()
            },
            deadline,
            answer,
        };
        match &self.requests {
            Ok(requests) => {
                // The writer's loop ends only when this sender is dropped, so it is there.
                if let Err(mpsc::SendError(request)) = requests.send(request) {
                    (request.answer)(Status::Failed("the writer has stopped".to_string()));
                }
            }
            Err(why) => (request.answer)(Status::Failed(why.clone())),
        }
    }
}

impl Drop for WriterThread {
    /// Closes the channel, which ends the writer's loop, and waits for it.
    fn drop(&mut self) {
        self.requests = Err("the run is over".to_string());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer's loop: waits for a request, takes every other one already queued, commits them
/// together, answers each, and starts again; it ends when the channel closes.
fn serve(
    database: &Database,
    hold: Duration,
    queue: &Receiver<Request>,
    commits: &Mutex<GroupCommits>,
) {
    let conn = match database.open() {
        Ok(conn) => conn,
        Err(e) => {
            for request in queue {
                (request.answer)(Status::Failed(format!("the writer has no connection: {e}")));
            }
            return;
        }
    };
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter());
        let pending: Vec<(&Task, Instant)> = batch.iter().map(|r| (&r.task, r.deadline)).collect();
        let statuses = commit_together(&conn, &pending, hold);
        commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(&statuses);
        for (request, status) in batch.into_iter().zip(statuses) {
            (request.answer)(status);
        }
    }
}

/// A writer's turn: the lock is given back when this is dropped (closing the file lets go of
/// its `flock`, and the kernel does the same for a process that crashed).
pub(crate) enum Turn<'a> {
    Threads(#[allow(dead_code)] MutexGuard<'a, ()>),
    Processes(#[allow(dead_code)] File),
}

impl WriteLock {
    /// Waits for the lock. A writer that panicked holding the `Mutex` has rolled its
    /// transaction back as it unwound, so the lock, which guards nothing but the turn, is
    /// still good.
    pub(crate) fn take(&self) -> std::io::Result<Turn<'_>> {
        match self {
            WriteLock::Threads(mutex) => Ok(Turn::Threads(
                mutex.lock().unwrap_or_else(PoisonError::into_inner),
            )),
            WriteLock::Processes(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(path)?;
                file.lock()?;
                Ok(Turn::Processes(file))
            }
        }
    }
}

/// A write transaction between its two steps: begun, its first statement run, not committed.
/// See [`Writes::begin_in_steps`].
pub struct OpenWrite {
    steps: Steps,
}

impl Writes {
    /// A write in a transaction of its own on `conn`, in two steps, for a method that waits
    /// between them its own way: async `.await`s `--hold-ms` on the event loop between two calls
    /// on its connection, as code that awaits inside an sqlx transaction does. This step begins
    /// the transaction and runs the task's first statement; [`Writes::finish_in_steps`] runs the
    /// rest and commits. `Err` is the task's outcome, with the transaction rolled back.
    ///
    /// The connection stays in the transaction between the two calls: the caller must keep it
    /// for this task alone, and call `finish_in_steps` whatever happens meanwhile.
    pub fn begin_in_steps(
        &self,
        conn: &Connection,
        task: &Task,
        deadline: Instant,
    ) -> Result<OpenWrite, Status> {
        if Instant::now() >= deadline {
            return Err(Status::TimedOut);
        }
        let undo = Undo::begin(conn, self.settings.begin).map_err(|e| status_of(Err(e)))?;
        let mut steps = Steps::new(conn, task);
        let begun = (|| {
            if self.settings.begin == Begin::Deferred {
                conn.query_row(READ_BEFORE_WRITE, [], |_| Ok(()))?;
            }
            steps.run(conn, task, deadline, Step::First)
        })();
        match begun {
            Ok(true) => {
                undo.keep_open();
                Ok(OpenWrite { steps })
            }
            Ok(false) => Err(Status::TimedOut),
            Err(e) => Err(status_of(Err(e))),
        }
    }

    /// The second step of [`Writes::begin_in_steps`]: the rest of the task's statements, its
    /// injected fault, and the commit; rolled back on any failure, the deadline or a panic.
    pub fn finish_in_steps(
        &self,
        conn: &Connection,
        task: &Task,
        open: OpenWrite,
        deadline: Instant,
    ) -> Status {
        let undo = Undo(conn);
        let mut steps = open.steps;
        let result = (|| {
            if Instant::now() >= deadline || !steps.run(conn, task, deadline, Step::Rest)? {
                return Ok(None);
            }
            let written = steps.finish(conn, task)?;
            raise_injected_fault(task);
            conn.execute_batch("COMMIT")?;
            undo.keep_open();
            Ok(Some(written))
        })();
        status_of(result)
    }
}

/// Rolls back the transaction open on a connection when dropped, unless told to keep it: a
/// transaction that spans two calls cannot be a rusqlite `Transaction`, which borrows its
/// connection for one.
struct Undo<'c>(&'c Connection);

impl<'c> Undo<'c> {
    fn begin(conn: &'c Connection, begin: Begin) -> rusqlite::Result<Undo<'c>> {
        conn.execute_batch(match begin {
            Begin::Deferred => "BEGIN DEFERRED",
            Begin::Immediate => "BEGIN IMMEDIATE",
        })?;
        Ok(Undo(conn))
    }

    /// The transaction goes on (or has committed): nothing to undo.
    fn keep_open(self) {
        std::mem::forget(self);
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

/// Group commit: writes every task of `batch` in one transaction, each in a savepoint of its
/// own, and commits once. A task that fails (or passes its deadline) is rolled back to its
/// savepoint and the others go on; if the commit itself fails, every task that had written
/// fails with it, so that nothing is reported written that is not in the database.
///
/// Injected errors and hangs happen here, in the writer; panics and crashes happen in the
/// worker, before the task is handed over.
///
/// With `--hold-ms`, each task waits `hold` after its first statement, as it would in a
/// transaction of its own: the writer waits them out one after another.
pub fn commit_together(
    conn: &Connection,
    batch: &[(&Task, Instant)],
    hold: Duration,
) -> Vec<Status> {
    let transaction = match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(e) => return vec![Status::Failed(e.to_string()); batch.len()],
    };
    let mut statuses = Vec::with_capacity(batch.len());
    for &(task, deadline) in batch {
        if Instant::now() >= deadline {
            statuses.push(Status::TimedOut);
            continue;
        }
        let status = match conn.execute_batch("SAVEPOINT task") {
            Err(e) => Status::Failed(e.to_string()),
            Ok(()) => status_of(run_write(conn, task, deadline, hold)),
        };
        let end = if status.is_ok() {
            "RELEASE task"
        } else {
            "ROLLBACK TO task; RELEASE task"
        };
        match conn.execute_batch(end) {
            Ok(()) => statuses.push(status),
            Err(e) => statuses.push(Status::Failed(e.to_string())),
        }
    }
    if let Err(e) = transaction.commit() {
        for status in statuses.iter_mut().filter(|s| s.is_ok()) {
            *status = Status::Failed(format!("the group commit failed: {e}"));
        }
    }
    statuses
}

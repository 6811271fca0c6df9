//! Writes: SQLite lets one connection write at a time, whatever the concurrency method.
//!
//! Reads run side by side on as many connections as there are cores. Writes do not: a write
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
//!
//! A writing run never touches the database it was given: [`Database::scratch_copy`] copies it
//! into a temporary folder, which is removed after the run, and every connection of the run
//! opens the copy. Faults still cost one task: a task that fails or panics mid-transaction is
//! rolled back, and a process that crashes mid-transaction leaves nothing behind, since SQLite
//! ignores what a transaction wrote until it commits.
//!
//! The measured figures are in the README's writes table, produced by `scripts/compare.sh`.
//!
//! [`Database::scratch_copy`]: crate::fixture::Database::scratch_copy

use std::fmt;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::fixture::Database;
use crate::task::{Status, raise_injected_fault, run_sql, status_of};
use crate::workload::Task;

/// The table every writing run gets in its scratch copy. The `writes` preset inserts into it,
/// and after the run a fresh connection counts its rows (`rows_in_db_after` in the report).
pub const TABLE: &str = "task_writes";

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS task_writes (
    id      INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    payload TEXT NOT NULL
)";

/// What a `--begin deferred` task reads before it writes, as real code reads before it updates.
const READ_BEFORE_WRITE: &str = "SELECT max(id) FROM task_writes";

/// How a write transaction starts (`--begin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Begin {
    /// `BEGIN DEFERRED`, SQLite's default: the write lock is asked for at the first write.
    Deferred,
    /// `BEGIN IMMEDIATE`: the write lock is taken (or waited for) at the start.
    #[default]
    Immediate,
}

/// `PRAGMA synchronous` (`--synchronous`): what a commit waits for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// SQLite's default: every commit is on disk before it returns (an `fsync` per commit).
    #[default]
    Full,
    /// In WAL mode, commits are synced at checkpoints only: a power cut may lose the last few,
    /// never corrupt the file.
    Normal,
}

/// Who writes (`--writer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WriterKind {
    /// Every worker writes on its own connection.
    #[default]
    Shared,
    /// One writer, fed through a channel, commits what is queued in one transaction.
    Single,
}

/// The write flags of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSettings {
    pub busy_timeout: Duration,
    pub begin: Begin,
    pub synchronous: Synchronous,
    pub writer: WriterKind,
}

impl Default for WriteSettings {
    /// rusqlite's busy timeout (5 s), `BEGIN IMMEDIATE`, SQLite's `synchronous`, shared writers.
    fn default() -> WriteSettings {
        WriteSettings {
            busy_timeout: Duration::from_secs(5),
            begin: Begin::Immediate,
            synchronous: Synchronous::Full,
            writer: WriterKind::Shared,
        }
    }
}

/// How a task is answered by a single writer: called once, with its status, after the commit.
pub type Answer = Box<dyn FnOnce(Status) + Send>;

/// A single writer somewhere else than a thread of this process: the multiprocessing program's
/// writer process. `submit` hands it a task and returns; `answer` is called once it is written.
pub trait SingleWriter: Send + Sync {
    fn submit(&self, task: &Task, deadline: Instant, answer: Answer);
}

/// How the writing tasks of a run write: the settings, and where a single writer lives. Every
/// writing task holds one (`Task::writes`), so that whichever method runs it, [`crate::execute`]
/// finds its way to the database.
pub struct Writes {
    pub settings: WriteSettings,
    path: WritePath,
}

enum WritePath {
    /// Each worker writes on the connection it runs the task on.
    Shared,
    /// A thread of this process, started at the first write and joined when the run's plan is
    /// dropped.
    Thread {
        database: Database,
        writer: OnceLock<WriterThread>,
    },
    /// Somewhere else (another process).
    Elsewhere(Box<dyn SingleWriter>),
}

impl fmt::Debug for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writes")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Writes {
    /// The writes of a run on `database` (its scratch copy) with these settings.
    pub fn new(settings: WriteSettings, database: &Database) -> Writes {
        let path = match settings.writer {
            WriterKind::Shared => WritePath::Shared,
            WriterKind::Single => WritePath::Thread {
                database: database.clone(),
                writer: OnceLock::new(),
            },
        };
        Writes { settings, path }
    }

    /// The same settings, every worker writing on its own connection: the sequential baseline.
    pub fn shared(settings: WriteSettings) -> Writes {
        Writes {
            settings: WriteSettings {
                writer: WriterKind::Shared,
                ..settings
            },
            path: WritePath::Shared,
        }
    }

    /// The same settings, with the single writer somewhere else.
    pub fn elsewhere(settings: WriteSettings, writer: Box<dyn SingleWriter>) -> Writes {
        Writes {
            settings,
            path: WritePath::Elsewhere(writer),
        }
    }

    /// What this process's writer thread did, if it wrote anything: for the report's notes.
    pub fn group_commits(&self) -> Option<GroupCommits> {
        match &self.path {
            WritePath::Thread { writer, .. } => writer
                .get()
                .map(|w| *w.commits.lock().unwrap_or_else(PoisonError::into_inner)),
            _ => None,
        }
    }

    /// Whether writes go to a single writer rather than the worker's own connection.
    pub fn is_single(&self) -> bool {
        !matches!(self.path, WritePath::Shared)
    }

    /// Runs a writing task on `conn` (shared) or hands it to the single writer and waits for
    /// its answer. What [`crate::execute`] does with a task that writes.
    pub(crate) fn execute(&self, conn: &Connection, task: &Task, deadline: Instant) -> Status {
        if self.is_single() {
            return self.hand_over(task, deadline);
        }
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
        match &self.path {
            WritePath::Shared => answer(Status::Failed(
                "this run has no single writer (--writer shared)".to_string(),
            )),
            WritePath::Thread { database, writer } => writer
                .get_or_init(|| WriterThread::start(database.clone()))
                .submit(task, deadline, answer),
            WritePath::Elsewhere(writer) => writer.submit(task, deadline, answer),
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
        let written = run_sql(conn, task, deadline)?;
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

/// What a single writer did over a run: the report's note on it, for a thread and a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupCommits {
    /// Rows committed: those of the tasks answered ok.
    pub rows: u64,
    /// Transactions, one per batch: each is one commit, whatever the number of tasks in it.
    pub transactions: u64,
    /// The most tasks one transaction carried.
    pub largest_batch: usize,
}

impl GroupCommits {
    /// Counts one batch, from the statuses [`commit_together`] gave its tasks.
    pub fn record(&mut self, statuses: &[Status]) {
        self.transactions += 1;
        self.largest_batch = self.largest_batch.max(statuses.len());
        for status in statuses {
            if let Status::Ok { rows, .. } = status {
                self.rows += rows;
            }
        }
    }

    /// One sentence for the report: `writer` is who wrote ("one writer thread").
    pub fn sentence(&self, writer: &str) -> String {
        let per_commit = if self.transactions > 0 {
            self.rows as f64 / self.transactions as f64
        } else {
            0.0
        };
        let most = match self.largest_batch {
            1 => "1 task".to_string(),
            n => format!("{n} tasks"),
        };
        format!(
            "{writer} committed {} rows in {} transactions: {per_commit:.1} rows a commit on \
             average, at most {most} in one",
            self.rows, self.transactions
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
    fn start(database: Database) -> WriterThread {
        let (requests, queue) = mpsc::channel();
        let commits = Arc::new(Mutex::new(GroupCommits::default()));
        let counted = Arc::clone(&commits);
        match std::thread::Builder::new()
            .name("writer".to_string())
            .spawn(move || serve(&database, &queue, &counted))
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
fn serve(database: &Database, queue: &Receiver<Request>, commits: &Mutex<GroupCommits>) {
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
        let statuses = commit_together(&conn, &pending);
        commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(&statuses);
        for (request, status) in batch.into_iter().zip(statuses) {
            (request.answer)(status);
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
pub fn commit_together(conn: &Connection, batch: &[(&Task, Instant)]) -> Vec<Status> {
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
            Ok(()) => status_of(run_sql(conn, task, deadline)),
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

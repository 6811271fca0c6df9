//! Running one task: its SQL, the program's work on the rows, its deadline, its faults.
//!
//! Every method runs a task's SQL through [`execute`], so the rows count and the checksum of a
//! task are the same whichever method ran it, and each report can be checked against the
//! sequential baseline. What differs between methods is everything around it: who waits the
//! task's latency and how, which thread or process runs the SQL, and how the outcome gets back.
//!
//! A deadline is enforced on the SQL itself with SQLite's progress handler: every few thousand
//! virtual-machine steps SQLite asks whether to go on, and past the deadline the answer is no,
//! so the statement stops with `SQLITE_INTERRUPT`. That is how a query that would run forever
//! is stopped even where the thread running it cannot be (a thread cannot be killed).

use std::any::Any;
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, params_from_iter};

use crate::workload::{Fault, Param, Task};

/// How often, in SQLite virtual-machine steps, the progress handler checks the deadline: about
/// every few microseconds, for a check that costs tens of nanoseconds.
const PROGRESS_STEPS: i32 = 2_000;

/// The SQL an injected `error` runs instead of the task's: it fails on preparation.
const ERROR_SQL: &str = "SELECT * FROM injected_error_no_such_table";
/// The SQL an injected `hang` runs: a recursive count that never ends on its own.
const HANG_SQL: &str = "WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever) SELECT count(*) FROM forever";

/// The start of a run: every time in a report is an offset from it.
///
/// `Instant` is the monotonic clock, shared by every thread and, after `fork()`, by every child
/// process, so offsets taken anywhere in a run can be drawn on one timeline.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Time since the start of the run.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// The instant at `offset` from the start of the run.
    pub fn at(&self, offset: Duration) -> Instant {
        self.start + offset
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The query ran to the end: how many rows, and a digest of every value in them.
    Ok { rows: u64, checksum: u64 },
    /// The query or the code running it failed, with the reason.
    Failed(String),
    /// The task ran past its timeout and was stopped.
    TimedOut,
    /// The task never started (the run ended first, or its worker was lost before it).
    NotRun,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Ok { .. } => "ok",
            Status::Failed(_) => "failed",
            Status::TimedOut => "timed_out",
            Status::NotRun => "not_run",
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Ok { .. })
    }

    /// How a task ends whose code panicked, for every method that catches the panic.
    pub fn panicked(payload: &(dyn Any + Send)) -> Status {
        Status::Failed(format!("panicked: {}", panic_message(payload)))
    }
}

/// One task's run on a worker: when it started, when its SQL started (after the latency), when
/// it finished, and how it ended. Offsets from the run's [`Clock`].
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub started: Duration,
    /// `None` when the task never reached its SQL (it timed out while waiting, or panicked).
    pub sql_started: Option<Duration>,
    pub finished: Duration,
    pub status: Status,
}

/// Runs a task start to finish on the calling thread, the way every blocking method does:
/// waits its latency with a blocking sleep (the thread does nothing else meanwhile: that is the
/// cost async avoids), then runs its SQL on `conn` with [`execute`].
///
/// The timeout counts from the start of the task, latency included: a wait that would end past
/// the deadline is cut short and the task is timed out without running its SQL.
pub fn run_blocking(conn: &Connection, task: &Task, timeout: Duration, clock: &Clock) -> Attempt {
    run_blocking_with(task, timeout, clock, || conn)
}

/// [`run_blocking`], taking the connection only after the wait: `connect` is called when the
/// SQL is about to run (for example to borrow one from a [`ConnectionPool`]), so that threads
/// waiting their latency hold no connection. Time spent in `connect` counts as waiting.
///
/// [`ConnectionPool`]: crate::pool::ConnectionPool
pub fn run_blocking_with<C: Deref<Target = Connection>>(
    task: &Task,
    timeout: Duration,
    clock: &Clock,
    connect: impl FnOnce() -> C,
) -> Attempt {
    let started = clock.now();
    let deadline = clock.at(started) + timeout;
    let latency = task.latency();
    if !latency.is_zero() {
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(latency.min(left));
        if left < latency {
            return Attempt {
                started,
                sql_started: None,
                finished: clock.now(),
                status: Status::TimedOut,
            };
        }
    }
    let sql_started;
    let status = match &task.writes {
        // A write handed to the single writer needs no connection here, and holding one while
        // it waits to be committed would keep other tasks from theirs.
        Some(writes) if writes.is_single() => {
            sql_started = clock.now();
            writes.hand_over(task, deadline)
        }
        _ => {
            let conn = connect();
            sql_started = clock.now();
            execute(&conn, task, deadline)
        }
    };
    Attempt {
        started,
        sql_started: Some(sql_started),
        finished: clock.now(),
        status,
    }
}

/// Runs `work` and turns a panic inside it into a failed attempt, so that a bug in one task
/// costs that task and not the worker running it (and with it every task queued behind).
///
/// `AssertUnwindSafe` is sound here because all the work shares with the rest of the run is its
/// connection, and SQLite keeps a connection consistent when a statement is dropped mid-way.
pub fn catch_panic(clock: &Clock, work: impl FnOnce() -> Attempt) -> Attempt {
    let started = clock.now();
    panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Attempt {
        started,
        sql_started: None,
        finished: clock.now(),
        status: Status::panicked(payload.as_ref()),
    })
}

/// The payload of an injected panic, so that its message is recognisable and the panic hook
/// can stay quiet about it (see [`quiet_injected_panics`]).
#[derive(Debug)]
pub struct InjectedPanic {
    pub task: usize,
}

/// The message of a panic payload: panics carry a `&str`, a `String` or anything else.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(injected) = payload.downcast_ref::<InjectedPanic>() {
        format!("injected panic in task {}", injected.task)
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

/// Keeps the default panic hook from printing a message and a backtrace hint for the panics
/// that `--inject panic` causes on purpose: the report already shows them as failed tasks.
/// Every other panic is a real bug and is printed as usual.
pub fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<InjectedPanic>().is_none() {
                default(info);
            }
        }));
    });
}

/// Runs a task's SQL on `conn` and the program's work on its rows, stopping at `deadline`.
///
/// This is the part of a task that is the same in every method. An injected `panic` or `crash`
/// happens here, in the code that runs the task, wherever each method runs it. A task that
/// writes goes the way its run writes (see `writes`): in a transaction of its own on `conn`, or
/// to the single writer.
pub fn execute(conn: &Connection, task: &Task, deadline: Instant) -> Status {
    if let Some(writes) = &task.writes {
        return writes.execute(conn, task, deadline);
    }
    raise_injected_fault(task);
    if Instant::now() >= deadline {
        return Status::TimedOut;
    }
    status_of(run_sql(conn, task, deadline))
}

/// Panics or aborts the process if the task was injected with `panic` or `crash`.
pub(crate) fn raise_injected_fault(task: &Task) {
    match task.fault {
        Some(Fault::Panic) => panic::panic_any(InjectedPanic { task: task.id }),
        Some(Fault::Crash) => {
            eprintln!("task {}: injected crash: aborting this process", task.id);
            std::process::abort()
        }
        _ => {}
    }
}

/// How a task ended, from how its SQL went: `None` and an interrupted statement are its
/// deadline.
pub(crate) fn status_of(result: rusqlite::Result<Option<(u64, u64)>>) -> Status {
    match result {
        Ok(Some((rows, checksum))) => Status::Ok { rows, checksum },
        Ok(None) => Status::TimedOut,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => {
            Status::TimedOut
        }
        Err(e) => Status::Failed(e.to_string()),
    }
}

/// The task's SQL (or the SQL of its injected `error` or `hang`), stopped at `deadline`: its row
/// count and checksum, or `None` past the deadline. For a task that writes, the count is the
/// rows it changed.
pub(crate) fn run_sql(
    conn: &Connection,
    task: &Task,
    deadline: Instant,
) -> rusqlite::Result<Option<(u64, u64)>> {
    let (sql, params) = match task.fault {
        Some(Fault::Error) => (ERROR_SQL, &[][..]),
        Some(Fault::Hang) => (HANG_SQL, &[][..]),
        _ => (task.query.sql.as_str(), &task.query.params[..]),
    };
    let _interrupt = InterruptAtDeadline::new(conn, deadline)?;
    let result = query(conn, sql, params, task, deadline)?;
    Ok(if task.query.writes {
        result.map(|(_, checksum)| (conn.changes(), checksum))
    } else {
        result
    })
}

/// SQLite's progress handler, stopping the connection's statements at `deadline` while this
/// lives. Removed on drop, panics included, so that the next task on the connection is never
/// stopped at this task's deadline.
struct InterruptAtDeadline<'c>(&'c Connection);

impl<'c> InterruptAtDeadline<'c> {
    fn new(conn: &'c Connection, deadline: Instant) -> rusqlite::Result<InterruptAtDeadline<'c>> {
        conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() >= deadline))?;
        Ok(InterruptAtDeadline(conn))
    }
}

impl Drop for InterruptAtDeadline<'_> {
    fn drop(&mut self) {
        let _ = self.0.progress_handler(0, None::<fn() -> bool>);
    }
}

/// Steps through the rows, returning their count and checksum, or `None` past the deadline.
fn query(
    conn: &Connection,
    sql: &str,
    params: &[Param],
    task: &Task,
    deadline: Instant,
) -> rusqlite::Result<Option<(u64, u64)>> {
    let rounds = task.query.rounds;
    let mut statement = conn.prepare_cached(sql)?;
    let columns = statement.column_count();
    let mut rows = if statement.parameter_count() > params.len() {
        bind_with_task_id(&mut statement, params, task.id)?;
        statement.raw_query()
    } else {
        statement.query(params_from_iter(params))?
    };
    // The rows are walked one by one, in the program, as `for row in cursor` does in Python:
    // every value is digested `rounds` times while it is in the CPU's cache. The `fetch`
    // preset sets many rounds so that this loop, the program's own work, takes most of the
    // task's time; for the other presets one round is just the checksum.
    let mut first = Digest::new(0);
    let mut more: Vec<Digest> = (1..rounds.max(1)).map(Digest::new).collect();
    let mut count: u64 = 0;
    while let Some(row) = rows.next()? {
        count += 1;
        // SQLite's progress handler stops the query, but not this loop: it checks for itself.
        if !more.is_empty() && count.is_multiple_of(1024) && Instant::now() >= deadline {
            return Ok(None);
        }
        for i in 0..columns {
            let value = row.get_ref(i)?;
            first.value(value);
            more.iter_mut().for_each(|d| d.value(value));
        }
        first.end_row();
        more.iter_mut().for_each(Digest::end_row);
    }
    let checksum = (1..).zip(&more).fold(first.finish(), |sum, (r, d)| {
        sum ^ d.finish().rotate_left(r)
    });
    Ok(Some((count, checksum)))
}

/// Binds `:task` to the task's id (so that a written row can say which task wrote it), and the
/// task's parameters to the other slots, in order. A count that does not match is an error, as
/// it is without `:task`.
fn bind_with_task_id(
    statement: &mut rusqlite::CachedStatement<'_>,
    params: &[Param],
    task: usize,
) -> rusqlite::Result<()> {
    let slot = statement.parameter_index(":task")?;
    let expected = statement.parameter_count() - usize::from(slot.is_some());
    if expected != params.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            params.len(),
            expected,
        ));
    }
    let mut params = params.iter();
    for index in 1..=statement.parameter_count() {
        if Some(index) == slot {
            statement.raw_bind_parameter(index, task as i64)?;
        } else if let Some(param) = params.next() {
            statement.raw_bind_parameter(index, param)?;
        }
    }
    Ok(())
}

/// FNV-1a over 64-bit words: fast, and order-sensitive, so rows in another order (or another
/// value anywhere) give another checksum. A check that runs agree, not a cryptographic hash.
struct Digest(u64);

impl Digest {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new(seed: u32) -> Digest {
        Digest(0xcbf2_9ce4_8422_2325 ^ u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn word(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::PRIME);
    }

    fn value(&mut self, value: ValueRef<'_>) {
        match value {
            ValueRef::Null => self.word(0),
            ValueRef::Integer(i) => {
                self.word(1);
                self.word(i as u64);
            }
            ValueRef::Real(f) => {
                self.word(2);
                self.word(f.to_bits());
            }
            ValueRef::Text(bytes) => self.bytes(3, bytes),
            ValueRef::Blob(bytes) => self.bytes(4, bytes),
        }
    }

    fn bytes(&mut self, tag: u64, bytes: &[u8]) {
        self.word(tag);
        self.word(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
    }

    fn end_row(&mut self) {
        self.word(u64::MAX);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

//! A task's SQL on a connection: its rows counted and digested, stopped at its deadline.
//!
//! Every method runs a task's SQL through this file (by way of [`execute`] or the writer), so
//! the row count and the checksum of a task are the same whichever method ran it, and each
//! report can be checked against the sequential baseline.
//!
//! A deadline is enforced on the SQL itself with SQLite's progress handler: every few thousand
//! virtual-machine steps SQLite asks whether to go on, and past the deadline the answer is no,
//! so the statement stops with `SQLITE_INTERRUPT`. That is how a query that would run forever
//! is stopped even where the thread running it cannot be (a thread cannot be killed).
//!
//! [`execute`]: crate::task::execute

use std::panic;
use std::time::Instant;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, params_from_iter};

use crate::status::{InjectedPanic, Status};
use crate::workload::{Fault, Param, Task};

/// How often, in SQLite virtual-machine steps, the progress handler checks the deadline: often
/// enough that a query stops soon after it, and seldom enough that the check (one read of the
/// clock) is a small part of the work between two checks.
const PROGRESS_STEPS: i32 = 2_000;

/// The SQL an injected `error` runs instead of the task's: it fails on preparation.
const ERROR_SQL: &str = "SELECT * FROM injected_error_no_such_table";
/// The SQL an injected `hang` runs: a recursive count that never ends on its own.
const HANG_SQL: &str = "WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever) SELECT count(*) FROM forever";

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

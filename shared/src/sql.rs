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
//! The handler is installed once, when a connection opens, and reads the deadline of the task
//! that the calling thread runs, which each task sets and clears (`deadline.rs`).
//!
//! [`execute`]: crate::task::execute

use std::panic;
use std::time::{Duration, Instant};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::ValueRef;
use rusqlite::{Batch, Connection, ErrorCode, Statement};

use crate::deadline::InterruptAtDeadline;
use crate::status::{InjectedPanic, Status};
use crate::workload::{Fault, Params, Task};

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

/// The SQL a task runs: its own, or that of its injected `error` or `hang`.
fn sql_of(task: &Task) -> (&str, &Params) {
    const NONE: &Params = &Params::Positional(Vec::new());
    match task.fault {
        Some(Fault::Error) => (ERROR_SQL, NONE),
        Some(Fault::Hang) => (HANG_SQL, NONE),
        _ => (task.query.sql.as_str(), &task.query.params),
    }
}

/// The task's SQL (or the SQL of its injected `error` or `hang`), stopped at `deadline`: its row
/// count and checksum, or `None` past the deadline. For a task that writes, the count is the
/// rows it changed.
///
/// The SQL may be several statements, as a write transaction is (an order, then its items, then
/// the record of the task): they run in turn, their rows go into one checksum, and their
/// parameters are bound by name (see [`Steps`]).
pub(crate) fn run_sql(
    conn: &Connection,
    task: &Task,
    deadline: Instant,
) -> rusqlite::Result<Option<(u64, u64)>> {
    let (sql, params) = sql_of(task);
    let mut statement = match conn.prepare_cached(sql) {
        Ok(statement) => statement,
        // Several statements, as a write transaction is: in turn, in one step.
        Err(rusqlite::Error::MultipleStatement) => {
            let mut steps = Steps::new(conn, task);
            let done = steps.run(conn, task, deadline, Step::All)?;
            return done.then(|| steps.finish(conn, task)).transpose();
        }
        Err(e) => return Err(e),
    };
    let _interrupt = InterruptAtDeadline::new(deadline);
    // Counted only for a task that writes: its count is the rows it changed.
    let changed_before = if task.query.writes {
        conn.total_changes()
    } else {
        0
    };
    let mut rows = Rows::new(task.query.rounds);
    bind(&mut statement, params, task.id, Names::AllUsed)?;
    if !rows.walk(&mut statement, deadline)? {
        return Ok(None);
    }
    Ok(Some(rows.counted(conn, task, changed_before)))
}

/// A write's SQL inside its transaction: [`run_sql`], or, with `--hold-ms`, its first statement,
/// a wait of `hold` with the write lock held, and the rest. The wait is a blocking sleep: what
/// an `.await` on something else inside a transaction is to every other writer, which cannot
/// write until this transaction commits. (Async `.await`s it for real: [`Steps`].)
pub(crate) fn run_write(
    conn: &Connection,
    task: &Task,
    deadline: Instant,
    hold: Duration,
) -> rusqlite::Result<Option<(u64, u64)>> {
    if hold.is_zero() {
        return run_sql(conn, task, deadline);
    }
    let mut steps = Steps::new(conn, task);
    if !steps.run(conn, task, deadline, Step::First)? {
        return Ok(None);
    }
    let left = deadline.saturating_duration_since(Instant::now());
    std::thread::sleep(hold.min(left));
    if left < hold || !steps.run(conn, task, deadline, Step::Rest)? {
        return Ok(None);
    }
    steps.finish(conn, task).map(Some)
}

/// Which of a task's statements a [`Steps::run`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    All,
    First,
    Rest,
}

/// A task's statements, run in turn on one connection, in one call or in two (the first, then
/// the rest: a transaction that waits inside itself, `--hold-ms`). Its rows, the parameter
/// names its statements used and the changes it made are carried from one call to the next,
/// so that a task run in two steps reports what it would in one.
///
/// Each statement binds the parameters it names (and `:task`); a name that no statement has is
/// an error, as it is for one statement. A list of parameters bound in order would not say which
/// statement each is for, so several statements take theirs by name. They are prepared each
/// time, not cached: SQLite's statement cache holds one statement per text, and these are a few
/// short writes beside a transaction's commit.
pub(crate) struct Steps {
    rows: Rows,
    used: Vec<String>,
    /// How many statements have run.
    ran: usize,
    changed_before: u64,
}

impl Steps {
    pub(crate) fn new(conn: &Connection, task: &Task) -> Steps {
        Steps {
            rows: Rows::new(task.query.rounds),
            used: Vec::new(),
            ran: 0,
            changed_before: conn.total_changes(),
        }
    }

    /// Runs the statements `step` names; `false` if the deadline came first.
    pub(crate) fn run(
        &mut self,
        conn: &Connection,
        task: &Task,
        deadline: Instant,
        step: Step,
    ) -> rusqlite::Result<bool> {
        let (sql, params) = sql_of(task);
        let _interrupt = InterruptAtDeadline::new(deadline);
        let mut statements = Batch::new(conn, sql);
        let mut index = 0;
        while let Some(mut statement) = statements.next()? {
            index += 1;
            // Prepared, not run: a statement an earlier step ran.
            if index <= self.ran {
                continue;
            }
            if step == Step::First && index > 1 {
                break;
            }
            if index > 1 && matches!(params, Params::Positional(list) if !list.is_empty()) {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "SQL of several statements takes its parameters by name ({\":name\": \
                     value}), not as a list"
                        .into(),
                ));
            }
            self.used
                .extend(bind(&mut statement, params, task.id, Names::SomeUsed)?);
            self.ran = index;
            if !self.rows.walk(&mut statement, deadline)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The row count (for a write, the rows it changed) and the checksum, once every statement
    /// has run; an error if a parameter named no statement's slot.
    pub(crate) fn finish(self, conn: &Connection, task: &Task) -> rusqlite::Result<(u64, u64)> {
        if let (_, Params::Named(by_name)) = sql_of(task)
            && let Some(name) = by_name
                .keys()
                .map(|n| slot_name(n))
                .find(|n| !self.used.contains(n))
        {
            return Err(rusqlite::Error::InvalidParameterName(name));
        }
        Ok(self.rows.counted(conn, task, self.changed_before))
    }
}

/// The rows of a task's statements: counted, and digested `rounds` times.
struct Rows {
    count: u64,
    first: Digest,
    more: Vec<Digest>,
}

impl Rows {
    fn new(rounds: u32) -> Rows {
        Rows {
            count: 0,
            first: Digest::new(0),
            more: (1..rounds.max(1)).map(Digest::new).collect(),
        }
    }

    /// Steps through a statement's rows; `false` if the deadline came first.
    fn walk(&mut self, statement: &mut Statement<'_>, deadline: Instant) -> rusqlite::Result<bool> {
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        // The rows are walked one by one, in the program, as `for row in cursor` does in
        // Python: every value is digested `rounds` times while it is in the CPU's cache. The
        // `fetch` preset sets many rounds so that this loop, the program's own work, takes most
        // of the task's time; for the other presets one round is just the checksum.
        while let Some(row) = rows.next()? {
            self.count += 1;
            // SQLite's progress handler stops the query, but not this loop: it checks for
            // itself.
            if !self.more.is_empty()
                && self.count.is_multiple_of(1024)
                && Instant::now() >= deadline
            {
                return Ok(false);
            }
            for i in 0..columns {
                let value = row.get_ref(i)?;
                self.first.value(value);
                self.more.iter_mut().for_each(|d| d.value(value));
            }
            self.first.end_row();
            self.more.iter_mut().for_each(Digest::end_row);
        }
        Ok(true)
    }

    /// The row count and the checksum; for a task that writes, the count is the rows its
    /// statements changed on `conn` since `changed_before`.
    fn counted(&self, conn: &Connection, task: &Task, changed_before: u64) -> (u64, u64) {
        let (rows, checksum) = self.finish();
        match task.query.writes {
            true => (conn.total_changes() - changed_before, checksum),
            false => (rows, checksum),
        }
    }

    /// The row count and the checksum.
    fn finish(&self) -> (u64, u64) {
        let checksum = (1..)
            .zip(&self.more)
            .fold(self.first.finish(), |sum, (r, d)| {
                sum ^ d.finish().rotate_left(r)
            });
        (self.count, checksum)
    }
}

/// Whether every name a task's parameters give must be in the statement being bound: yes for
/// one statement; for several, each binds the names it has (see [`Steps`]).
#[derive(PartialEq)]
enum Names {
    AllUsed,
    SomeUsed,
}

/// A parameter's name as SQLite writes it: `city` is taken to mean `:city`.
fn slot_name(name: &str) -> String {
    if name.starts_with([':', '@', '$']) {
        name.to_string()
    } else {
        format!(":{name}")
    }
}

/// Binds the task's parameters, in order or by name, and `:task` to the task's id (so that a
/// written row can say which task wrote it) unless the parameters name it. Every slot of the
/// SQL must be bound: a count that does not match, or a name the SQL does not have, is an error
/// that fails the task, as SQLite's own would.
///
/// Returns the names it bound, for [`Steps`] to check that each was used somewhere.
fn bind(
    statement: &mut Statement<'_>,
    params: &Params,
    task: usize,
    names: Names,
) -> rusqlite::Result<Vec<String>> {
    let slots = statement.parameter_count();
    // A statement with no slots (a `SELECT 1`) has no `:task` either: not asked, since rusqlite
    // caches only the names it finds and would ask SQLite again for every task.
    let task_slot = match slots {
        0 => None,
        _ => statement.parameter_index(":task")?,
    };
    let mut bound = Vec::with_capacity(slots);
    let mut used = Vec::new();
    match params {
        Params::Positional(list) => {
            let expected = slots - usize::from(task_slot.is_some());
            if expected != list.len() {
                return Err(rusqlite::Error::InvalidParameterCount(list.len(), expected));
            }
            let mut list = list.iter();
            for index in (1..=slots).filter(|&i| Some(i) != task_slot) {
                if let Some(param) = list.next() {
                    statement.raw_bind_parameter(index, param)?;
                    bound.push(index);
                }
            }
        }
        Params::Named(by_name) => {
            for (name, param) in by_name {
                let name = slot_name(name);
                match statement.parameter_index(&name)? {
                    Some(index) => {
                        statement.raw_bind_parameter(index, param)?;
                        bound.push(index);
                        used.push(name);
                    }
                    None if names == Names::SomeUsed => {}
                    None => return Err(rusqlite::Error::InvalidParameterName(name)),
                }
            }
        }
    }
    if let Some(slot) = task_slot.filter(|slot| !bound.contains(slot)) {
        statement.raw_bind_parameter(slot, task as i64)?;
        bound.push(slot);
    }
    if bound.len() != slots {
        return Err(rusqlite::Error::InvalidParameterCount(bound.len(), slots));
    }
    Ok(used)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::Preset;
    use crate::workload::Workload;
    use std::sync::Arc;
    use std::time::Duration;

    fn task(id: usize, query: &str) -> Task {
        let file = tempfile::NamedTempFile::new().expect("a workload file");
        std::fs::write(file.path(), format!("[{query}]")).expect("written");
        let mut workload = Workload::from_file(file.path(), Some(id)).expect("a workload");
        workload.tasks.pop().expect("task `id`")
    }

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[test]
    fn a_hang_stops_at_its_deadline_and_the_next_task_runs_with_its_own() {
        let conn = Connection::open_in_memory().unwrap();
        crate::deadline::stop_at_deadlines(&conn).unwrap();
        let mut hang = task(1, r#"{"name": "q", "sql": "SELECT 1"}"#);
        hang.fault = Some(Fault::Hang);
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(status_of(run_sql(&conn, &hang, soon)), Status::TimedOut);
        assert!(
            Instant::now() >= soon,
            "stopped at the deadline, not before"
        );
        // The deadline is the task's: past it, the next task on this thread still runs.
        let after = task(1, r#"{"name": "q", "sql": "SELECT 2"}"#);
        assert!(matches!(
            run_sql(&conn, &after, deadline()),
            Ok(Some((1, _)))
        ));
        assert_eq!(
            crate::deadline::current(),
            None,
            "cleared once the task's SQL is done"
        );
    }

    #[test]
    fn a_written_row_says_which_task_wrote_it() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::write_settings::CREATE_TABLE)
            .unwrap();
        let mut workload = Workload::preset(Preset::Writes, Some(5));
        let fifth = workload.tasks.pop().unwrap();
        assert_eq!(fifth.id, 5);
        run_sql(&conn, &fifth, deadline()).unwrap();
        let (task_id, payload): (i64, String) = conn
            .query_row("SELECT task_id, payload FROM task_writes", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(task_id, 5);
        assert!(payload.starts_with("one row"), "{payload}");
    }

    #[test]
    fn parameters_bind_by_name_with_or_without_their_colon() {
        let conn = Connection::open_in_memory().unwrap();
        let sql = r#"{"name": "n", "sql": "SELECT :city || '/' || @n || '/' || :task",
                      "params": {":city": "Paris", "@n": 7}}"#;
        let named = task(3, sql);
        let (rows, by_name) = run_sql(&conn, &named, deadline()).unwrap().unwrap();
        let bare = task(3, &sql.replace("\":city\"", "\"city\""));
        let (_, without_colon) = run_sql(&conn, &bare, deadline()).unwrap().unwrap();
        let literal = task(3, r#"{"name": "n", "sql": "SELECT 'Paris/7/3'"}"#);
        let (_, expected) = run_sql(&conn, &literal, deadline()).unwrap().unwrap();
        assert_eq!((rows, by_name, without_colon), (1, expected, expected));
    }

    #[test]
    fn a_name_the_sql_does_not_have_or_a_slot_left_empty_fails_the_task() {
        let conn = Connection::open_in_memory().unwrap();
        let unknown = task(
            1,
            r#"{"name": "n", "sql": "SELECT :a", "params": {":b": 1}}"#,
        );
        let err = run_sql(&conn, &unknown, deadline())
            .unwrap_err()
            .to_string();
        assert!(err.contains(":b"), "{err}");
        let short = task(
            1,
            r#"{"name": "n", "sql": "SELECT :a, :b", "params": {":a": 1}}"#,
        );
        assert!(run_sql(&conn, &short, deadline()).is_err());
        let positional = task(1, r#"{"name": "n", "sql": "SELECT ?, ?", "params": [1]}"#);
        assert!(run_sql(&conn, &positional, deadline()).is_err());
    }

    #[test]
    fn several_statements_run_in_turn_each_binding_the_names_it_has() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x, y)").unwrap();
        let mut both = task(
            4,
            r#"{"name": "n",
                "sql": "INSERT INTO t VALUES (:a, :task); UPDATE t SET y = y * :b; SELECT x, y FROM t",
                "params": {"a": 10, ":b": 3}}"#,
        );
        Arc::make_mut(&mut both.query).writes = true;
        let (changed, checksum) = run_sql(&conn, &both, deadline()).unwrap().unwrap();
        assert_eq!(changed, 2, "one row inserted, one updated");
        let alone = task(4, r#"{"name": "n", "sql": "SELECT 10, 12"}"#);
        let (_, expected) = run_sql(&conn, &alone, deadline()).unwrap().unwrap();
        assert_eq!(
            checksum, expected,
            "the rows of the last statement, (10, 4 * 3)"
        );
        let unknown = task(
            1,
            r#"{"name": "n", "sql": "SELECT 1; SELECT 2", "params": {":b": 1}}"#,
        );
        let err = run_sql(&conn, &unknown, deadline())
            .unwrap_err()
            .to_string();
        assert!(err.contains(":b"), "{err}");
        let listed = task(
            1,
            r#"{"name": "n", "sql": "SELECT ?; SELECT 2", "params": [1]}"#,
        );
        let err = run_sql(&conn, &listed, deadline()).unwrap_err().to_string();
        assert!(err.contains("by name"), "{err}");
    }
}

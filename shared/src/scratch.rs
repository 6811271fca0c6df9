//! A writing run's scratch copy of the database, and what the run's SQL writes on it.
//!
//! The fixture and a user's file are only ever read. A run whose tasks write works on a copy
//! made for it in a temporary folder ([`Database::scratch_copy`]), removed when the run ends.
//! Before the run, SQLite's authorizer says which tables the writing SQL changes and whether
//! each task records its id in the run's own table, [`TABLE`]; after it, the rows those tables
//! gained and the tasks recorded are read back on a fresh connection, so that a report's
//! figures come from the database, not from what the tasks said they did.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::backup::Backup;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Batch, Connection};

use crate::database::{Database, Scratch};
use crate::error::{Error, Result};
use crate::write_settings::{CREATE_TABLE, TABLE, WriteSettings};

impl Database {
    /// A copy of this database for a run that writes, in a temporary folder of its own: the
    /// fixture and a user's file are never written. SQLite's backup API copies a user's file,
    /// so the copy is consistent even if another program writes the original meanwhile. The
    /// copy is in WAL mode (readers go on while a writer writes) and has the run's own table,
    /// [`TABLE`].
    ///
    /// `writing` is the SQL of the run's tasks that write: the tables it writes are counted
    /// now, and again after the run by [`Database::rows_written`]; whether each records its
    /// task in [`TABLE`] is noted for [`Database::records_tasks`].
    ///
    /// [`TABLE`]: crate::write_settings::TABLE
    pub fn scratch_copy(&self, settings: WriteSettings, writing: &[&str]) -> Result<Database> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            Error::system(format!(
                "making a scratch copy of {} to write on: {what}: {e}",
                self.path.display()
            ))
        };
        let folder = tempfile::Builder::new()
            .prefix("sqlite-concurrency-writes-")
            .tempdir()
            .map_err(|e| fail("temporary folder", &e))?;
        let path = folder.path().join("scratch.db");
        let copy = if self.is_fixture {
            // The fixture is never written once built, so copying its file is a consistent
            // copy, made in one pass rather than page by page.
            fs::copy(&self.path, &path).map_err(|e| fail("copy", &e))?;
            Connection::open(&path).map_err(|e| fail("open", &e))?
        } else {
            let source = self.open()?;
            let mut copy = Connection::open(&path).map_err(|e| fail("open", &e))?;
            // Nothing to protect while the copy is made (a crash leaves only a temporary file),
            // so no journal and no sync.
            copy.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
                .map_err(|e| fail("open", &e))?;
            Backup::new(&source, &mut copy)
                .and_then(|backup| backup.run_to_completion(1 << 20, Duration::ZERO, None))
                .map_err(|e| fail("copy", &e))?;
            copy
        };
        copy.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; {CREATE_TABLE};"
        ))
        .map_err(|e| fail("prepare", &e))?;
        let written = what_is_written(&copy, writing);
        let tables = written
            .tables
            .into_iter()
            .map(|table| count_rows(&copy, &table).map(|rows| (table, rows)))
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| fail("count", &e))?;
        Ok(Database {
            path,
            is_fixture: self.is_fixture,
            scratch: Some(Arc::new(Scratch {
                folder,
                settings,
                tables,
                records_tasks: written.records_tasks,
                origin: self.clone(),
                writing: writing.iter().map(|sql| sql.to_string()).collect(),
            })),
        })
    }

    /// Another scratch copy of what this one was copied from, as it was before anything wrote
    /// on it: where the sequential baseline of a writing run starts, as the method did. (On the
    /// method's copy, a `DELETE` would find nothing left to delete, and the baseline would time
    /// less work than the method did.) A database that is not a scratch copy is itself.
    pub fn fresh_copy(&self) -> Result<Database> {
        match &self.scratch {
            Some(scratch) => {
                let writing: Vec<&str> = scratch.writing.iter().map(String::as_str).collect();
                scratch.origin.scratch_copy(scratch.settings, &writing)
            }
            None => Ok(self.clone()),
        }
    }

    /// The write settings of a scratch copy; `None` for a database only read.
    pub fn write_settings(&self) -> Option<WriteSettings> {
        self.scratch.as_ref().map(|s| s.settings)
    }

    /// The scratch copy's temporary folder, where a program may put what lives as long as it
    /// (the multiprocessing program's writer socket).
    pub fn scratch_folder(&self) -> Option<&Path> {
        self.scratch.as_ref().map(|s| s.folder.path())
    }

    /// The rows a writing run added, counted on a fresh connection: the rows now in the tables
    /// its SQL writes, less those they held before.
    pub fn rows_written(&self) -> Result<u64> {
        let Some(scratch) = &self.scratch else {
            return Ok(0);
        };
        let fail = |e: rusqlite::Error| Error::system(format!("counting the rows written: {e}"));
        let conn = self.connect().map_err(fail)?;
        let mut added: i64 = 0;
        for (table, before) in &scratch.tables {
            added += count_rows(&conn, table).map_err(fail)? as i64 - *before as i64;
        }
        Ok(added.max(0) as u64)
    }

    /// Whether every writing task of the run records its id in the run's own table, [`TABLE`],
    /// in its own transaction, as the `writes` and `app` presets do: then the tasks found there
    /// after the run ([`Database::tasks_recorded`]) must be exactly the write tasks that ended
    /// ok, which says that no write reported done was lost and none reported failed was half
    /// done. A user's SQL that updates or deletes rows of their own records nothing there, and
    /// a count of rows after the run cannot check it.
    ///
    /// [`TABLE`]: crate::write_settings::TABLE
    pub fn records_tasks(&self) -> bool {
        self.scratch.as_ref().is_some_and(|s| s.records_tasks)
    }

    /// The ids of the tasks recorded in the run's own table, in order, read on a fresh
    /// connection after the run (see [`Database::records_tasks`]).
    pub fn tasks_recorded(&self) -> Result<Vec<usize>> {
        let fail = |e: rusqlite::Error| Error::system(format!("reading the tasks written: {e}"));
        let conn = self.connect().map_err(fail)?;
        let mut statement = conn
            .prepare(&format!(
                "SELECT DISTINCT task_id FROM {TABLE} ORDER BY task_id"
            ))
            .map_err(fail)?;
        let ids = statement
            .query_map([], |row| row.get::<_, i64>(0))
            .and_then(|ids| ids.map(|id| id.map(|id| id as usize)).collect())
            .map_err(fail)?;
        Ok(ids)
    }
}

/// Whether `sql` changes the database, as SQLite sees it once each of its statements is
/// prepared (`sqlite3_stmt_readonly`). SQL that does not prepare is said not to: it fails in its
/// task, with SQLite's message.
pub(crate) fn sql_writes(conn: &Connection, sql: &str) -> bool {
    let mut statements = Batch::new(conn, sql);
    let mut writes = false;
    while let Ok(Some(statement)) = statements.next() {
        writes |= !statement.readonly();
    }
    writes
}

/// What a run's writing SQL changes, as SQLite's authorizer sees it while preparing each
/// statement.
#[derive(Debug, Clone, PartialEq)]
struct Written {
    /// The tables it inserts into, updates or deletes from; always the run's own [`TABLE`].
    tables: Vec<String>,
    /// Whether each writing task's SQL inserts into [`TABLE`]: records its task there, as the
    /// `writes` and `app` presets do (see [`Database::records_tasks`]).
    records_tasks: bool,
}

fn what_is_written(conn: &Connection, sql: &[&str]) -> Written {
    // The tables found, and whether the SQL being prepared inserts into the run's own table.
    let found = Arc::new(std::sync::Mutex::new((vec![TABLE.to_string()], false)));
    let into = Arc::clone(&found);
    let _ = conn.authorizer(Some(move |context: AuthContext<'_>| {
        let (table, inserts) = match context.action {
            AuthAction::Insert { table_name } => (table_name, true),
            AuthAction::Update { table_name, .. } | AuthAction::Delete { table_name } => {
                (table_name, false)
            }
            _ => return Authorization::Allow,
        };
        if !table.starts_with("sqlite_") {
            let mut found = into.lock().unwrap_or_else(|e| e.into_inner());
            found.1 |= inserts && table == TABLE;
            if !found.0.iter().any(|f| f == table) {
                found.0.push(table.to_string());
            }
        }
        Authorization::Allow
    }));
    let mut records_tasks = true;
    for text in sql {
        found.lock().unwrap_or_else(|e| e.into_inner()).1 = false;
        // A statement that does not prepare fails in its task, with SQLite's message.
        let mut statements = Batch::new(conn, text);
        while let Ok(Some(_)) = statements.next() {}
        records_tasks &= found.lock().unwrap_or_else(|e| e.into_inner()).1;
    }
    let _ = conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
    let tables = found.lock().unwrap_or_else(|e| e.into_inner()).0.clone();
    Written {
        tables,
        records_tasks,
    }
}

fn count_rows(conn: &Connection, table: &str) -> rusqlite::Result<u64> {
    let sql = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
    conn.query_row(&sql, [], |row| row.get::<_, i64>(0))
        .map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A user's database with a table `t` of `rows` rows, in a folder of its own.
    fn users_database(rows: i64) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("mine.db");
        let conn = Connection::open(&path).expect("a new database");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        for x in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1)", [x]).unwrap();
        }
        drop(conn);
        let database = Database::prepare(Some(&path), true).expect("a user's database opens");
        assert!(!database.is_fixture());
        (dir, database)
    }

    #[test]
    fn only_tasks_that_each_record_their_id_can_be_checked() {
        let (_dir, database) = users_database(3);
        let settings = WriteSettings::default();
        let insert = "INSERT INTO task_writes (task_id, payload) VALUES (:task, ?1)";
        let own = database.scratch_copy(settings, &[insert]).unwrap();
        assert!(own.records_tasks(), "the writes preset's insert");
        let transaction = "UPDATE t SET x = x + 1 WHERE x = 1; INSERT INTO task_writes \
                           (task_id, payload) VALUES (:task, 'update')";
        let both = database
            .scratch_copy(settings, &[insert, transaction])
            .unwrap();
        assert!(
            both.records_tasks(),
            "a transaction that records its task last"
        );
        for users in [
            "DELETE FROM t",
            "UPDATE t SET x = x + 1",
            "INSERT INTO t VALUES (9)",
        ] {
            let copy = database.scratch_copy(settings, &[insert, users]).unwrap();
            assert!(!copy.records_tasks(), "{users}");
        }
        assert!(!database.records_tasks(), "a database only read");
    }

    /// The trap behind "busy_timeout set, and still database is locked when opening": a
    /// connection's first pragmas read the schema, which needs the database's lock; with the
    /// run's `--busy-timeout 0` set before them, opening would fail the moment another
    /// connection held the lock. Set after them, the pragmas wait (rusqlite's 5 s), and opening
    /// succeeds once the lock is free.
    #[test]
    fn a_connection_opens_while_another_holds_the_lock_even_with_no_busy_timeout() {
        let (_dir, database) = users_database(1);
        let settings = WriteSettings {
            busy_timeout: Duration::ZERO,
            ..WriteSettings::default()
        };
        let copy = database.scratch_copy(settings, &[]).unwrap();
        let holder = Connection::open(copy.path()).unwrap();
        holder
            .execute_batch(
                "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; \
                 INSERT INTO task_writes (task_id, payload) VALUES (0, 'held');",
            )
            .unwrap();
        let blocked = Connection::open(copy.path()).unwrap();
        blocked.busy_timeout(Duration::ZERO).unwrap();
        assert!(
            blocked.pragma_update(None, "synchronous", "FULL").is_err(),
            "the lock is held: a pragma with no busy timeout fails at once"
        );
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            holder.execute_batch("COMMIT").unwrap();
            drop(holder);
        });
        let opened = copy.open();
        release.join().unwrap();
        let conn = opened.expect("opening waits for the lock instead of failing");
        let count: i64 = conn
            .query_row("SELECT count(*) FROM task_writes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1, "it opened after the holder committed");
    }

    #[test]
    fn sql_of_several_statements_writes_if_any_of_them_does() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(sql_writes(&conn, "SELECT 1; DELETE FROM t"));
        assert!(!sql_writes(&conn, "SELECT 1; SELECT x FROM t"));
        assert!(!sql_writes(
            &conn,
            "SELECT * FROM no_such_table; DELETE FROM t"
        ));
    }

    #[test]
    fn the_tasks_recorded_are_read_back_once_each() {
        let (_dir, database) = users_database(1);
        let copy = database
            .scratch_copy(
                WriteSettings::default(),
                &["INSERT INTO task_writes VALUES (NULL, :task, '')"],
            )
            .unwrap();
        let conn = copy.open().unwrap();
        conn.execute_batch(
            "INSERT INTO task_writes (task_id, payload) VALUES (7, 'a'), (3, 'b'), (7, 'c')",
        )
        .unwrap();
        assert_eq!(copy.tasks_recorded().unwrap(), vec![3, 7]);
    }

    #[test]
    fn a_fresh_copy_starts_from_the_original_not_from_what_a_run_left() {
        let (_dir, database) = users_database(4);
        let copy = database
            .scratch_copy(WriteSettings::default(), &["DELETE FROM t"])
            .unwrap();
        let count = |db: &Database| {
            Connection::open(db.path())
                .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)))
                .unwrap()
        };
        Connection::open(copy.path())
            .and_then(|c| c.execute("DELETE FROM t", []))
            .unwrap();
        assert_eq!(count(&copy), 0, "the run deleted every row of its copy");
        let fresh = copy.fresh_copy().unwrap();
        assert_ne!(fresh.path(), copy.path());
        assert_eq!(
            count(&fresh),
            4,
            "the baseline's copy has the rows the run started with"
        );
        assert_eq!(count(&database), 4, "and the user's file is as it was");
    }

    #[test]
    fn a_delete_adds_no_rows_and_leaves_the_users_file_as_it_was() {
        let (_dir, database) = users_database(5);
        let before = fs::read(database.path()).unwrap();
        let copy = database
            .scratch_copy(WriteSettings::default(), &["DELETE FROM t"])
            .unwrap();
        let conn = copy.open().unwrap();
        assert_eq!(conn.execute("DELETE FROM t", []).unwrap(), 5);
        assert_eq!(copy.rows_written().unwrap(), 0);
        assert_eq!(fs::read(database.path()).unwrap(), before);
    }
}

//! The database a run reads, found and opened: this project's fixture (the shop of `shop`), or
//! a user's own SQLite file.
//!
//! [`Database::prepare`] finds the file to use: the fixture, built first when it is missing or
//! stale, or a file the user named with `--db`. Any SQLite file given with `--db` that is not
//! the fixture is the user's own: it is opened read-only, never modified, and a statement that
//! tries to write fails for that task alone. A run whose tasks write works on a scratch copy of
//! the database instead, the fixture's or the user's, made for the run and removed after it:
//! that copy's state is held here, beside the [`Database`] that owns it, and it is made and
//! inspected in `scratch` ([`Database::scratch_copy`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::shop::{OnDisk, build_locked, inspect};
use crate::write_settings::{Synchronous, WriteSettings};

/// The database a run reads: this project's fixture, or a user's own file, always read-only;
/// or, for a run that writes, a scratch copy of either (see [`Database::scratch_copy`]).
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) path: PathBuf,
    pub(crate) is_fixture: bool,
    pub(crate) scratch: Option<Arc<Scratch>>,
}

/// A writing run's copy of the database, in a temporary folder removed when the last clone of
/// its [`Database`] is dropped (worker processes end with `_exit` and drop nothing). It is
/// defined here because a copy's `Database` holds it and it holds the `Database` it was copied
/// from; it is made and read in `scratch`.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub(crate) folder: tempfile::TempDir,
    pub(crate) settings: WriteSettings,
    /// The tables the run's SQL writes, with the rows each held before the run.
    pub(crate) tables: Vec<(String, u64)>,
    /// Whether each writing task records its id in the run's own table,
    /// [`TABLE`](crate::write_settings::TABLE) (see [`Database::records_tasks`]).
    pub(crate) records_tasks: bool,
    /// What the copy was made from, and the writing SQL it was made for: what a fresh copy
    /// needs ([`Database::fresh_copy`]).
    pub(crate) origin: Database,
    pub(crate) writing: Vec<String>,
}

impl Database {
    /// How every connection is opened. Read-only, so that no task can change the data another
    /// task (or the next run) reads; `NO_MUTEX` because each connection is used by one thread
    /// at a time, which every method here guarantees, so SQLite's own locking would be waste.
    pub const OPEN_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_ONLY
        .union(OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .union(OpenFlags::SQLITE_OPEN_URI);

    /// Where the fixture lives when `--db` is not given: a cache folder under the temp dir.
    pub fn default_path() -> PathBuf {
        std::env::temp_dir()
            .join("sqlite-concurrency-rs")
            .join("shop.db")
    }

    /// Finds the database to use, building the fixture first if it is missing or stale.
    ///
    /// `path` is the user's `--db`; without it the fixture's default path is used, and anything
    /// there that is not a current fixture is rebuilt, since that folder is ours. Under `--db`
    /// the fixture is built only where there is no file at all, or over a stale fixture (a file
    /// with this project's `application_id`), and never when `users_own` says the path names the
    /// user's own database (their queries come with it): a file that is not ours, an empty one
    /// included, is never replaced, and a missing one is never created in its place.
    pub fn prepare(path: Option<&Path>, users_own: bool) -> Result<Database> {
        if let Some(path) = path.filter(|p| is_in_memory(p)) {
            return Err(Error::input(format!(
                "--db {}: an in-memory database is private to the connection that opens it: \
                 each worker's connection would open its own, empty one (a table made on one is \
                 missing on the next); give a file (a file in /dev/shm or a tmpfs is in memory \
                 too, and every connection sees the same one)",
                path.display()
            )));
        }
        let ours = path.is_none();
        let path = path.map_or_else(Self::default_path, Path::to_path_buf);
        let shown = path.display().to_string();
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if ours {
            fs::create_dir_all(&folder)
                .map_err(|e| Error::input(format!("cannot create {}: {e}", folder.display())))?;
        } else if !folder.is_dir() {
            return Err(Error::input(format!(
                "--db {shown}: folder {} does not exist",
                folder.display()
            )));
        }
        if path.is_dir() {
            return Err(Error::input(format!(
                "--db {shown}: is a folder, not a file"
            )));
        }
        match inspect(&path) {
            OnDisk::Fixture => {}
            OnDisk::Missing if users_own => {
                return Err(Error::input(format!(
                    "--db {shown}: no such file (with --workload-file, --db names your own \
                     database; leave --db out to run on the demo database)"
                )));
            }
            OnDisk::Missing => build_locked(&path)?,
            OnDisk::Empty if ours => build_locked(&path)?,
            OnDisk::Empty => {
                return Err(Error::input(format!(
                    "--db {shown}: the file is empty, not a SQLite database (it is left as it is)"
                )));
            }
            OnDisk::StaleFixture(why) => {
                eprintln!("the fixture database {shown} is {why}: rebuilding it");
                build_locked(&path)?
            }
            OnDisk::Other | OnDisk::NotSqlite if ours => build_locked(&path)?,
            OnDisk::NotSqlite => {
                return Err(Error::input(format!(
                    "--db {shown}: not a SQLite database (it is left as it is)"
                )));
            }
            OnDisk::Other => {
                let db = Database {
                    path,
                    is_fixture: false,
                    scratch: None,
                };
                db.connect()
                    .and_then(|c| c.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())))
                    .map_err(|e| Error::input(format!("--db {shown}: cannot be read: {e}")))?;
                return Ok(db);
            }
        }
        Ok(Database {
            path,
            is_fixture: true,
            scratch: None,
        })
    }

    /// A database that another process of the same run prepared and only reads, named by its
    /// path: for a worker process that was spawned, and so inherited no `Database` to clone.
    pub fn prepared_elsewhere(path: PathBuf, is_fixture: bool) -> Database {
        Database {
            path,
            is_fixture,
            scratch: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this is the generated shop (the presets' queries need its tables).
    pub fn is_fixture(&self) -> bool {
        self.is_fixture
    }

    /// Opens one read-only connection. Every worker opens its own: a SQLite connection runs one
    /// statement at a time, so sharing one would serialise the workers on it.
    pub fn open(&self) -> Result<Connection> {
        self.connect()
            .map_err(|e| Error::input(format!("cannot open {}: {e}", self.path.display())))
    }

    /// Opens one connection, with the errors SQLite gives: read-only, or read-write with the
    /// run's write settings on a scratch copy.
    pub(crate) fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = match &self.scratch {
            None => Connection::open_with_flags(&self.path, Self::OPEN_FLAGS)?,
            Some(scratch) => {
                let writable = Self::OPEN_FLAGS
                    .difference(OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .union(OpenFlags::SQLITE_OPEN_READ_WRITE);
                let conn = Connection::open_with_flags(&self.path, writable)?;
                let synchronous = match scratch.settings.synchronous {
                    Synchronous::Full => "FULL",
                    Synchronous::Normal => "NORMAL",
                };
                conn.pragma_update(None, "synchronous", synchronous)?;
                conn
            }
        };
        // Read the file through a memory map instead of a `read` call per page: pages come
        // straight from the OS's cache, with no copy and no system call, so queries running at
        // once on several connections do not queue up in the kernel. 256 MiB covers the fixture
        // many times over; SQLite maps no more than the file's size.
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
        // Enough for every preset's distinct statements plus the injected faults, so a task
        // never pays to prepare its SQL again.
        conn.set_prepared_statement_cache_capacity(64);
        // Once per connection: each task's SQL then stops at that task's deadline.
        crate::deadline::stop_at_deadlines(&conn)?;
        if let Some(scratch) = &self.scratch {
            // How long a writer waits for the lock before "database is locked"; 0 is not at
            // all. Set last: the pragmas above read the schema, which in WAL mode can meet a
            // moment's lock while others write, and opening a connection must not fail on it
            // (rusqlite's own 5 s covers them), whatever the run's tasks are allowed.
            conn.busy_timeout(scratch.settings.busy_timeout)?;
        }
        Ok(conn)
    }
}

/// Whether `path` names an in-memory database rather than a file: `:memory:`, or a URI with
/// `mode=memory`. SQLite would give each connection its own, empty database for it.
fn is_in_memory(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text == ":memory:" || (text.starts_with("file:") && text.contains("mode=memory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trap behind "`:memory:` with a pool": every connection to `:memory:` opens a
    /// database of its own, so what one connection makes, the next does not see. A named
    /// in-memory database with a shared cache would be seen by all, but lives only as long as
    /// one of them is open; a file is the plain answer, and `--db` takes only files.
    #[test]
    fn an_in_memory_database_is_refused_since_each_connection_would_get_its_own() {
        let first = Connection::open(":memory:").unwrap();
        first.execute_batch("CREATE TABLE t (x)").unwrap();
        let second = Connection::open(":memory:").unwrap();
        assert!(
            second.prepare("SELECT x FROM t").is_err(),
            "a second :memory: is empty"
        );
        let cwd = std::env::current_dir().unwrap();
        for given in [":memory:", "file:shop?mode=memory&cache=shared"] {
            let err = Database::prepare(Some(Path::new(given)), false)
                .expect_err(given)
                .to_string();
            assert!(err.contains("in-memory database"), "{given}: {err}");
            assert!(!cwd.join(given).exists(), "{given}: a file was made for it");
        }
    }
}

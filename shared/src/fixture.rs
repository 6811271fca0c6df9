//! The demo database: a small shop, generated the same way on every machine.
//!
//! Four tables (customers, products, orders, order_items; about 820,000 rows, 40 MB) are enough
//! for real analytic queries: light ones over a few weeks of orders, heavy ones over years.
//! The rows come from a seeded generator, so every machine builds the same file and every
//! checksum in a report can be compared with anyone else's.
//!
//! The file is built once and reused. Building is atomic: the rows go into a temporary file
//! beside the target, which is renamed into place only when complete, and an exclusive lock on
//! `<path>.lock` makes programs started at the same moment wait for the one that builds instead
//! of building too (a rename over a file that another program already has open would leave it
//! reading a different file than its WAL index describes). A file with this project's
//! `application_id` but an older `user_version`, or shorter than its header says, is rebuilt.
//!
//! Any other SQLite file given with `--db` is the user's own: it is opened read-only, never
//! modified, and a statement that tries to write fails for that task alone. A run whose tasks
//! write works on a scratch copy of the database instead, the fixture's or the user's, made
//! for the run and removed after it ([`Database::scratch_copy`]).

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::backup::Backup;
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Batch, Connection, OpenFlags, params};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::write_settings::{CREATE_TABLE, Synchronous, TABLE, WriteSettings};

/// Bumped whenever the schema or the generated rows change, so that old files are rebuilt.
pub const SCHEMA_VERSION: u32 = 1;
/// "SHOP": marks a file as this project's fixture, which it may rebuild; any other is the user's.
const APPLICATION_ID: u32 = 0x5348_4f50;

const CUSTOMERS: i64 = 20_000;
const PRODUCTS: i64 = 2_000;
const ORDERS: i64 = 200_000;
const DAYS: i64 = 4 * 365 + 1; // 2021-01-01 to 2024-12-31
const SEED: u64 = 0x005e_ed0f_5709;

const SCHEMA: &str = "
    CREATE TABLE customers (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,
        email     TEXT NOT NULL,
        region    TEXT NOT NULL,
        joined_on TEXT NOT NULL
    );
    CREATE TABLE products (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        category    TEXT NOT NULL,
        price_cents INTEGER NOT NULL
    );
    CREATE TABLE orders (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        ordered_on  TEXT NOT NULL,
        status      TEXT NOT NULL
    );
    CREATE TABLE order_items (
        order_id         INTEGER NOT NULL REFERENCES orders (id),
        product_id       INTEGER NOT NULL REFERENCES products (id),
        quantity         INTEGER NOT NULL,
        unit_price_cents INTEGER NOT NULL
    );
";

const INDEXES: &str = "
    CREATE INDEX orders_by_customer ON orders (customer_id);
    CREATE INDEX orders_by_date ON orders (ordered_on);
    CREATE INDEX items_by_order ON order_items (order_id);
    CREATE INDEX items_by_product ON order_items (product_id);
    ANALYZE;
";

/// The database a run reads: this project's fixture, or a user's own file, always read-only;
/// or, for a run that writes, a scratch copy of either (see [`Database::scratch_copy`]).
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    is_fixture: bool,
    scratch: Option<Arc<Scratch>>,
}

/// A writing run's copy of the database, in a temporary folder removed when the last clone of
/// its [`Database`] is dropped (worker processes end with `_exit` and drop nothing).
#[derive(Debug)]
struct Scratch {
    folder: tempfile::TempDir,
    settings: WriteSettings,
    /// The tables the run's SQL writes, with the rows each held before the run.
    tables: Vec<(String, u64)>,
    /// Whether each writing task records its id in the run's own table, [`TABLE`] (see
    /// [`Database::records_tasks`]).
    records_tasks: bool,
    /// What the copy was made from, and the writing SQL it was made for: what a fresh copy
    /// needs ([`Database::fresh_copy`]).
    origin: Database,
    writing: Vec<String>,
}

/// What a look at a file's header found.
enum OnDisk {
    Missing,
    Empty,
    Fixture,
    StaleFixture(&'static str),
    Other,
    NotSqlite,
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

    /// The write settings of a scratch copy; `None` for a database only read.
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

    fn connect(&self) -> rusqlite::Result<Connection> {
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

/// Reads the 100-byte SQLite header directly: it says whether the file is ours, which version,
/// and how long it should be, without opening (and so without touching) a user's database.
fn inspect(path: &Path) -> OnDisk {
    let Ok(mut file) = File::open(path) else {
        return OnDisk::Missing;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return OnDisk::Empty;
    }
    let mut header = [0u8; 100];
    if file.read_exact(&mut header).is_err() || &header[..16] != b"SQLite format 3\0" {
        return OnDisk::NotSqlite;
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    if be32(68) != APPLICATION_ID {
        return OnDisk::Other;
    }
    if be32(60) != SCHEMA_VERSION {
        return OnDisk::StaleFixture("from another version of this project");
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if len < page_size * u64::from(be32(28)) {
        return OnDisk::StaleFixture("truncated");
    }
    OnDisk::Fixture
}

/// Builds the fixture at `path` unless another program does it first, under an exclusive lock.
fn build_locked(path: &Path) -> Result<()> {
    let sibling = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::system(format!(
            "building the fixture at {}: {what}: {e}",
            path.display()
        ))
    };
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sibling(".lock"))
        .map_err(|e| fail("lock file", &e))?;
    // Blocks while another program builds; the lock is released when `lock` is dropped.
    lock.lock().map_err(|e| fail("lock", &e))?;
    if matches!(inspect(path), OnDisk::Fixture) {
        return Ok(());
    }
    let building = sibling(".building");
    let _ = fs::remove_file(&building);
    let started = Instant::now();
    let rows = generate(&building).map_err(|e| fail("generate", &e))?;
    // A stale file's WAL and index must not be mistaken for the new file's.
    for stale in [sibling("-wal"), sibling("-shm")] {
        let _ = fs::remove_file(stale);
    }
    fs::rename(&building, path).map_err(|e| fail("rename", &e))?;
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built the fixture database {}: {rows} rows, {:.1} MB, in {:.1} s (reused from now on)",
        path.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// SplitMix64: a tiny, well-mixed generator. Seeded, so the data is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as i64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace", "Guido",
    "Hedy", "Ivan", "John", "Ken", "Leslie", "Linus", "Margaret", "Niklaus", "Radia", "Tony",
];
const LAST: &[&str] = &[
    "Allen", "Backus", "Cerf", "Dijkstra", "Hamilton", "Hopper", "Kay", "Knuth", "Lamport",
    "Liskov", "Lovelace", "McCarthy", "Perlman", "Ritchie", "Shannon", "Thompson", "Torvalds",
    "Turing", "Wirth", "Wozniak",
];
const REGIONS: &[&str] = &["North", "South", "East", "West", "Central"];
const CATEGORIES: &[&str] = &[
    "Books", "Garden", "Kitchen", "Music", "Office", "Outdoor", "Tools", "Toys", "Travel", "Games",
];
const ADJECTIVES: &[&str] = &[
    "Sturdy", "Compact", "Classic", "Deluxe", "Handy", "Quiet", "Rapid", "Smart", "Solid", "Bright",
];
const NOUNS: &[&str] = &[
    "Kettle", "Lamp", "Notebook", "Speaker", "Backpack", "Drill", "Puzzle", "Chair", "Tent", "Mug",
    "Clock", "Guitar",
];

/// Writes every row into a new file at `path`; returns how many rows it wrote.
fn generate(path: &Path) -> rusqlite::Result<i64> {
    let mut progress = Progress::new("building the fixture database");
    let mut conn = Connection::open(path)?;
    // The file is renamed into place only when complete, so a crash mid-build loses nothing:
    // no journal and no fsync are needed while writing it.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;",
    )?;
    conn.execute_batch(SCHEMA)?;
    let days: Vec<String> = conn
        .prepare(
            "WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < ?1)
             SELECT date('2021-01-01', '+' || n || ' days') FROM d",
        )?
        .query_map([DAYS - 1], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rng = Rng(SEED);
    let mut rows = 0;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for id in 1..=CUSTOMERS {
            let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
            let email = format!(
                "{}.{}.{id}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            let day = &days[rng.below(DAYS) as usize];
            insert.execute(params![
                id,
                format!("{first} {last}"),
                email,
                rng.pick(REGIONS),
                day
            ])?;
        }
        rows += CUSTOMERS;
        progress.show(rows as u64, "rows");

        let mut prices = Vec::with_capacity(PRODUCTS as usize);
        let mut insert = tx.prepare("INSERT INTO products VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=PRODUCTS {
            let name = format!("{} {} {id}", rng.pick(ADJECTIVES), rng.pick(NOUNS));
            let price = 199 + rng.below(49_800);
            prices.push(price);
            insert.execute(params![id, name, rng.pick(CATEGORIES), price])?;
        }
        rows += PRODUCTS;

        let mut order = tx.prepare("INSERT INTO orders VALUES (?1, ?2, ?3, ?4)")?;
        let mut item = tx.prepare("INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=ORDERS {
            let status = match rng.below(100) {
                0..85 => "delivered",
                85..93 => "shipped",
                93..97 => "cancelled",
                _ => "returned",
            };
            // Order dates grow with the order id, as in a real shop, so that a range of ids is
            // also a range of dates.
            let day = &days[(id * DAYS / (ORDERS + 1)) as usize];
            order.execute(params![id, 1 + rng.below(CUSTOMERS), day, status])?;
            for _ in 0..1 + rng.below(5) {
                // The product of two uniform draws favours low ids: a few best sellers.
                let product = rng.below(PRODUCTS) * rng.below(PRODUCTS) / PRODUCTS;
                let discount = [0, 0, 0, 5, 10, 20][rng.below(6) as usize];
                let price = prices[product as usize] * (100 - discount) / 100;
                item.execute(params![id, product + 1, 1 + rng.below(4), price])?;
                rows += 1;
            }
            rows += 1;
            if id % 20_000 == 0 {
                progress.show(rows as u64, "rows");
            }
        }
    }
    tx.commit()?;
    progress.show(rows as u64, "rows; indexing");
    conn.execute_batch(INDEXES)?;
    // WAL, so that readers never take the file's shared lock: many programs (and processes)
    // reading at once do not contend, and a user pointing `--db` at a live WAL database works
    // the same way.
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};
         PRAGMA journal_mode = WAL;"
    ))?;
    progress.done();
    Ok(rows)
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

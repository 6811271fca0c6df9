//! The guide's pitfalls that Rust turns into compile errors, shown rather than claimed.
//!
//! Each `compile_fail` example below is a mistake the Python guide warns about, and `cargo test
//! --doc -p shared` checks that it does not compile. Each has a twin beside it that differs only
//! by the fix and does compile, so an example cannot pass for an unrelated reason (a typo is a
//! compile error too). The error each one gives is named after `compile_fail` (stable rustdoc
//! does not check the code; it was read off the compiler's output when the example was written:
//! E0277 "`RefCell<InnerConnection>` cannot be shared between threads safely", E0499 "cannot
//! borrow `done` as mutable more than once at a time"). `PITFALLS.md` at the top of the
//! repository lists every pitfall, with the ones Rust does not prevent.
//!
//! # One connection shared by two threads without a lock
//!
//! The guide: "SQLite connections are not thread-safe by default" (Python's `sqlite3` raises
//! `ProgrammingError` at run time unless `check_same_thread=False`, and then nothing protects the
//! connection at all). In Rust a [`rusqlite::Connection`] is `Send` (it may move to another
//! thread) but not `Sync` (two threads may not use it at once), so sharing one does not compile:
//!
//! ```compile_fail,E0277
//! let conn = rusqlite::Connection::open_in_memory().unwrap();
//! std::thread::scope(|s| {
//!     s.spawn(|| conn.execute_batch("SELECT 1"));
//!     s.spawn(|| conn.execute_batch("SELECT 1"));
//! });
//! ```
//!
//! The fix this project uses: each connection is lent to one thread at a time, behind a lock
//! ([`ConnectionPool`](crate::ConnectionPool) in `pool.rs`), or owned by one thread or process.
//!
//! ```
//! let conn = std::sync::Mutex::new(rusqlite::Connection::open_in_memory().unwrap());
//! std::thread::scope(|s| {
//!     s.spawn(|| conn.lock().unwrap().execute_batch("SELECT 1"));
//!     s.spawn(|| conn.lock().unwrap().execute_batch("SELECT 1"));
//! });
//! ```
//!
//! # A counter updated from several threads without a lock
//!
//! The guide: "race conditions: use locks when modifying shared state". In Python the unlocked
//! `count += 1` runs and sometimes loses updates. In Rust two threads cannot hold a mutable
//! borrow of the same value, so the racy version is rejected:
//!
//! ```compile_fail,E0499
//! let mut done = 0;
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| done += 1);
//!     }
//! });
//! ```
//!
//! With an atomic (or a `Mutex`) it compiles, and no update is lost:
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! let done = AtomicUsize::new(0);
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| done.fetch_add(1, Ordering::Relaxed));
//!     }
//! });
//! assert_eq!(done.into_inner(), 2);
//! ```
//!
//! # A coroutine called but never awaited
//!
//! The guide: forgetting `await` means the coroutine never runs (Python warns "coroutine was
//! never awaited" at run time, when it is garbage-collected). A Rust future does nothing until
//! it is awaited either, but futures are `#[must_use]`: the compiler flags the call that drops
//! one, and this project's lints (`-D warnings`, as CI runs clippy) make that an error:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! async fn query() -> usize {
//!     1
//! }
//! async fn caller() {
//!     query(); // the query never runs
//! }
//! ```
//!
//! ```
//! #![deny(unused_must_use)]
//! async fn query() -> usize {
//!     1
//! }
//! async fn caller() -> usize {
//!     query().await
//! }
//! ```
//!
//! # A write whose failure nobody looks at
//!
//! The data that concurrent SQLite programs lose is mostly lost this way: a write fails with
//! "database is locked" (`SQLITE_BUSY`), and the code never looks, so nobody knows the row is
//! missing. In Python the exception must be caught to be lost, but a bare `except: pass`, or a
//! thread whose exception goes nowhere, does it. In Rust the failure is a `Result`, and a
//! `Result` is `#[must_use]`: dropping one unlooked-at is flagged, and an error here:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! fn save(conn: &rusqlite::Connection) {
//!     conn.execute("INSERT INTO task_writes (task_id, payload) VALUES (1, 'x')", []);
//! }
//! ```
//!
//! ```
//! #![deny(unused_must_use)]
//! fn save(conn: &rusqlite::Connection) -> rusqlite::Result<usize> {
//!     conn.execute("INSERT INTO task_writes (task_id, payload) VALUES (1, 'x')", [])
//! }
//! ```
//!
//! The compiler cannot stop `let _ = conn.execute(...)`, which says "I do not care" out loud.
//! Every write of this project reports its failure as its task's outcome, and after a run of
//! the `writes` preset the report counts the rows in the database to prove that none was lost.
//!
//! # What the compiler does not catch
//!
//! Deadlocks compile: two threads that take two locks in opposite orders wait for each other
//! forever, in Rust as in Python. This project avoids them by design, not by the compiler: no
//! code holds two locks at once, and a worker releases the queue's lock before it runs its job.
//! `threading_executor`'s test `the_queue_lock_is_not_held_while_a_job_runs` fails if that
//! changes.

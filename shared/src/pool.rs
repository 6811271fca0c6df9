//! A few SQLite connections shared by many threads, each lent out only for a task's SQL.
//!
//! Threads are what wait a task's latency; a connection is needed only while SQL runs, and no
//! more SQL can run at once than there are cores. A connection per thread is right for a few
//! threads and waste for many: each connection parses the schema and keeps its own page cache,
//! so a thousand threads with a connection each pay for a thousand caches and a thousand opens
//! before the first task. So the thread-based methods share [`ConnectionPool::size_for`]
//! connections: one per worker up to twice the cores (the spare ones cover queries that stall:
//! a hang holds its connection until its timeout).
//!
//! A waiting thread sleeps on a `Condvar` until a connection is given back. That wait needs no
//! timeout of its own: every query that holds a connection ends by its own deadline, and a task
//! that gets one after its deadline is timed out by [`execute`](crate::task::execute) without
//! running.
//!
//! **A connection of a worker's own**, when the pool has one for every worker
//! ([`ConnectionPool::open_for`], [`ConnectionPool::take_for`]): then no worker ever waits for
//! another's, and each keeps one to itself, in a slot no other thread touches. What it buys:
//! the shared pool's lock is taken twice per task by every worker, and on a tiny task the
//! threads meet on it (and its cache line moves from core to core); a slot of one's own is a
//! lock nobody else takes. Measured on this project's 2-core machine with `cargo bench -p bench`
//! (each method against its bare floor), three rounds alternating with a build that shares the
//! pool's lock, medians with their range: threading 1.48x (1.42–1.73) with its own connections,
//! 2.04x (1.73–2.12) without; the thread pool 1.75x (1.57–1.84) with, 1.77x (1.52–3.37) without,
//! which the noise hides. A worker's own is lent where it lies, under its slot's lock, not moved
//! out of the slot and back: a `Connection` is 192 bytes, and the two copies were 4%
//! of the thread pool's time in `perf`. Against a build that moves it, three rounds alternating,
//! per task against the floor: threading 1.42–1.63x lent in place, 1.96–2.22x moved; the thread
//! pool 1.83–1.89x in place, 1.38–3.16x moved, on a day when the sequential row, the same code
//! in both builds, varied from 1.31x to 2.55x.

use std::ops::Deref;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};

use rusqlite::Connection;

use crate::database::Database;
use crate::error::Result;
use crate::task::TaskConnection;

pub struct ConnectionPool {
    idle: Mutex<Idle>,
    returned: Condvar,
    size: usize,
    /// A connection for each worker, when there are enough: `take_for(i)` takes the `i`th.
    own: Vec<Slot>,
}

/// A worker's own connection, on a cache line of its own: slots side by side would make the
/// workers' cores pass the line back and forth, as the shared lock does.
#[repr(align(64))]
struct Slot(Mutex<Connection>);

/// What the pool's lock protects.
struct Idle {
    connections: Vec<Connection>,
    /// Threads asleep in [`ConnectionPool::take`]. A `notify` is a system call even when nobody
    /// waits, so a returned connection wakes a thread only when one sleeps: with 10,000 tiny
    /// tasks that is most of the pool's cost.
    sleeping: usize,
}

impl ConnectionPool {
    /// How many connections `workers` threads share: one each, up to twice the cores.
    pub fn size_for(workers: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        workers.min(cores * 2).max(1)
    }

    /// Opens every connection up front, so that a database that cannot be opened is one clear
    /// error before the run, not a failure in every task.
    pub fn open(database: &Database, size: usize) -> Result<ConnectionPool> {
        ConnectionPool::open_for(database, size, 0)
    }

    /// [`ConnectionPool::open`], for `workers` workers that take their connections with
    /// [`ConnectionPool::take_for`]: if there are `size` ≥ `workers` connections, each worker
    /// has one of its own.
    pub fn open_for(database: &Database, size: usize, workers: usize) -> Result<ConnectionPool> {
        let mut connections = (0..size)
            .map(|_| database.open())
            .collect::<Result<Vec<_>>>()?;
        let own = match size >= workers {
            true => connections.drain(..workers),
            false => connections.drain(..0),
        };
        let own = own.map(|conn| Slot(Mutex::new(conn))).collect();
        Ok(ConnectionPool {
            idle: Mutex::new(Idle {
                connections,
                sleeping: 0,
            }),
            returned: Condvar::new(),
            size,
            own,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Takes an idle connection, sleeping until one is given back if all are in use. The
    /// [`Lease`] gives it back when dropped, even when the task panics.
    pub fn take(&self) -> Lease<'_> {
        let mut idle = self.lock();
        let mut waited = false;
        loop {
            if let Some(conn) = idle.connections.pop() {
                return Lease {
                    conn: Loan::Shared(Some(conn)),
                    pool: self,
                    waited,
                };
            }
            waited = true;
            idle.sleeping += 1;
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
            idle.sleeping -= 1;
        }
    }

    /// Worker `worker`'s own connection if it has one (see [`ConnectionPool::open_for`]), and
    /// otherwise one taken as [`ConnectionPool::take`] takes it.
    pub fn take_for(&self, worker: usize) -> Lease<'_> {
        // Lent where it lies, under its slot's lock, which only its worker takes. A worker
        // that takes a second connection before giving its own back (none does) finds the
        // lock held, and gets one from the rest.
        let own = self.own.get(worker).and_then(|slot| try_lock(&slot.0));
        match own {
            Some(conn) => Lease {
                conn: Loan::Own(conn),
                pool: self,
                waited: false,
            },
            None => self.take(),
        }
    }

    /// Nothing panics while this lock is held (it only moves connections in and out of a
    /// `Vec`), so it is never poisoned; were it, the state would still be whole.
    fn lock(&self) -> MutexGuard<'_, Idle> {
        lock(&self.idle)
    }
}

/// Nothing panics while the pool's own lock is held (it only moves connections in and out), so
/// it is never poisoned; were it, what it guards would still be whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A worker's slot, if nobody holds it. Its lock is held through the worker's task, and a task
/// may panic (an injected `panic`): that poisons the lock but leaves the connection whole, and
/// its next task takes it as it is, as `lock` does.
fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// A connection on loan from a [`ConnectionPool`], given back when dropped.
pub struct Lease<'a> {
    conn: Loan<'a>,
    pool: &'a ConnectionPool,
    /// Whether [`ConnectionPool::take`] slept until a connection was given back.
    waited: bool,
}

/// A worker's own connection stays in its slot, lent by holding the slot's lock: nothing to
/// move out and back. One of the rest is moved out of the pool and back.
enum Loan<'a> {
    Own(MutexGuard<'a, Connection>),
    /// `Some` until `drop` gives it back.
    Shared(Option<Connection>),
}

impl TaskConnection for Lease<'_> {
    fn waited(&self) -> bool {
        self.waited
    }
}

impl Deref for Lease<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match &self.conn {
            Loan::Own(conn) => conn,
            // Taken out only in `drop`, after which nothing can use the lease.
            Loan::Shared(conn) => conn
                .as_ref()
                .expect("a lease holds its connection until dropped"),
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // A worker's own goes back as its slot's lock is released, after this.
        let Loan::Shared(conn) = &mut self.conn else {
            return;
        };
        let Some(conn) = conn.take() else {
            return;
        };
        let mut idle = self.pool.lock();
        idle.connections.push(conn);
        let someone_sleeps = idle.sleeping > 0;
        // Unlocked before waking, so the woken thread does not wake only to wait for it.
        drop(idle);
        if someone_sleeps {
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small database of a user's, and the folder that holds it.
    fn database() -> (tempfile::TempDir, Database) {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("user.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);"))
            .expect("a database");
        let database = Database::prepare(Some(&path), true).expect("it opens");
        (folder, database)
    }

    /// Marks a connection with a setting of its own, to know it again.
    fn mark(conn: &Connection, mark: i64) {
        conn.pragma_update(None, "cache_size", -mark).expect("set");
    }

    fn mark_of(conn: &Connection) -> i64 {
        -conn
            .pragma_query_value(None, "cache_size", |row| row.get::<_, i64>(0))
            .expect("read")
    }

    #[test]
    fn with_one_for_every_worker_each_worker_gets_its_own_back_every_time() {
        let (_folder, database) = database();
        let pool = ConnectionPool::open_for(&database, 2, 2).expect("opened");
        mark(&pool.take_for(0), 100);
        mark(&pool.take_for(1), 101);
        for _ in 0..3 {
            // Each worker's own, even while the other holds its.
            let (first, second) = (pool.take_for(0), pool.take_for(1));
            assert_eq!((mark_of(&first), mark_of(&second)), (100, 101));
            assert!(!first.waited() && !second.waited());
        }
    }

    #[test]
    fn a_worker_that_takes_a_second_while_holding_its_own_gets_one_of_the_rest() {
        let (_folder, database) = database();
        let pool = ConnectionPool::open_for(&database, 3, 2).expect("opened");
        mark(&pool.take_for(0), 100);
        let own = pool.take_for(0);
        // Its own is lent under its slot's lock: a second take must not wait on that lock.
        let second = pool.take_for(0);
        assert_eq!(mark_of(&own), 100);
        mark(&second, 300);
        drop((own, second));
        assert_eq!(mark_of(&pool.take_for(0)), 100, "its own again");
        assert_eq!(mark_of(&pool.take()), 300, "the other back among the rest");
    }

    #[test]
    fn with_fewer_than_workers_they_share_and_a_second_one_waits_for_the_first() {
        let (_folder, database) = database();
        let pool = ConnectionPool::open_for(&database, 1, 2).expect("opened");
        mark(&pool.take_for(0), 7);
        // The one connection is shared: worker 1 gets the one worker 0 gave back.
        assert_eq!(mark_of(&pool.take_for(1)), 7);
        let held = pool.take_for(0);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| pool.take_for(1).waited());
            while pool.lock().sleeping == 0 {
                std::thread::yield_now();
            }
            drop(held);
            assert!(
                other.join().expect("no panic"),
                "it slept until one came back"
            );
        });
    }
}

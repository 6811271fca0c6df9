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

use std::ops::Deref;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use crate::database::Database;
use crate::error::Result;
use crate::task::TaskConnection;

pub struct ConnectionPool {
    idle: Mutex<Idle>,
    returned: Condvar,
    size: usize,
}

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
        let connections = (0..size)
            .map(|_| database.open())
            .collect::<Result<Vec<_>>>()?;
        Ok(ConnectionPool {
            idle: Mutex::new(Idle {
                connections,
                sleeping: 0,
            }),
            returned: Condvar::new(),
            size,
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
                    conn: Some(conn),
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

    /// Nothing panics while this lock is held (it only moves connections in and out of a
    /// `Vec`), so it is never poisoned; were it, the state would still be whole.
    fn lock(&self) -> MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection on loan from a [`ConnectionPool`], given back when dropped.
pub struct Lease<'a> {
    /// `Some` until `drop` gives it back.
    conn: Option<Connection>,
    pool: &'a ConnectionPool,
    /// Whether [`ConnectionPool::take`] slept until a connection was given back.
    waited: bool,
}

impl TaskConnection for Lease<'_> {
    fn waited(&self) -> bool {
        self.waited
    }
}

impl Deref for Lease<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Taken out only in `drop`, after which nothing can use the lease.
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
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
}

//! Where a task's SQL goes once its wait is over: to a connection of the pool, as `lib.rs`
//! teaches; or, with `--sql-on spawn-blocking`, to tokio's blocking threads (`spawn_blocking.rs`);
//! a write, with `--writer single`, to the writer, awaited on the loop (`writer.rs`); and a write
//! with `--writer lock` or `--hold-ms` through its turn at the lock and its transaction, held
//! open across an `.await` (`transaction.rs`).
//!
//! `lib.rs` makes one call here, [`Sql::run`], so that a task reads the same whichever way it
//! takes. A first reading can skip this file: the default is `run_sql` in `lib.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::{Clock, Outcome, Plan, Result, Task};

use crate::SqlOn;
use crate::connections::Pool;
use crate::spawn_blocking::Lender;
use crate::transaction::{self, Connections};
use crate::writer::{self, WriteLock};

/// Where the SQL runs (`--sql-on`), and the lock writes take first (`--writer lock`).
pub(crate) struct Sql {
    on: On,
    write_lock: Option<WriteLock>,
}

enum On {
    Connections(Arc<Pool>),
    SpawnBlocking(Lender),
}

impl Sql {
    /// Opens `connections` connections to `plan`'s database, for `--sql-on` to run the SQL on.
    pub(crate) fn open(sql_on: SqlOn, plan: &Plan, connections: usize) -> Result<Sql> {
        let database = &plan.database;
        let on = match sql_on {
            SqlOn::Connections => On::Connections(Arc::new(Pool::open(database, connections)?)),
            SqlOn::SpawnBlocking => On::SpawnBlocking(Lender::open(database, connections)?),
        };
        Ok(Sql {
            on,
            write_lock: WriteLock::of(plan),
        })
    }

    /// The rest of a task whose wait is over, under its deadline: a write for the single writer
    /// is awaited here, on the loop; a write with a lock to take or a wait inside it goes to
    /// `transaction.rs`; any other SQL goes where `--sql-on` says.
    pub(crate) async fn run(
        &self,
        task: Task,
        started: Duration,
        deadline: Instant,
        clock: Clock,
    ) -> Outcome {
        let connections = match &self.on {
            On::Connections(pool) => Connections::Pool(pool),
            On::SpawnBlocking(lender) => Connections::Lender(lender),
        };
        match task.writes.clone() {
            Some(writes) if writes.is_single() => {
                writer::write(&task, &writes, started, deadline, clock).await
            }
            // Boxed: a task's future is as large as its largest arm, and a million tasks in
            // flight should not each carry room for a held transaction none of them opens.
            Some(writes) if self.write_lock.is_some() || !writes.settings.hold.is_zero() => {
                let lock = self.write_lock.as_ref();
                let write =
                    transaction::write(connections, lock, task, &writes, started, deadline, clock);
                Box::pin(write).await
            }
            _ => match connections {
                Connections::Pool(pool) => {
                    crate::run_sql(task, pool, started, deadline, clock).await
                }
                Connections::Lender(lender) => lender.run_sql(task, started, deadline, clock).await,
            },
        }
    }

    /// Closes the connections' threads, once every task is done. A lender's connections need
    /// no closing: they are plain connections, closed when dropped.
    pub(crate) async fn close(&self) {
        if let On::Connections(pool) = &self.on {
            pool.close().await;
        }
    }

    /// The threads these connections started that the runtime does not count: tokio-rusqlite
    /// starts one per connection of its own; a lender's connections run on the runtime's
    /// blocking threads, which it counts.
    pub(crate) fn own_threads(&self) -> usize {
        match &self.on {
            On::Connections(pool) => pool.connections.len(),
            On::SpawnBlocking(_) => 0,
        }
    }
}

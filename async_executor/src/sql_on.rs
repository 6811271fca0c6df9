//! Where a task's SQL goes once its wait is over: to a connection of the pool, as `lib.rs`
//! teaches; or, with `--sql-on spawn-blocking`, to tokio's blocking threads (`spawn_blocking.rs`);
//! and a write, with `--writer single`, to the writer, awaited on the loop (`writer.rs`).
//!
//! `lib.rs` makes one call here, [`Sql::run`], so that a task reads the same whichever of the
//! three it takes. A first reading can skip this file: the default is `run_sql` in `lib.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::{Clock, Database, Outcome, Result, Task};

use crate::SqlOn;
use crate::connections::Pool;
use crate::spawn_blocking::Lender;
use crate::writer;

/// Where the SQL runs (`--sql-on`).
pub(crate) enum Sql {
    Connections(Arc<Pool>),
    SpawnBlocking(Lender),
}

impl Sql {
    /// Opens `connections` connections, for `--sql-on` to run the SQL on.
    pub(crate) fn open(sql_on: SqlOn, database: &Database, connections: usize) -> Result<Sql> {
        Ok(match sql_on {
            SqlOn::Connections => Sql::Connections(Arc::new(Pool::open(database, connections)?)),
            SqlOn::SpawnBlocking => Sql::SpawnBlocking(Lender::open(database, connections)?),
        })
    }

    /// The rest of a task whose wait is over, under its deadline: a write for the single writer
    /// is awaited here, on the loop; any other SQL goes where `--sql-on` says.
    pub(crate) async fn run(
        &self,
        task: Task,
        started: Duration,
        deadline: Instant,
        clock: Clock,
    ) -> Outcome {
        match (task.writes.as_ref().filter(|w| w.is_single()), self) {
            (Some(writes), _) => writer::write(&task, writes, started, deadline, clock).await,
            (None, Sql::Connections(pool)) => {
                crate::run_sql(task, pool, started, deadline, clock).await
            }
            (None, Sql::SpawnBlocking(lender)) => {
                lender.run_sql(task, started, deadline, clock).await
            }
        }
    }

    /// Closes the connections' threads, once every task is done. A lender's connections need
    /// no closing: they are plain connections, closed when dropped.
    pub(crate) async fn close(&self) {
        if let Sql::Connections(pool) = self {
            pool.close().await;
        }
    }

    /// The threads these connections started that the runtime does not count: tokio-rusqlite
    /// starts one per connection of its own; a lender's connections run on the runtime's
    /// blocking threads, which it counts.
    pub(crate) fn own_threads(&self) -> usize {
        match self {
            Sql::Connections(pool) => pool.connections.len(),
            Sql::SpawnBlocking(_) => 0,
        }
    }
}

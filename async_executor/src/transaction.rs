//! A write in a transaction of its own, the async way: `--writer lock`'s turn awaited on the
//! loop before any connection, and `--hold-ms`'s wait a real `.await` inside the transaction.
//!
//! Read `writer.rs` first: it says why the lock is tokio's and what the hold costs. This file
//! is how. `sql_on.rs` makes one call here, [`write`], for a write with either flag; without
//! them a write goes to the connections as one job, like any other SQL.
//!
//! A held transaction is sent to its connection in two steps (`Writes::begin_in_steps` and
//! `Writes::finish_in_steps`), with the wait on the loop between them. The connection stays
//! inside the transaction in between, so it is kept for this task alone, as sqlx's
//! `pool.begin().await` keeps one: any other task's SQL run on it then would run inside this
//! transaction, and commit or roll back with it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::{Attempt, Clock, Outcome, Status, Task, Writes};
use tokio::time;
use tracing::debug;

use crate::connections::{Pool, Reserved};
use crate::only_waited;
use crate::spawn_blocking::{Lender, Lent};
use crate::writer::WriteLock;

/// Where the connections are (`--sql-on`).
pub(crate) enum Connections<'a> {
    Pool(&'a Arc<Pool>),
    Lender(&'a Lender),
}

/// A task's write, once its wait is over: its turn at `lock` first if there is one, then its
/// transaction, as one job on the connections or, with `--hold-ms`, held open across a wait on
/// a connection kept for it.
pub(crate) async fn write(
    connections: Connections<'_>,
    lock: Option<&WriteLock>,
    task: Task,
    writes: &Arc<Writes>,
    started: Duration,
    deadline: Instant,
    clock: Clock,
) -> Outcome {
    // Held until this returns: after the commit, the rollback, or the timeout.
    let _turn = match lock {
        Some(lock) => match lock.take(&task, deadline).await {
            Some(turn) => Some(turn),
            None => return only_waited(&task, started, Status::TimedOut, clock),
        },
        None => None,
    };
    let hold = writes.settings.hold;
    if hold.is_zero() {
        return match connections {
            Connections::Pool(pool) => crate::run_sql(task, pool, started, deadline, clock).await,
            Connections::Lender(lender) => lender.run_sql(task, started, deadline, clock).await,
        };
    }
    // Kept under the deadline: with every connection held, the task times out waiting here.
    let kept = match connections {
        Connections::Pool(pool) => match time::timeout_at(deadline.into(), pool.reserve()).await {
            Ok(Some(reserved)) => Kept::Reserved(reserved),
            Ok(None) | Err(_) => return only_waited(&task, started, Status::TimedOut, clock),
        },
        Connections::Lender(lender) => match lender.lend(deadline).await {
            Ok(lent) => Kept::Lent(lent),
            Err(status) => return only_waited(&task, started, status, clock),
        },
    };
    let sql_started = clock.now();
    let status = held(&kept, &task, writes, hold, deadline).await;
    let attempt = Attempt {
        started,
        sql_started: Some(sql_started),
        finished: clock.now(),
        status,
    };
    Outcome::new(&task, kept.name(), attempt)
}

/// The transaction in two steps on `kept`, with `hold` awaited on the loop between them.
///
/// Once the first step has begun the transaction, the second always runs, whatever happened
/// meanwhile: past the deadline it rolls back and answers timed out. The connection is never
/// given back inside a transaction, where the next task's SQL would join it.
async fn held(
    kept: &Kept,
    task: &Task,
    writes: &Arc<Writes>,
    hold: Duration,
    deadline: Instant,
) -> Status {
    let lost = || Status::Failed("its connection's thread ended before answering".to_string());
    let begun = {
        let (writes, task) = (Arc::clone(writes), task.clone());
        kept.call(move |conn| caught(|| writes.begin_in_steps(conn, &task, deadline)))
    };
    // `Err` is the task's outcome: its first statement failed, hung or panicked, and the
    // transaction is rolled back.
    let open = match begun.await {
        Some(Ok(open)) => open,
        Some(Err(status)) => return status,
        None => return lost(),
    };
    debug!(task = task.id, ?hold, "holding the write transaction open");
    // The `.await` inside the transaction: the loop runs other tasks, the write lock stays
    // taken. Cut short at the deadline, after which the second step only rolls back.
    time::sleep_until((Instant::now() + hold).min(deadline).into()).await;
    let (writes, task) = (Arc::clone(writes), task.clone());
    kept.call(move |conn| {
        caught(|| Ok(writes.finish_in_steps(conn, &task, open, deadline)))
            .unwrap_or_else(|panicked| panicked)
    })
    .await
    .unwrap_or_else(lost)
}

/// Runs a step on the connection's thread, a panic in it made its task's outcome. Uncaught, it
/// would end the thread, and the connection with it. `AssertUnwindSafe` is sound for the reason
/// `shared::catch_panic` gives: a panic mid-transaction rolls back as it unwinds (the steps undo
/// what they began), and leaves the connection whole.
fn caught<T>(step: impl FnOnce() -> Result<T, Status>) -> Result<T, Status> {
    panic::catch_unwind(AssertUnwindSafe(step))
        .unwrap_or_else(|payload| Err(Status::panicked(payload.as_ref())))
}

/// A connection kept for one task's transaction, until dropped.
enum Kept {
    Reserved(Reserved),
    Lent(Lent),
}

impl Kept {
    fn name(&self) -> &Arc<str> {
        match self {
            Kept::Reserved(reserved) => &reserved.name,
            Kept::Lent(lent) => &lent.name,
        }
    }

    async fn call<R: Send + 'static>(
        &self,
        step: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
    ) -> Option<R> {
        match self {
            Kept::Reserved(reserved) => reserved.call(step).await,
            Kept::Lent(lent) => lent.call(step).await,
        }
    }
}

//! `--blocking`: the guide's pitfall "blocking calls will freeze the entire event loop", made
//! runnable.
//!
//! Each task here does what a Python coroutine does when it calls `time.sleep` and `sqlite3`
//! directly: it waits its latency with `std::thread::sleep` and runs its SQL on the event-loop
//! thread itself, on a connection the loop owns. Neither call ever returns control to the loop
//! (there is no `.await` in `run_task` below), so while one task sleeps, no other task, timer or
//! result can make progress. On the `io` workload the eight waits then run one after another,
//! 1.3 s in all, as long as the sequential baseline (1.0x), where awaited they overlap and the
//! run lasts about as long as the longest, 0.3 s (at best 4.33x). Compare it with `lib.rs`,
//! where the wait is `tokio::time::sleep(..).await` and the SQL goes to the connections' own
//! threads: that is the whole fix.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use shared::{Attempt, Clock, Outcome, Outcomes, Plan, Result, Status, Task};

/// Gathers every task of the plan on `runtime` as `lib.rs` does, but each one blocks the loop:
/// `lib.rs`'s one call here. They share one connection, the loop's, since they all run on its
/// thread.
pub(crate) fn gather_blocking(
    plan: &Plan,
    in_flight: usize,
    runtime: &tokio::runtime::Runtime,
    clock: Clock,
) -> Result<Outcomes> {
    let conn = Arc::new(Mutex::new(plan.database.open()?));
    Ok(runtime.block_on(crate::gather(plan, in_flight, |task| {
        run_task(task, Arc::clone(&conn), plan.timeout, clock)
    })))
}

/// A task that blocks the loop it runs on. `async` only in name: it never awaits.
async fn run_task(
    task: Task,
    conn: Arc<Mutex<rusqlite::Connection>>,
    timeout: Duration,
    clock: Clock,
) -> Outcome {
    let started = clock.now();
    let deadline = clock.at(started) + timeout;
    // The mistake: a blocking sleep holds the loop's thread for the whole latency. It cannot be
    // cut short at the deadline either; a task that slept past it is timed out just after.
    std::thread::sleep(task.latency());
    let sql_started = clock.now();
    // The lock is never contended on the current-thread runtime, where one task runs at a time;
    // a panic in the SQL leaves the connection whole, so a poisoned lock is still usable.
    let status = {
        let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
        panic::catch_unwind(AssertUnwindSafe(|| shared::execute(&conn, &task, deadline)))
            .unwrap_or_else(|payload| Status::panicked(payload.as_ref()))
    };
    let attempt = Attempt {
        started,
        sql_started: Some(sql_started),
        finished: clock.now(),
        status,
    };
    Outcome::new(&task, &crate::EVENT_LOOP.into(), attempt)
}

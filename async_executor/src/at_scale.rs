//! What a hundred thousand waiting tasks need and eight do not.
//!
//! MEASURED

use std::future::Future;
use std::pin::Pin;

use shared::Plan;

/// How many tasks are in flight at once when `--workers` does not say: all of them, as `gather`
/// does, up to this many. Past it, more tasks in flight would only queue for the same few
/// connections, and each one waiting is memory.
pub const MOST_IN_FLIGHT: usize = 100_000;

/// How many tasks may be in flight at once: `--workers`, or all of them up to
/// [`MOST_IN_FLIGHT`].
pub(crate) fn in_flight(plan: &Plan) -> usize {
    let tasks = plan.workload.tasks.len();
    plan.workers.unwrap_or(tasks.min(MOST_IN_FLIGHT)).max(1)
}

/// The part of a task that runs after its wait, in an allocation of its own, made when the wait
/// is over.
///
/// A tokio task is as large as the largest state its future can be in, for its whole life. The
/// SQL's state (the answer's channel, the timer of the deadline) is the large one; boxed, it
/// costs a waiting task one pointer's worth of room instead.
pub(crate) fn boxed<F: Future>(after_the_wait: F) -> Pin<Box<F>> {
    Box::pin(after_the_wait)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use shared::{Database, Preset, Workload};

    fn plan(tasks: usize, workers: Option<usize>) -> Plan {
        Plan {
            workload: Workload::preset(Preset::Overhead, Some(tasks)),
            database: Database::prepare(None).expect("the fixture is built"),
            workers,
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn every_task_is_in_flight_at_once_up_to_the_most_unless_workers_say_otherwise() {
        assert_eq!(in_flight(&plan(8, None)), 8);
        assert_eq!(in_flight(&plan(MOST_IN_FLIGHT + 1, None)), MOST_IN_FLIGHT);
        assert_eq!(in_flight(&plan(MOST_IN_FLIGHT + 1, Some(200_000))), 200_000);
        assert_eq!(in_flight(&plan(0, None)), 1);
    }
}

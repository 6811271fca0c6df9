//! What a million tasks need and eight do not: a bound on how many are in flight at once.
//!
//! `asyncio.gather` of a million coroutines holds a million of them in memory, and so would
//! `gather` in `lib.rs`: every task spawned holds its future, its place in the `JoinSet`, and,
//! once its SQL is ready, a place in the connections' queue, about 1.5 KB in all. Past a point,
//! more tasks in flight only queue longer for the same few connections. So without `--workers`,
//! at most [`MOST_IN_FLIGHT`] tasks are in flight; the rest wait as entries in the plan.
//!
//! What it buys, on this project's 2-core machine, shared with other builds while measured
//! (median of 5 runs, alternating builds, min–max in brackets):
//!
//! - peak memory of `async_executor --workload overhead --tasks 1000000 --no-baseline --json`
//!   (`/usr/bin/time -f %M`): 194 MiB (194–196) with the bound at 50,000; 262 MiB (261–262)
//!   with it at 100,000, over the 250 MiB this project allows; 1,020 MiB with no bound;
//! - `--workload scale --tasks 100000 --no-baseline --json` (100,000 waits of 100 ms), on a
//!   quiet moment: 73 MiB (73–76) and 0.45 s (0.42–0.49) with the bound at 50,000, against
//!   104 MiB (101–105) and 0.46 s (0.43–0.49) with all 100,000 in flight: the waits overlap
//!   either way, and most of the wall is the hand-off of 100,000 queries to 4 connections.
//!
//! Given up: a waiting task's after-the-wait half (its SQL's answer channel and deadline timer)
//! in a box of its own, allocated only when the wait ends, to keep a waiting task small. Measured
//! the same way, it saved 4 MiB at a million tasks (190 against 194) and 5 MiB at 100,000 waits
//! (71 against 76), and with 100,000 in flight it cost 8 MiB on `scale` (113 against 105) while
//! it saved 9 on `overhead`: too little, and too uneven, for a second function and a box in the
//! lesson. Given up too: a `Semaphore` whose permit each task carried and dropped at its end.
//! With it and the box, 100,000 tasks in flight held a million tasks in 241 MiB (240–241),
//! 9 MiB under the limit, and 100,000 waits took 0.36 s (0.35–0.41) in 99 MiB (90–108): waiting
//! for a permit let the tasks already spawned start while the rest were spawned. Gathering one
//! outcome whenever the `JoinSet` is full is plainer; it costs those 0.09 s at 100,000 waits,
//! and a bound of 50,000 leaves room under the limit.

use shared::Plan;

/// How many tasks are in flight at once when `--workers` does not say: all of them, as `gather`
/// does, up to this many.
pub const MOST_IN_FLIGHT: usize = 50_000;

/// How many tasks may be in flight at once: `--workers`, or all of them up to
/// [`MOST_IN_FLIGHT`]; never more than there are tasks, so that the report's workers are the
/// tasks that could really run at once.
pub(crate) fn in_flight(plan: &Plan) -> usize {
    plan.workers_or(MOST_IN_FLIGHT).max(1)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use shared::{Database, Preset, Workload};

    fn plan(tasks: usize, workers: Option<usize>) -> Plan {
        Plan {
            workload: Workload::preset(Preset::Overhead, Some(tasks)),
            database: Database::prepare(None, false).expect("the fixture is built"),
            workers,
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn every_task_is_in_flight_at_once_up_to_the_most_unless_workers_say_otherwise() {
        assert_eq!(in_flight(&plan(8, None)), 8);
        assert_eq!(in_flight(&plan(MOST_IN_FLIGHT + 1, None)), MOST_IN_FLIGHT);
        assert_eq!(
            in_flight(&plan(MOST_IN_FLIGHT + 1, Some(200_000))),
            MOST_IN_FLIGHT + 1
        );
        assert_eq!(in_flight(&plan(8, Some(100_000))), 8);
        assert_eq!(in_flight(&plan(0, None)), 1);
    }
}

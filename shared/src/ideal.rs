//! The best a method could possibly do, so that every speedup is printed beside its ceiling.
//!
//! From the task durations measured in the sequential baseline, with W workers:
//!
//! - the **lower bound**: no schedule finishes before its longest task, nor before the total
//!   work divided among the workers, so `max(longest, total / W)`;
//! - the **list-schedule makespan**: when each task goes, in dispatch order, to the worker that
//!   is free first (what a queue of jobs and a pool of workers do), the last one finishes then.
//!
//! For the `io` preset (sum 1.30 s, longest 0.30 s) with 4 workers in FIFO order that is
//! 0.40 s, so no 4-worker pool can beat 3.25x, while unlimited concurrency reaches 4.33x.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::outcome::Dispatch;

/// The ideal for one run, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ideal {
    /// The list-schedule makespan in the method's own dispatch order.
    pub makespan: f64,
    /// The list-schedule makespan in submission (FIFO) order.
    pub fifo_makespan: f64,
    /// `max(longest, total / workers)`: no order does better.
    pub lower_bound: f64,
}

/// `durations[i]` is task i's measured duration; `expected[i]` what a priority queue sorts on.
pub fn ideal(
    durations: &[f64],
    expected: &[Duration],
    workers: usize,
    dispatch: Dispatch,
) -> Ideal {
    let fifo_makespan = list_schedule(durations.iter().copied(), workers);
    let makespan = match dispatch {
        Dispatch::Fifo => fifo_makespan,
        Dispatch::LongestFirst => {
            let mut order: Vec<usize> = (0..durations.len()).collect();
            // Stable, so that equal expectations keep submission order, as the queue does.
            order.sort_by_key(|&i| Reverse(expected[i]));
            list_schedule(order.iter().map(|&i| durations[i]), workers)
        }
    };
    let longest = durations.iter().copied().fold(0.0, f64::max);
    let total: f64 = durations.iter().sum();
    Ideal {
        makespan,
        fifo_makespan,
        lower_bound: longest.max(total / workers.max(1) as f64),
    }
}

/// The makespan of giving each task, in order, to the worker that becomes free first.
pub fn list_schedule(durations: impl IntoIterator<Item = f64>, workers: usize) -> f64 {
    // A min-heap of the times at which each worker becomes free (as integer nanoseconds, since
    // f64 is not `Ord`). At most one entry per task, so 1,000 workers cost nothing extra.
    let mut free_at: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut makespan = 0;
    for d in durations {
        let start = if free_at.len() < workers.max(1) {
            0
        } else {
            free_at.pop().map_or(0, |r| r.0)
        };
        let end = start + (d * 1e9) as u64;
        makespan = makespan.max(end);
        free_at.push(Reverse(end));
    }
    makespan as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::IO_LATENCIES_MS;

    fn io() -> (Vec<f64>, Vec<Duration>) {
        let d = IO_LATENCIES_MS
            .iter()
            .map(|&ms| ms as f64 / 1000.0)
            .collect();
        let e = IO_LATENCIES_MS
            .iter()
            .map(|&ms| Duration::from_millis(ms))
            .collect();
        (d, e)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn the_guide_workload_with_four_fifo_workers_cannot_beat_3_25x() {
        let (d, e) = io();
        let ideal = ideal(&d, &e, 4, Dispatch::Fifo);
        assert!(close(ideal.makespan, 0.40), "{ideal:?}");
        assert!(close(1.30 / ideal.makespan, 3.25));
        assert!(close(ideal.lower_bound, 0.325));
    }

    #[test]
    fn longest_first_lowers_the_four_worker_makespan_to_350_ms() {
        let (d, e) = io();
        let ideal = ideal(&d, &e, 4, Dispatch::LongestFirst);
        assert!(close(ideal.makespan, 0.35), "{ideal:?}");
        assert!(close(ideal.fifo_makespan, 0.40));
    }

    #[test]
    fn unlimited_workers_are_bound_by_the_longest_task() {
        let (d, e) = io();
        assert!(close(ideal(&d, &e, 8, Dispatch::Fifo).makespan, 0.30));
        assert!(close(ideal(&d, &e, 1000, Dispatch::Fifo).makespan, 0.30));
    }

    #[test]
    fn one_worker_is_the_sum_and_no_tasks_is_zero() {
        let (d, e) = io();
        assert!(close(ideal(&d, &e, 1, Dispatch::Fifo).makespan, 1.30));
        assert_eq!(list_schedule([], 4), 0.0);
    }
}

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

/// The measured durations of a workload's tasks, from the sequential baseline.
#[derive(Debug, Clone, Default)]
pub struct Durations {
    /// Each task's whole duration, start to finish.
    pub tasks: Vec<f64>,
    /// The part of each spent on its SQL (and the program's work on the rows).
    pub sql: Vec<f64>,
    /// What a priority queue sorts each task on: its expected duration.
    pub expected: Vec<Duration>,
}

/// The ideal for `workers` workers taking tasks in `dispatch` order. When their SQL must share
/// `connections` connections, fewer than the workers, no schedule ends before those connections
/// have run all the SQL either, so that bounds the ideal too.
pub fn ideal(
    d: &Durations,
    workers: usize,
    connections: Option<usize>,
    dispatch: Dispatch,
) -> Ideal {
    let fifo: Vec<usize> = (0..d.tasks.len()).collect();
    let mut order = fifo.clone();
    if dispatch == Dispatch::LongestFirst {
        // Stable, so that equal expectations keep submission order, as the queue does.
        order.sort_by_key(|&i| Reverse(d.expected[i]));
    }
    let schedule = |times: &[f64], order: &[usize], slots: usize| {
        list_schedule(order.iter().map(|&i| times[i]), slots)
    };
    let mut makespan = schedule(&d.tasks, &order, workers);
    let mut fifo_makespan = schedule(&d.tasks, &fifo, workers);
    let longest = d.tasks.iter().copied().fold(0.0, f64::max);
    let mut lower_bound = longest.max(d.tasks.iter().sum::<f64>() / workers.max(1) as f64);
    if let Some(connections) = connections.filter(|&c| c < workers) {
        makespan = makespan.max(schedule(&d.sql, &order, connections));
        fifo_makespan = fifo_makespan.max(schedule(&d.sql, &fifo, connections));
        lower_bound = lower_bound.max(d.sql.iter().sum::<f64>() / connections as f64);
    }
    Ideal {
        makespan,
        fifo_makespan,
        lower_bound,
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

    /// The guide's io tasks, as if their queries took no time.
    fn io() -> Durations {
        Durations {
            tasks: IO_LATENCIES_MS
                .iter()
                .map(|&ms| ms as f64 / 1000.0)
                .collect(),
            sql: vec![0.0; 8],
            expected: IO_LATENCIES_MS
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn the_guide_workload_with_four_fifo_workers_cannot_beat_3_25x() {
        let ideal = ideal(&io(), 4, None, Dispatch::Fifo);
        assert!(close(ideal.makespan, 0.40), "{ideal:?}");
        assert!(close(1.30 / ideal.makespan, 3.25));
        assert!(close(ideal.lower_bound, 0.325));
    }

    #[test]
    fn longest_first_lowers_the_four_worker_makespan_to_350_ms() {
        let ideal = ideal(&io(), 4, None, Dispatch::LongestFirst);
        assert!(close(ideal.makespan, 0.35), "{ideal:?}");
        assert!(close(ideal.fifo_makespan, 0.40));
    }

    #[test]
    fn unlimited_workers_are_bound_by_the_longest_task() {
        assert!(close(ideal(&io(), 8, None, Dispatch::Fifo).makespan, 0.30));
        assert!(close(
            ideal(&io(), 1000, None, Dispatch::Fifo).makespan,
            0.30
        ));
    }

    #[test]
    fn sql_that_shares_two_connections_is_bound_by_them() {
        // Eight tasks that are all SQL, 0.3 s each: as many workers, but two connections.
        let cpu = Durations {
            tasks: vec![0.3; 8],
            sql: vec![0.3; 8],
            expected: vec![Duration::ZERO; 8],
        };
        let bound = ideal(&cpu, 8, Some(2), Dispatch::Fifo);
        assert!(
            close(bound.makespan, 1.2) && close(bound.lower_bound, 1.2),
            "{bound:?}"
        );
        // Waits need no connection: the io tasks are not slowed by sharing four.
        assert!(close(
            ideal(&io(), 8, Some(4), Dispatch::Fifo).makespan,
            0.30
        ));
    }

    #[test]
    fn one_worker_is_the_sum_and_no_tasks_is_zero() {
        assert!(close(ideal(&io(), 1, None, Dispatch::Fifo).makespan, 1.30));
        assert_eq!(list_schedule([], 4), 0.0);
    }
}

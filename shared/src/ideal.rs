//! The best a method could possibly do, so that every speedup is printed beside its ceiling.
//!
//! From the task durations measured in the sequential baseline, with W workers:
//!
//! - the **lower bound**: no schedule finishes before its longest task, nor before the total
//!   work divided among the workers, so `max(longest, total / W)`;
//! - the **list-schedule makespan**: when each task goes, in dispatch order, to the worker that
//!   is free first (what a queue of jobs and a pool of workers do), the last one finishes then.
//!
//! - the **cores' bound**: a task's time is its wait, which needs no core, and its work (its SQL
//!   and the program's own work on the rows, measured as the time the baseline's thread needed
//!   a core), which does. However many workers there are, no more than `min(workers, cores)` of
//!   them compute at once, so no schedule ends before `work / min(workers, cores)`.
//!
//! The ideal makespan is the larger of the list schedule and the cores' bound (and, where the
//! workers' SQL shares fewer connections, what those connections need): [`Ideal::bound`] says
//! which of them set it. For the `io` preset (sum 1.30 s, longest 0.30 s, a few ms of work) with
//! 4 workers in FIFO order that is 0.40 s, so no 4-worker pool can beat 3.25x, while unlimited
//! concurrency reaches 4.33x: waits are free. For the `cpu` preset, all work, 4 workers on 2
//! cores can do no better than 2 would: about 2x.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::outcome::Dispatch;

/// The ideal for one run, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ideal {
    /// The list-schedule makespan in the method's own dispatch order, and no less than the
    /// cores (and the shared connections) allow.
    pub makespan: f64,
    /// The same in submission (FIFO) order.
    pub fifo_makespan: f64,
    /// `max(longest, total / workers)`, and no less than the cores allow: no order does better.
    pub lower_bound: f64,
    /// What set `makespan`.
    pub bound: Bound,
}

/// What limits the best schedule: the workers, the cores the work needs, or the connections
/// the SQL shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The list schedule of the tasks on the workers: waits and work alike.
    Workers,
    /// The tasks' work on this machine's cores: more workers than cores compute no faster.
    Cores,
    /// The SQL on the connections it shares, fewer than the workers.
    Connections,
}

impl Bound {
    /// As a report names it.
    pub fn name(self) -> &'static str {
        match self {
            Bound::Workers => "workers",
            Bound::Cores => "cores",
            Bound::Connections => "connections",
        }
    }
}

/// The measured durations of a workload's tasks, from the sequential baseline.
#[derive(Debug, Clone, Default)]
pub struct Durations {
    /// Each task's whole duration, start to finish.
    pub tasks: Vec<f64>,
    /// The part of each spent on its SQL (and the program's work on the rows).
    pub sql: Vec<f64>,
    /// The part of them all that needs a core: the time the baseline's thread needed one, where
    /// it measured that, or else the SQL's time.
    pub work: f64,
    /// What a priority queue sorts each task on: its expected duration.
    pub expected: Vec<Duration>,
}

/// The ideal for `workers` workers taking tasks in `dispatch` order on `cores` cores. When
/// their SQL must share `connections` connections, fewer than the workers, no schedule ends
/// before those connections have run all the SQL either, so that bounds the ideal too.
pub fn ideal(
    d: &Durations,
    workers: usize,
    connections: Option<usize>,
    cores: usize,
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
    let mut bound = Bound::Workers;
    if let Some(connections) = connections.filter(|&c| c < workers) {
        let on_connections = schedule(&d.sql, &order, connections);
        if on_connections > makespan {
            bound = Bound::Connections;
        }
        makespan = makespan.max(on_connections);
        fifo_makespan = fifo_makespan.max(schedule(&d.sql, &fifo, connections));
        lower_bound = lower_bound.max(d.sql.iter().sum::<f64>() / connections as f64);
    }
    // Waits overlap freely; work does not, past one task per core. With no more workers than
    // cores this never binds (the work is part of each task's time, which the workers share).
    let on_cores = d.work / workers.min(cores).max(1) as f64;
    if on_cores > makespan {
        bound = Bound::Cores;
    }
    Ideal {
        makespan: makespan.max(on_cores),
        fifo_makespan: fifo_makespan.max(on_cores),
        lower_bound: lower_bound.max(on_cores),
        bound,
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
    use crate::presets::IO_LATENCIES_MS;

    /// The guide's io tasks, as if their queries took no time.
    fn io() -> Durations {
        Durations {
            tasks: IO_LATENCIES_MS
                .iter()
                .map(|&ms| ms as f64 / 1000.0)
                .collect(),
            sql: vec![0.0; 8],
            work: 0.0,
            expected: IO_LATENCIES_MS
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
        }
    }

    /// Eight tasks that are all work, 0.3 s each.
    fn cpu() -> Durations {
        Durations {
            tasks: vec![0.3; 8],
            sql: vec![0.3; 8],
            work: 2.4,
            expected: vec![Duration::ZERO; 8],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn the_guide_workload_with_four_fifo_workers_cannot_beat_3_25x() {
        let ideal = ideal(&io(), 4, None, 2, Dispatch::Fifo);
        assert!(close(ideal.makespan, 0.40), "{ideal:?}");
        assert!(close(1.30 / ideal.makespan, 3.25));
        assert!(close(ideal.lower_bound, 0.325));
    }

    #[test]
    fn longest_first_lowers_the_four_worker_makespan_to_350_ms() {
        let ideal = ideal(&io(), 4, None, 2, Dispatch::LongestFirst);
        assert!(close(ideal.makespan, 0.35), "{ideal:?}");
        assert!(close(ideal.fifo_makespan, 0.40));
    }

    #[test]
    fn unlimited_workers_are_bound_by_the_longest_task() {
        assert!(close(
            ideal(&io(), 8, None, 2, Dispatch::Fifo).makespan,
            0.30
        ));
        assert!(close(
            ideal(&io(), 1000, None, 2, Dispatch::Fifo).makespan,
            0.30
        ));
    }

    #[test]
    fn sql_that_shares_two_connections_is_bound_by_them() {
        // Eight tasks that are all SQL, 0.3 s each: as many workers, but two connections.
        let cpu = cpu();
        let bound = ideal(&cpu, 8, Some(2), 8, Dispatch::Fifo);
        assert!(
            close(bound.makespan, 1.2) && close(bound.lower_bound, 1.2),
            "{bound:?}"
        );
        assert_eq!(bound.bound, Bound::Connections);
        // Waits need no connection: the io tasks are not slowed by sharing four.
        assert!(close(
            ideal(&io(), 8, Some(4), 2, Dispatch::Fifo).makespan,
            0.30
        ));
    }

    #[test]
    fn work_on_more_workers_than_cores_is_bound_by_the_cores() {
        // 2.4 s of work: 4 workers on 2 cores need 1.2 s, not the 0.6 s 4 cores would.
        let on_two = ideal(&cpu(), 4, None, 2, Dispatch::Fifo);
        assert!(close(on_two.makespan, 1.2), "{on_two:?}");
        assert!(close(on_two.fifo_makespan, 1.2) && close(on_two.lower_bound, 1.2));
        assert_eq!(on_two.bound, Bound::Cores);
        // Up to the cores, the workers bound it as before.
        let two = ideal(&cpu(), 2, None, 2, Dispatch::Fifo);
        assert!(
            close(two.makespan, 1.2) && two.bound == Bound::Workers,
            "{two:?}"
        );
        assert!(close(
            ideal(&cpu(), 4, None, 4, Dispatch::Fifo).makespan,
            0.6
        ));
    }

    #[test]
    fn waits_need_no_core() {
        // The io tasks with 10 ms of work each: 80 ms on 2 cores is far below 400 ms.
        let mut io = io();
        io.work = 0.08;
        let four = ideal(&io, 4, None, 2, Dispatch::Fifo);
        assert!(close(four.makespan, 0.40), "{four:?}");
        assert_eq!(four.bound, Bound::Workers);
    }

    #[test]
    fn one_worker_is_the_sum_and_no_tasks_is_zero() {
        assert!(close(
            ideal(&io(), 1, None, 2, Dispatch::Fifo).makespan,
            1.30
        ));
        assert_eq!(list_schedule([], 4), 0.0);
    }
}

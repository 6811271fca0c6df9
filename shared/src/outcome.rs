//! What happened to each task, and what an executor hands back when its run is over.

use std::sync::Arc;
use std::time::Duration;

use crate::plan::Plan;
use crate::progress::Progress;
use crate::status::{Attempt, Status};
use crate::workload::Task;

/// What happened to one task: who ran it, when (offsets from the run's start), and how it ended.
///
/// A run keeps one per task until its report is written, so it is kept small: 80 bytes, and a
/// million of them 80 MB. Its times are read with the methods of the same names.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The task's id (numbered from 1, in submission order).
    pub task: usize,
    /// Who ran it: a thread's name, a process id, a connection. Shared, not copied: a worker
    /// makes its name once, and each of its outcomes holds the same one (a million outcomes of
    /// four workers hold four names, not a million strings).
    pub worker: Arc<str>,
    started: Offset,
    sql_started: Offset,
    finished: Offset,
    pub status: Status,
}

impl Outcome {
    pub fn new(task: &Task, worker: &Arc<str>, attempt: Attempt) -> Outcome {
        Outcome {
            task: task.id,
            worker: Arc::clone(worker),
            started: Offset::at(attempt.started),
            sql_started: attempt.sql_started.map_or(Offset::NEVER, Offset::at),
            finished: Offset::at(attempt.finished),
            status: attempt.status,
        }
    }

    /// A task that never started: nobody ran it, so it has no times and no worker.
    pub fn not_run(task: usize) -> Outcome {
        Outcome {
            task,
            worker: Arc::from(""),
            started: Offset::NEVER,
            sql_started: Offset::NEVER,
            finished: Offset::NEVER,
            status: Status::NotRun,
        }
    }

    /// When it started on its worker; `None` if it never did.
    pub fn started(&self) -> Option<Duration> {
        self.started.get()
    }

    /// When its SQL started, after its latency; `None` if it never got that far.
    pub fn sql_started(&self) -> Option<Duration> {
        self.sql_started.get()
    }

    pub fn finished(&self) -> Option<Duration> {
        self.finished.get()
    }

    /// How long the task took on its worker, start to finish.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.finished()? - self.started()?)
    }
}

/// An offset from the run's start in 8 bytes, where an `Option<Duration>` takes 16: in
/// nanoseconds (enough for 584 years), with one value kept for a time that never came.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Offset(u64);

impl Offset {
    const NEVER: Offset = Offset(u64::MAX);

    fn at(offset: Duration) -> Offset {
        Offset(u64::try_from(offset.as_nanos()).unwrap_or(u64::MAX - 1))
    }

    fn get(self) -> Option<Duration> {
        (self != Offset::NEVER).then(|| Duration::from_nanos(self.0))
    }
}

/// Collects the outcomes of a run as they arrive, and makes sure that every task ends up with
/// exactly one: a task that never reported is added as [`Status::NotRun`] at the end, so no
/// task is ever missing from a report, whatever went wrong.
pub struct Outcomes {
    arrived: Vec<Outcome>,
    seen: Vec<bool>,
    progress: Progress,
}

impl Outcomes {
    pub fn new(plan: &Plan) -> Outcomes {
        let tasks = plan.workload.tasks.len();
        Outcomes {
            arrived: Vec::with_capacity(tasks),
            seen: vec![false; tasks],
            progress: Progress::new("running"),
        }
    }

    /// Records one outcome, in arrival order.
    ///
    /// # Panics
    /// If the task already has an outcome or is not part of the plan: that is a bug in the
    /// executor, and a report that hid it would be worse than no report.
    pub fn record(&mut self, outcome: Outcome) {
        let seen = &mut self.seen[outcome.task - 1];
        assert!(
            !*seen,
            "task {} reported twice: a bug in the executor",
            outcome.task
        );
        *seen = true;
        self.arrived.push(outcome);
        self.progress.show(self.arrived.len() as u64, "tasks done");
    }

    /// Whether every task has an outcome.
    pub fn complete(&self) -> bool {
        self.arrived.len() == self.seen.len()
    }

    /// The outcomes in arrival order, then a `not_run` one for each task that never reported.
    pub fn finish(mut self) -> Vec<Outcome> {
        self.progress.done();
        let missing = self.seen.iter().enumerate().filter(|(_, seen)| !**seen);
        let not_run: Vec<Outcome> = missing.map(|(i, _)| Outcome::not_run(i + 1)).collect();
        self.arrived.extend(not_run);
        self.arrived
    }
}

/// The order in which a method hands tasks to free workers; the ideal makespan depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dispatch {
    /// In submission order, as a FIFO queue does.
    #[default]
    Fifo,
    /// The longest expected task first, as a priority queue on the latency does.
    LongestFirst,
}

/// What a lane of the human report's timeline stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lanes {
    /// One lane per worker (a thread, a process): a worker runs one task at a time, so its lane
    /// shows its tasks one after another.
    #[default]
    PerWorker,
    /// One lane per task, for async: its tasks wait at once on one thread, and a lane per
    /// connection would draw those overlapping waits one after another, the opposite of what
    /// happened.
    PerTask,
}

/// What an executor hands back: the outcomes and the figures only it can measure.
#[derive(Debug, Clone)]
pub struct Run {
    /// Every task's outcome, in the order the method received them ([`Outcomes::finish`]).
    pub outcomes: Vec<Outcome>,
    /// How many tasks could run at once (for async without a limit, the number of tasks).
    pub workers: usize,
    /// How many SQLite connections the workers' SQL shared, when fewer than the workers (async's
    /// connections, the threads' shared pool): the SQL alone then bounds the ideal too.
    pub connections: Option<usize>,
    pub dispatch: Dispatch,
    /// How the human report's timeline draws this run.
    pub lanes: Lanes,
    /// From the start of `run` until every outcome was in: when the caller has all its answers.
    /// Stopping the workers afterwards is not counted; a method whose shutdown takes notable
    /// time says how long in a note.
    pub wall: Duration,
    /// What it took before the first task could start: threads spawned, processes forked and
    /// ready, a runtime built, connections opened.
    pub startup: Duration,
    /// The children's peak memory, where the method measured it better than `getrusage` can
    /// (after `fork()`, a child's `ru_maxrss` starts at its parent's peak).
    pub children_max_rss_kib: Option<u64>,
    /// The children's memory summed without counting shared pages more than once: each
    /// child's proportional share (`Pss`), where the method measured it.
    pub children_pss_kib: Option<u64>,
    /// The threads the method started for the run, where it counts them (async: its runtime's
    /// and its connections'); the main thread is not one of them.
    pub threads_started: Option<usize>,
    /// Anything the method wants the reader to know about this run, one sentence each.
    pub notes: Vec<String>,
    /// The tasks' work: the time the threads that ran them needed a core, where the method
    /// measured it (the sequential baseline does; the ideal counts the cores from it).
    pub work: Option<Duration>,
}

impl Run {
    /// The rows the ok tasks report: for a run of the `writes` preset, whose tasks each insert
    /// into the run's own table, what the database must hold after it.
    pub fn rows_reported(&self) -> u64 {
        self.outcomes
            .iter()
            .map(|o| match o.status {
                Status::Ok { rows, .. } => rows,
                _ => 0,
            })
            .sum()
    }

    /// A run with what every method measures: the outcomes, how many tasks could run at once,
    /// and its startup and wall times. The rest starts empty (FIFO dispatch, no connection
    /// limit, no children, no notes) and is set with the `with_` methods where a method has it.
    pub fn new(outcomes: Vec<Outcome>, workers: usize, startup: Duration, wall: Duration) -> Run {
        Run {
            outcomes,
            workers,
            connections: None,
            dispatch: Dispatch::Fifo,
            lanes: Lanes::PerWorker,
            wall,
            startup,
            children_max_rss_kib: None,
            children_pss_kib: None,
            threads_started: None,
            notes: Vec::new(),
            work: None,
        }
    }

    /// The tasks' work (see [`Run::work`]).
    pub fn with_work(mut self, work: Duration) -> Run {
        self.work = Some(work);
        self
    }

    /// The SQLite connections the workers' SQL shared (see [`Run::connections`]).
    pub fn with_connections(mut self, connections: usize) -> Run {
        self.connections = Some(connections);
        self
    }

    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Run {
        self.dispatch = dispatch;
        self
    }

    /// The children's memory, as the method measured it in each child.
    pub fn with_children_memory(mut self, max_rss_kib: Option<u64>, pss_kib: Option<u64>) -> Run {
        self.children_max_rss_kib = max_rss_kib;
        self.children_pss_kib = pss_kib;
        self
    }

    /// The threads the method started for the run (see [`Run::threads_started`]).
    pub fn with_threads_started(mut self, threads: usize) -> Run {
        self.threads_started = Some(threads);
        self
    }

    pub fn with_lanes(mut self, lanes: Lanes) -> Run {
        self.lanes = lanes;
        self
    }

    pub fn with_notes(mut self, notes: Vec<String>) -> Run {
        self.notes = notes;
        self
    }
}

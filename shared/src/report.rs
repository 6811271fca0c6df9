//! The run report: one JSON schema for every program, and what the human report is drawn from.
//!
//! This is the schema `--json` prints and `scripts/compare.sh` reads. A program writes it with
//! [`Report`](crate::Report), a task's line at a time, straight from the run's outcomes (that
//! is in `report_builder`); a reader reads it back as a [`RunReport`]. Times are in seconds;
//! task times are offsets from the start of the run. A figure that needs the sequential
//! baseline (`speedup`, the ideal, `efficiency`) is `null` under `--no-baseline`. Every field is
//! always present, `null` where it has no value.
//!
//! ```text
//! schema            1
//! method            "sequential" | "threading" | "threadpool" | "async" | "multiprocessing"
//! workload          preset name, or the workload file's name
//! build             "release" | "debug" (debug figures are for learning, not comparison)
//! cores             CPUs this process may use
//! workers           how many tasks could run at once: the workers started
//! workers_asked     --workers as given (null without it); a method that starts a thread or
//!                   process a worker starts no more than there are tasks
//! connections       how many SQLite connections their SQL shared, when not one per worker
//! threads_started   the threads the method started for the run, where it counts them (async;
//!                   left out otherwise)
//! dispatch          "fifo" | "longest-first"
//! lanes             what a lane of the human timeline stands for: "worker" | "task" (async)
//! timeout_s         each task's timeout, from its start
//! wall_s            the executor's run, start to end, startup included
//! startup_s         before the first task could start (threads, processes, runtime)
//! baseline_wall_s   the sequential baseline's wall time on the same tasks
//! speedup           baseline_wall_s / wall_s
//! ideal_makespan_s  the list-schedule makespan of the baseline's task durations, with these
//!                   workers in this dispatch order, and no less than their work takes on
//!                   min(workers, cores) cores, nor their SQL on the connections it shares
//!                   (see `ideal`)
//! fifo_makespan_s   the same in submission order
//! lower_bound_s     max(longest task, total / workers, work / min(workers, cores))
//! ideal_speedup     baseline_wall_s / ideal_makespan_s
//! ideal_bound       what set the ideal: "workers" (the tasks on the workers), "cores" (the
//!                   tasks' work on this machine's cores) or "connections" (the SQL on the
//!                   connections it shares); null without a baseline
//! baseline_work_s   the time the baseline's thread needed a core for the tasks (its CPU time,
//!                   and on Linux its waits for a core too): the work the cores' bound divides;
//!                   null without a baseline
//! efficiency        ideal_makespan_s / wall_s: 1.0 is the best this many workers can do
//! not_compared      why speedup and efficiency are null: no baseline ran (--no-baseline), there
//!                   were no tasks, or a task of the run or of the baseline did not end ok (a
//!                   run that did not do all the work cannot be compared with one that did);
//!                   null when they are given
//! counts            {ok, failed, timed_out, not_run}
//! latency           {read: {count, p50_s, p95_s, p99_s, max_s}, write: {…}}: each task's time
//!                   from when a worker took it to when its outcome was ready (lock and
//!                   connection waits included, time queued before it not), by kind: "write"
//!                   for the tasks that write, "read" for the rest; a task that never ran has
//!                   none; the percentiles are null when the count is 0
//! usage             {user_cpu_s, sys_cpu_s, max_rss_kib, children_max_rss_kib, children_pss_kib,
//!                    voluntary_context_switches, involuntary_context_switches}
//! writes            for a run whose tasks write: {busy_timeout_ms, begin, synchronous, writer}
//! rows_in_db_after  for a run whose every writing task records its id in the run's own table,
//!                   in its own transaction (the `writes` and `app` presets): how many tasks
//!                   are recorded there, read on a fresh connection after the run; equal to the
//!                   write tasks that ended ok (if not, a note says which differ). `null` when
//!                   the tasks write tables of the user's own and record nothing: rows updated
//!                   or deleted cannot be counted
//! notes             what the method wants the reader to know, one sentence each
//! tasks             by id: {id, name, worker, status, rows, checksum, error, queued_s,
//!                   started_s, sql_started_s, finished_s, arrival, writes}; status is "ok" | "failed"
//!                   | "timed_out" | "not_run"; rows are the rows a query returned, or for a
//!                   task that writes the rows it changed; checksum is 16 hex digits; arrival is
//!                   the order in which the result reached the program (1 = first); queued_s is
//!                   0 in every method: each is given all its tasks when the run starts, so the
//!                   time a task waited for a worker is its started_s
//! ```

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::ideal::Ideal;
use crate::usage::Usage;
use crate::write_settings::WriteSettings;
use clap::ValueEnum;

pub const SCHEMA: u32 = 1;

/// A report as it is read back from `--json`: the summary, then every task.
///
/// The programs do not build one: they write a [`Report`](crate::Report), which draws each
/// task's line from its outcome only as it is written. The JSON is the same.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub summary: Summary,
    pub tasks: Vec<TaskReport>,
}

/// Its summary's fields read as the report's own: `report.wall_s`.
impl Deref for RunReport {
    type Target = Summary;
    fn deref(&self) -> &Summary {
        &self.summary
    }
}

/// Everything in a report but the tasks: a few hundred bytes, however many tasks there were.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub schema: u32,
    pub method: String,
    pub workload: String,
    pub build: String,
    pub cores: usize,
    pub workers: usize,
    #[serde(default)]
    pub workers_asked: Option<usize>,
    pub connections: Option<usize>,
    /// The threads the method started for the run, where it counts them (async does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_started: Option<usize>,
    pub dispatch: String,
    /// What a lane of the human timeline stands for: "worker", or "task" (async).
    #[serde(default = "per_worker")]
    pub lanes: String,
    pub timeout_s: f64,
    pub wall_s: f64,
    pub startup_s: f64,
    pub baseline_wall_s: Option<f64>,
    pub speedup: Option<f64>,
    pub ideal_makespan_s: Option<f64>,
    pub fifo_makespan_s: Option<f64>,
    pub lower_bound_s: Option<f64>,
    pub ideal_speedup: Option<f64>,
    /// What set the ideal: "workers", "cores" or "connections" (see `ideal::Bound`).
    #[serde(default)]
    pub ideal_bound: Option<String>,
    /// The baseline's work: what the cores' bound of the ideal divides among the cores.
    #[serde(default)]
    pub baseline_work_s: Option<f64>,
    pub efficiency: Option<f64>,
    /// Why `speedup` and `efficiency` are `null`, in one sentence; `null` when they are given.
    #[serde(default)]
    pub not_compared: Option<String>,
    pub counts: Counts,
    #[serde(default)]
    pub latency: Latency,
    pub usage: Usage,
    /// `null` for a run that only reads (and in reports written before writes existed).
    #[serde(default)]
    pub writes: Option<WritesReport>,
    #[serde(default)]
    pub rows_in_db_after: Option<u64>,
    pub notes: Vec<String>,
}

/// The write settings of a run whose tasks write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritesReport {
    pub busy_timeout_ms: u64,
    /// "deferred" | "immediate"
    pub begin: String,
    /// "full" | "normal"
    pub synchronous: String,
    /// "shared" | "single" | "lock"
    pub writer: String,
    /// How long each write transaction waited after its first statement (`--hold-ms`); 0 in
    /// reports written before it existed.
    #[serde(default)]
    pub hold_ms: u64,
}

impl From<WriteSettings> for WritesReport {
    fn from(s: WriteSettings) -> WritesReport {
        WritesReport {
            busy_timeout_ms: s.busy_timeout.as_millis() as u64,
            begin: flag_value(s.begin),
            synchronous: flag_value(s.synchronous),
            writer: flag_value(s.writer),
            hold_ms: s.hold.as_millis() as u64,
        }
    }
}

/// A setting as its flag spells it (`immediate`, `single`): clap names every variant.
fn flag_value(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |p| p.get_name().to_string())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub ok: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub not_run: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskReport {
    pub id: usize,
    pub name: String,
    pub worker: Option<String>,
    pub status: String,
    pub rows: Option<u64>,
    pub checksum: Option<String>,
    pub error: Option<String>,
    /// When the task was queued: 0, the run's start, in every method (see the schema above).
    pub queued_s: Option<f64>,
    pub started_s: Option<f64>,
    pub sql_started_s: Option<f64>,
    pub finished_s: Option<f64>,
    pub arrival: Option<usize>,
    /// Whether the task's SQL writes (false in reports written before this field).
    #[serde(default)]
    pub writes: bool,
}

/// Each kind of task's latency, as a server's users feel it: the middle, the slow, the slowest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub read: Percentiles,
    pub write: Percentiles,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub max_s: Option<f64>,
}

impl Counts {
    /// "2 failed", "1 timed out", "3 not run": every kind of ending but ok that happened.
    pub(crate) fn not_ok(&self) -> Vec<String> {
        [
            (self.failed, "failed"),
            (self.timed_out, "timed out"),
            (self.not_run, "not run"),
        ]
        .into_iter()
        .filter(|&(n, _)| n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect()
    }

    pub(crate) fn total(&self) -> usize {
        self.ok + self.failed + self.timed_out + self.not_run
    }
}

impl Summary {
    /// Gives the summary its baseline's wall time, the ideal computed from that baseline, and
    /// the work the ideal's cores' bound divided: the figures a run measured against its own
    /// baseline and one measured against a round's shared baseline (collate) both carry.
    pub fn set_ideal(&mut self, baseline_wall_s: f64, ideal: &Ideal, work_s: f64) {
        self.baseline_wall_s = Some(baseline_wall_s);
        self.ideal_makespan_s = Some(ideal.makespan);
        self.fifo_makespan_s = Some(ideal.fifo_makespan);
        self.lower_bound_s = Some(ideal.lower_bound);
        self.ideal_speedup = (ideal.makespan > 0.0).then(|| baseline_wall_s / ideal.makespan);
        self.ideal_bound = Some(ideal.bound.name().to_string());
        self.baseline_work_s = Some(work_s);
    }

    /// 0 when every task is ok, 1 when the run completed but some task did not.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.counts.ok != self.counts.total())
    }
}

impl RunReport {
    /// How many of the tasks that write ended ok, for a run whose tasks write: what
    /// `rows_in_db_after` is checked against.
    pub fn write_tasks_ok(&self) -> Option<u64> {
        self.writes.as_ref()?;
        Some(
            self.tasks
                .iter()
                .filter(|t| t.writes && t.status == "ok")
                .count() as u64,
        )
    }
}

/// Reports written before `lanes` existed drew one lane per worker.
fn per_worker() -> String {
    "worker".to_string()
}

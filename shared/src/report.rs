//! The run report: one JSON schema for every program, and what the human report is drawn from.
//!
//! This is the schema `--json` prints and `scripts/compare.sh` reads. Times are in seconds;
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
//! workers           how many tasks could run at once
//! connections       how many SQLite connections their SQL shared, when not one per worker
//! dispatch          "fifo" | "longest-first"
//! timeout_s         each task's timeout, from its start
//! wall_s            the executor's run, start to end, startup included
//! startup_s         before the first task could start (threads, processes, runtime)
//! baseline_wall_s   the sequential baseline's wall time on the same tasks
//! speedup           baseline_wall_s / wall_s
//! ideal_makespan_s  the list-schedule makespan of the baseline's task durations, with these
//!                   workers in this dispatch order, and no less than their SQL takes on the
//!                   connections it shares (see `ideal`)
//! fifo_makespan_s   the same in submission order
//! lower_bound_s     max(longest task, total / workers)
//! ideal_speedup     baseline_wall_s / ideal_makespan_s
//! efficiency        ideal_makespan_s / wall_s: 1.0 is the best this many workers can do
//! counts            {ok, failed, timed_out, not_run}
//! usage             {user_cpu_s, sys_cpu_s, max_rss_kib, children_max_rss_kib, children_pss_kib,
//!                    voluntary_context_switches, involuntary_context_switches}
//! writes            for a run whose tasks write: {busy_timeout_ms, begin, synchronous, writer}
//! rows_in_db_after  for a run whose tasks write: the rows in its table after the run, counted
//!                   on a fresh connection; equal to the rows its ok tasks report
//! notes             what the method wants the reader to know, one sentence each
//! tasks             by id: {id, name, worker, status, rows, checksum, error, queued_s,
//!                   started_s, sql_started_s, finished_s, arrival}; status is "ok" | "failed"
//!                   | "timed_out" | "not_run"; checksum is 16 hex digits; arrival is the order
//!                   in which the result reached the program (1 = first)
//! ```

use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::ideal::{Durations, ideal};
use crate::outcome::{Dispatch, Lanes, Run};
use crate::task::Status;
use crate::usage::Usage;
use crate::workload::Plan;
use crate::writes::WriteSettings;
use clap::ValueEnum;

pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub schema: u32,
    pub method: String,
    pub workload: String,
    pub build: String,
    pub cores: usize,
    pub workers: usize,
    pub connections: Option<usize>,
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
    pub efficiency: Option<f64>,
    pub counts: Counts,
    pub usage: Usage,
    /// `null` for a run that only reads (and in reports written before writes existed).
    #[serde(default)]
    pub writes: Option<WritesReport>,
    #[serde(default)]
    pub rows_in_db_after: Option<u64>,
    pub notes: Vec<String>,
    pub tasks: Vec<TaskReport>,
}

/// The write settings of a run whose tasks write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritesReport {
    pub busy_timeout_ms: u64,
    /// "deferred" | "immediate"
    pub begin: String,
    /// "full" | "normal"
    pub synchronous: String,
    /// "shared" | "single"
    pub writer: String,
}

impl From<WriteSettings> for WritesReport {
    fn from(s: WriteSettings) -> WritesReport {
        WritesReport {
            busy_timeout_ms: s.busy_timeout.as_millis() as u64,
            begin: flag_value(s.begin),
            synchronous: flag_value(s.synchronous),
            writer: flag_value(s.writer),
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
    pub queued_s: Option<f64>,
    pub started_s: Option<f64>,
    pub sql_started_s: Option<f64>,
    pub finished_s: Option<f64>,
    pub arrival: Option<usize>,
}

impl RunReport {
    /// Puts together the report of `run`, measured against `baseline` when there is one.
    pub fn new(
        method: &str,
        plan: &Plan,
        run: &Run,
        usage: Usage,
        baseline: Option<&Run>,
    ) -> RunReport {
        let tasks = &plan.workload.tasks;
        let mut reports: Vec<Option<TaskReport>> = vec![None; tasks.len()];
        let mut counts = Counts::default();
        for (arrival, o) in run.outcomes.iter().enumerate() {
            let (rows, checksum, error) = match &o.status {
                Status::Ok { rows, checksum } => {
                    (Some(*rows), Some(format!("{checksum:016x}")), None)
                }
                Status::Failed(message) => (None, None, Some(message.clone())),
                Status::TimedOut => (
                    None,
                    None,
                    Some(format!("timed out after {:?}", plan.timeout)),
                ),
                Status::NotRun => (None, None, None),
            };
            match o.status {
                Status::Ok { .. } => counts.ok += 1,
                Status::Failed(_) => counts.failed += 1,
                Status::TimedOut => counts.timed_out += 1,
                Status::NotRun => counts.not_run += 1,
            }
            let ran = o.status != Status::NotRun;
            reports[o.task - 1] = Some(TaskReport {
                id: o.task,
                name: tasks[o.task - 1].name().to_string(),
                worker: ran.then(|| o.worker.clone()),
                status: o.status.label().to_string(),
                rows,
                checksum,
                error,
                queued_s: ran.then_some(o.queued.as_secs_f64()),
                started_s: o.started.map(|d| d.as_secs_f64()),
                sql_started_s: o.sql_started.map(|d| d.as_secs_f64()),
                finished_s: o.finished.map(|d| d.as_secs_f64()),
                arrival: ran.then_some(arrival + 1),
            });
        }
        let wall = run.wall.as_secs_f64();
        let mut report = RunReport {
            schema: SCHEMA,
            method: method.to_string(),
            workload: plan.workload.name.clone(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_string(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            workers: run.workers,
            connections: run.connections,
            dispatch: match run.dispatch {
                Dispatch::Fifo => "fifo",
                Dispatch::LongestFirst => "longest-first",
            }
            .to_string(),
            lanes: match run.lanes {
                Lanes::PerWorker => "worker",
                Lanes::PerTask => "task",
            }
            .to_string(),
            timeout_s: plan.timeout.as_secs_f64(),
            wall_s: wall,
            startup_s: run.startup.as_secs_f64(),
            baseline_wall_s: None,
            speedup: None,
            ideal_makespan_s: None,
            fifo_makespan_s: None,
            lower_bound_s: None,
            ideal_speedup: None,
            efficiency: None,
            counts,
            usage,
            writes: plan.writes().map(|w| w.settings.into()),
            rows_in_db_after: None,
            notes: run.notes.clone(),
            // `Outcomes::finish` gives every task exactly one outcome, so no slot is empty.
            tasks: reports
                .into_iter()
                .map(|r| r.expect("every task has an outcome"))
                .collect(),
        };
        if let Some(baseline) = baseline {
            let mut durations = Durations {
                tasks: vec![0.0; tasks.len()],
                sql: vec![0.0; tasks.len()],
                expected: tasks.iter().map(|t| t.latency()).collect(),
            };
            for o in &baseline.outcomes {
                let since = |from: Option<Duration>| match (from, o.finished) {
                    (Some(from), Some(to)) => (to - from).as_secs_f64(),
                    _ => 0.0,
                };
                durations.tasks[o.task - 1] = since(o.started);
                durations.sql[o.task - 1] = since(o.sql_started);
            }
            let ideal = ideal(&durations, run.workers, run.connections, run.dispatch);
            let base = baseline.wall.as_secs_f64();
            report.baseline_wall_s = Some(base);
            report.speedup = Some(base / wall);
            report.ideal_makespan_s = Some(ideal.makespan);
            report.fifo_makespan_s = Some(ideal.fifo_makespan);
            report.lower_bound_s = Some(ideal.lower_bound);
            report.ideal_speedup = (ideal.makespan > 0.0).then(|| base / ideal.makespan);
            report.efficiency = (wall > 0.0).then(|| ideal.makespan / wall);
        }
        report
    }

    /// The rows the ok tasks say they wrote, for a run whose tasks write.
    pub fn rows_reported(&self) -> Option<u64> {
        self.writes.as_ref()?;
        Some(
            self.tasks
                .iter()
                .filter(|t| t.status == "ok")
                .filter_map(|t| t.rows)
                .sum(),
        )
    }

    /// 0 when every task is ok, 1 when the run completed but some task did not.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.counts.ok != self.tasks.len())
    }
}

/// Reports written before `lanes` existed drew one lane per worker.
fn per_worker() -> String {
    "worker".to_string()
}

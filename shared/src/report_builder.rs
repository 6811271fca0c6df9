//! How a program puts its run's report together: [`Report`], the summary worked out from the
//! run's outcomes (counts, latency percentiles, the speedup and the ideal against the sequential
//! baseline), and each task's line made from its outcome only as it is written.
//!
//! The schema it writes, and reads back as a `RunReport`, is in `report`.

use std::io::Write;
use std::ops::Deref;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::ideal::{Durations, ideal};
use crate::outcome::{Dispatch, Lanes, Outcome, Run};
use crate::plan::Plan;
use crate::report::{Counts, Latency, Percentiles, SCHEMA, Summary, TaskReport};
use crate::status::Status;
use crate::usage::Usage;
use crate::workload::Task;

impl Percentiles {
    /// The percentiles of `seconds` by nearest rank: p50 is a latency that half the tasks did
    /// not exceed, and so on; every figure is one a task really took.
    fn of(mut seconds: Vec<f32>) -> Percentiles {
        seconds.sort_by(f32::total_cmp);
        let rank = |p: f64| -> Option<f64> {
            let n = seconds.len();
            let at = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            seconds.get(at).map(|&s| f64::from(s))
        };
        Percentiles {
            count: seconds.len(),
            p50_s: rank(0.50),
            p95_s: rank(0.95),
            p99_s: rank(0.99),
            max_s: seconds.last().map(|&s| f64::from(s)),
        }
    }
}

impl Latency {
    /// From the outcomes of a run: each task that ran, from its start to its end. Kept as
    /// `f32` seconds while sorting (microsecond precision up to minutes), so that a million
    /// tasks cost 4 MB here, not more.
    fn of(run: &Run, tasks: &[Task]) -> Latency {
        let (mut read, mut write) = (Vec::new(), Vec::new());
        for o in &run.outcomes {
            if let (Some(started), Some(finished)) = (o.started(), o.finished()) {
                let took = finished.saturating_sub(started).as_secs_f32();
                if tasks[o.task - 1].query.writes {
                    write.push(took);
                } else {
                    read.push(took);
                }
            }
        }
        Latency {
            read: Percentiles::of(read),
            write: Percentiles::of(write),
        }
    }
}

impl Counts {
    fn add(&mut self, status: &Status) {
        match status {
            Status::Ok { .. } => self.ok += 1,
            Status::Failed(_) => self.failed += 1,
            Status::TimedOut => self.timed_out += 1,
            Status::NotRun => self.not_run += 1,
        }
    }
}

/// A run's report as its program writes it: the summary, and the run's outcomes, from which
/// each task's line is made only when it is written (`--json`) or drawn (the human report).
/// A million tasks are then a million outcomes in memory, and never a second time as lines:
/// one line exists at a time.
pub struct Report<'run> {
    pub summary: Summary,
    run: &'run Run,
    tasks: &'run [Task],
    timeout: Duration,
    /// For each task id (from 1), where its outcome is in `run.outcomes`, which are in the
    /// order they arrived. (`u32`: 4 MB for a million tasks rather than 8.)
    arrivals: Vec<u32>,
}

/// Its summary's fields read as the report's own, as for [`RunReport`](crate::RunReport).
impl Deref for Report<'_> {
    type Target = Summary;
    fn deref(&self) -> &Summary {
        &self.summary
    }
}

impl<'run> Report<'run> {
    /// Puts together the report of `run`, measured against `baseline` when there is one.
    pub fn new(
        method: &str,
        plan: &'run Plan,
        run: &'run Run,
        usage: Usage,
        baseline: Option<&Run>,
    ) -> Report<'run> {
        let tasks = &plan.workload.tasks;
        let mut counts = Counts::default();
        let mut arrivals = vec![u32::MAX; tasks.len()];
        for (arrival, o) in run.outcomes.iter().enumerate() {
            counts.add(&o.status);
            arrivals[o.task - 1] = u32::try_from(arrival).expect("fewer than 4 billion tasks");
        }
        // `Outcomes::finish` gives every task exactly one outcome, so no slot is left empty.
        assert!(
            arrivals.iter().all(|&a| a != u32::MAX),
            "every task has an outcome"
        );
        let wall = run.wall.as_secs_f64();
        let mut summary = Summary {
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
            workers_asked: plan.workers,
            connections: run.connections,
            threads_started: run.threads_started,
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
            ideal_bound: None,
            baseline_work_s: None,
            efficiency: None,
            not_compared: Some("no sequential baseline ran (--no-baseline)".to_string()),
            counts,
            latency: Latency::of(run, tasks),
            usage,
            writes: plan.writes().map(|w| w.settings.into()),
            rows_in_db_after: None,
            notes: run.notes.clone(),
        };
        if let Some(baseline) = baseline {
            let mut durations = Durations {
                tasks: vec![0.0; tasks.len()],
                sql: vec![0.0; tasks.len()],
                work: 0.0,
                expected: tasks.iter().map(|t| t.latency()).collect(),
            };
            for o in &baseline.outcomes {
                let since = |from: Option<Duration>| match (from, o.finished()) {
                    (Some(from), Some(to)) => (to - from).as_secs_f64(),
                    _ => 0.0,
                };
                durations.tasks[o.task - 1] = since(o.started());
                durations.sql[o.task - 1] = since(o.sql_started());
            }
            durations.work = match baseline.work {
                Some(work) => work.as_secs_f64(),
                None => durations.sql.iter().sum(),
            };
            let cores = summary.cores;
            let ideal = ideal(
                &durations,
                run.workers,
                run.connections,
                cores,
                run.dispatch,
            );
            let base = baseline.wall.as_secs_f64();
            summary.set_ideal(base, &ideal, durations.work);
            summary.not_compared = not_comparable(&summary.counts, baseline);
            if summary.not_compared.is_none() {
                summary.speedup = Some(base / wall);
                summary.efficiency = (wall > 0.0).then(|| ideal.makespan / wall);
            }
            if let Some(e) = summary.efficiency.filter(|&e| e > 1.0) {
                summary.notes.push(above_the_ideal(e));
            }
        }
        Report {
            summary,
            run,
            tasks,
            timeout: plan.timeout,
            arrivals,
        }
    }

    /// How many tasks the run had.
    pub fn task_count(&self) -> usize {
        self.arrivals.len()
    }

    /// Each task's line, in the order the results arrived (tasks that never ran come last).
    pub fn in_arrival_order(&self) -> impl Iterator<Item = TaskReport> + '_ {
        (0..self.run.outcomes.len()).map(|arrival| self.line(arrival))
    }

    /// The run's outcomes, in the order they arrived: what the lines are made from.
    pub fn outcomes(&self) -> &'run [Outcome] {
        &self.run.outcomes
    }

    /// Each task's line, by id: the order of the JSON report.
    pub fn by_id(&self) -> impl Iterator<Item = TaskReport> + '_ {
        self.arrivals
            .iter()
            .map(|&arrival| self.line(arrival as usize))
    }

    /// The line of the task whose outcome arrived `arrival`th (from 0).
    fn line(&self, arrival: usize) -> TaskReport {
        let o = &self.run.outcomes[arrival];
        let (rows, checksum, error) = match &o.status {
            Status::Ok { rows, checksum } => (Some(*rows), Some(format!("{checksum:016x}")), None),
            Status::Failed(message) => (None, None, Some(message.clone())),
            Status::TimedOut => (
                None,
                None,
                Some(format!("timed out after {:?}", self.timeout)),
            ),
            Status::NotRun => (None, None, None),
        };
        let ran = o.status != Status::NotRun;
        TaskReport {
            id: o.task,
            name: self.tasks[o.task - 1].name().to_string(),
            worker: ran.then(|| o.worker.to_string()),
            status: o.status.label().to_string(),
            rows,
            checksum,
            error,
            queued_s: ran.then_some(0.0),
            started_s: o.started().map(|d| d.as_secs_f64()),
            sql_started_s: o.sql_started().map(|d| d.as_secs_f64()),
            finished_s: o.finished().map(|d| d.as_secs_f64()),
            arrival: ran.then_some(arrival + 1),
            writes: self.tasks[o.task - 1].query.writes,
        }
    }

    /// How many of the tasks that write ended ok, for a run whose tasks write: what
    /// `rows_in_db_after` must be when it is given.
    pub fn write_tasks_ok(&self) -> Option<u64> {
        self.summary.writes.as_ref()?;
        let ok = self
            .run
            .outcomes
            .iter()
            .filter(|o| o.status.is_ok() && self.tasks[o.task - 1].query.writes);
        Some(ok.count() as u64)
    }

    /// The rows the ok tasks that write say they changed, for a run whose tasks write.
    pub fn rows_reported(&self) -> Option<u64> {
        self.summary.writes.as_ref()?;
        let writing = self.run.outcomes.iter().filter_map(|o| match o.status {
            Status::Ok { rows, .. } if self.tasks[o.task - 1].query.writes => Some(rows),
            _ => None,
        });
        Some(writing.sum())
    }

    /// Writes the report as JSON, in the schema above, one task's line at a time.
    pub fn write_json(&self, out: impl Write) -> serde_json::Result<()> {
        /// Serialises like `RunReport`, with the tasks made as they are written.
        #[derive(Serialize)]
        struct Streamed<'a> {
            #[serde(flatten)]
            summary: &'a Summary,
            #[serde(serialize_with = "each_line")]
            tasks: &'a Report<'a>,
        }
        fn each_line<S: Serializer>(report: &&Report<'_>, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(report.by_id())
        }
        let streamed = Streamed {
            summary: &self.summary,
            tasks: self,
        };
        serde_json::to_writer_pretty(out, &streamed)
    }
}

/// What an efficiency above 1.0 means. No run beats the best schedule of the baseline's own task
/// durations; one that seems to had a baseline slower than its work needs: a cold cache for the
/// run that went first (the run, whose reads warmed it for the baseline after it, or the other way
/// round), or a noisy machine. Said in so many words, so that nobody takes it for a method that
/// beats the ideal.
fn above_the_ideal(efficiency: f64) -> String {
    format!(
        "efficiency {efficiency:.3} is above 1.0, the best possible: the baseline ran slower than \
         the work needs (a cold cache for one of the two runs, or a noisy machine); rerun to compare"
    )
}

/// Why a run cannot be compared with its baseline, if it cannot: a speedup over work that was
/// not all done (a task failed, timed out or never ran, in the run or in the baseline) would
/// measure the failures, not the method; a timed-out run looks fast. No tasks, no work to time.
fn not_comparable(counts: &Counts, baseline: &Run) -> Option<String> {
    let total = counts.total();
    if total == 0 {
        return Some("there were no tasks, so no work to compare".to_string());
    }
    if counts.ok < total {
        return Some(format!(
            "{} of {total} tasks did not end ok ({}): a run that did not do all the work cannot \
             be compared with one that did",
            total - counts.ok,
            counts.not_ok().join(", ")
        ));
    }
    let baseline_failed = baseline
        .outcomes
        .iter()
        .filter(|o| !o.status.is_ok())
        .count();
    (baseline_failed > 0).then(|| {
        format!(
            "{baseline_failed} of the baseline's tasks did not end ok, so it is no measure of the \
             work"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;
    use crate::outcome::{Outcome, Outcomes};
    use crate::report::RunReport;
    use crate::status::Attempt;
    use std::sync::Arc;

    /// A run of six tasks whose results arrived as 3, 1, 2, 6, 5, and 4 never ran.
    fn run_out_of_order(plan: &Plan) -> Run {
        let worker: Arc<str> = Arc::from("worker-0");
        let mut outcomes = Outcomes::new(plan);
        for (i, id) in [3, 1, 2, 6, 5].into_iter().enumerate() {
            let at = Duration::from_millis(10 * i as u64);
            let attempt = Attempt {
                started: at,
                sql_started: Some(at),
                finished: at + Duration::from_millis(5),
                status: Status::Ok {
                    rows: id as u64,
                    checksum: 0xabc,
                },
            };
            let task = &plan.workload.tasks[id - 1];
            outcomes.record(Outcome::new(task, &worker, attempt));
        }
        Run::new(outcomes.finish(), 2, Duration::ZERO, Duration::from_secs(1))
    }

    #[test]
    fn a_streamed_report_reads_back_with_every_task_once_by_id() {
        let plan = conformance::plan(6, 2, &[]);
        let run = run_out_of_order(&plan);
        let report = Report::new("threading", &plan, &run, Usage::default(), None);
        let mut json = Vec::new();
        report.write_json(&mut json).expect("writes to memory");
        let read: RunReport = serde_json::from_slice(&json).expect("the same schema");

        let ids: Vec<usize> = read.tasks.iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
        let arrivals: Vec<Option<usize>> = read.tasks.iter().map(|t| t.arrival).collect();
        assert_eq!(
            arrivals,
            [Some(2), Some(3), Some(1), None, Some(5), Some(4)]
        );
        let never = &read.tasks[3];
        assert_eq!(
            (never.status.as_str(), never.worker.as_deref()),
            ("not_run", None)
        );
        assert_eq!(read.tasks[2].rows, Some(3));
        assert_eq!(read.tasks[2].checksum.as_deref(), Some("0000000000000abc"));
        assert_eq!(read.tasks[2].name, plan.workload.tasks[2].name());
        assert_eq!((read.counts.ok, read.counts.not_run), (5, 1));
        assert_eq!(read.exit_code(), 1);
        assert_eq!(read.summary.method, report.summary.method);
    }

    #[test]
    fn the_human_table_lists_tasks_in_the_order_their_results_arrived() {
        let plan = conformance::plan(6, 2, &[]);
        let run = run_out_of_order(&plan);
        let report = Report::new("threading", &plan, &run, Usage::default(), None);
        let order: Vec<usize> = report.in_arrival_order().map(|t| t.id).collect();
        assert_eq!(order, [3, 1, 2, 6, 5, 4]);
        let text = crate::render::human(&report);
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("checksum or error"))
            .skip(1)
            .take(6)
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(rows, ["3", "1", "2", "6", "5", "4"], "{text}");
    }

    #[test]
    fn a_users_writing_tasks_report_the_rows_they_changed_and_no_false_alarm() {
        // A user's table of 1,000 rows, and a workload that counts it, empties it, and sums it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x INTEGER);
             WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 999)
             INSERT INTO t SELECT x FROM n;",
        )
        .unwrap();
        drop(conn);
        let database = crate::database::Database::prepare(Some(&path), true).unwrap();
        let query = |name: &str, sql: &str| crate::workload::Query {
            name: name.to_string(),
            sql: sql.to_string(),
            params: Default::default(),
            latency_ms: 0,
            rounds: 1,
            writes: false,
        };
        let pattern = vec![
            query("count", "SELECT count(*) FROM t"),
            query("wipe", "DELETE FROM t"),
            query("sum", "SELECT sum(x) FROM t"),
        ];
        let workload = crate::workload::Workload::from_pattern("mine", pattern, None);
        let plan = conformance::users_plan(database, workload);
        assert!(!plan.database.records_tasks());
        let run = crate::sequential::run(&plan).unwrap();
        let report = Report::new("sequential", &plan, &run, Usage::default(), None);

        assert_eq!(report.rows_reported(), Some(1000), "the DELETE's rows only");
        let text = crate::render::human(&report);
        assert!(!text.contains("a bug"), "{text}");
        assert!(!text.contains("rows/s"), "{text}");
        assert!(
            text.contains("rows changed: 1000 by the ok tasks; not checked against the database"),
            "{text}"
        );
    }

    /// The six tasks of `plan`, each ok.
    fn all_ok(plan: &Plan, took: Duration) -> Run {
        let worker: Arc<str> = Arc::from("main");
        let mut outcomes = Outcomes::new(plan);
        for task in &plan.workload.tasks {
            let attempt = Attempt {
                started: Duration::ZERO,
                sql_started: Some(Duration::ZERO),
                finished: took,
                status: Status::Ok {
                    rows: 1,
                    checksum: 1,
                },
            };
            outcomes.record(Outcome::new(task, &worker, attempt));
        }
        Run::new(outcomes.finish(), 1, Duration::ZERO, took * 6)
    }

    #[test]
    fn a_run_whose_tasks_did_not_all_end_ok_has_no_speedup_and_says_why() {
        let plan = conformance::plan(6, 2, &[]);
        let run = run_out_of_order(&plan);
        let baseline = all_ok(&plan, Duration::from_millis(100));
        let report = Report::new("threading", &plan, &run, Usage::default(), Some(&baseline));
        assert_eq!((report.speedup, report.efficiency), (None, None));
        let why = report.not_compared.as_deref().unwrap_or_default();
        assert!(
            why.contains("1 of 6 tasks did not end ok (1 not run)"),
            "{why}"
        );
        assert!(crate::render::human(&report).contains("no speedup or efficiency: 1 of 6"));
        let complete = Report::new(
            "threading",
            &plan,
            &baseline,
            Usage::default(),
            Some(&baseline),
        );
        assert!(complete.speedup.is_some() && complete.not_compared.is_none());
    }

    #[test]
    fn a_run_with_no_tasks_has_no_speedup() {
        let plan = conformance::plan(0, 2, &[]);
        let run = Run::new(
            Outcomes::new(&plan).finish(),
            2,
            Duration::ZERO,
            Duration::ZERO,
        );
        let report = Report::new("threading", &plan, &run, Usage::default(), Some(&run));
        assert_eq!((report.speedup, report.efficiency), (None, None));
        assert!(
            report
                .not_compared
                .as_deref()
                .unwrap_or_default()
                .contains("no tasks")
        );
    }

    #[test]
    fn an_efficiency_above_one_is_named_as_a_slow_baseline() {
        let plan = conformance::plan(6, 1, &[]);
        // The baseline's tasks took 100 ms each; the run did the same six in 300 ms on one
        // worker, which no schedule of those durations allows.
        let baseline = all_ok(&plan, Duration::from_millis(100));
        let run = all_ok(&plan, Duration::from_millis(50));
        let report = Report::new("threading", &plan, &run, Usage::default(), Some(&baseline));
        assert!(report.efficiency.is_some_and(|e| e > 1.0));
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("above 1.0") && n.contains("rerun")),
            "{:?}",
            report.notes
        );
    }

    #[test]
    fn percentiles_are_latencies_that_tasks_really_took_by_nearest_rank() {
        let p = Percentiles::of((1..=100).map(|ms| ms as f32 / 1000.0).collect());
        let ms = |s: Option<f64>| s.map(|s| (s * 1000.0).round() as u32);
        assert_eq!(p.count, 100);
        assert_eq!(
            (ms(p.p50_s), ms(p.p95_s), ms(p.p99_s), ms(p.max_s)),
            (Some(50), Some(95), Some(99), Some(100))
        );
        let one = Percentiles::of(vec![0.25]);
        assert_eq!((one.p50_s, one.p99_s), (Some(0.25), Some(0.25)));
        let none = Percentiles::of(Vec::new());
        assert_eq!((none.count, none.p50_s, none.max_s), (0, None, None));
    }

    #[test]
    fn an_outcome_is_small_enough_to_keep_a_million() {
        // A run keeps one outcome per task until its report is written: 80 bytes each is 80 MB
        // for a million tasks, within the 250 MB a million-task run is held to.
        assert!(std::mem::size_of::<Outcome>() <= 80);
    }
}

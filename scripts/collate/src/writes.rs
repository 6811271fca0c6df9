//! The writes table: what each method gets out of SQLite's one write lock, and what a writer
//! costs the readers beside it. compare.sh runs the `writes` preset (one-row inserts, each its
//! own transaction, on a scratch copy) with each method on 4 and 16 workers: each worker on its
//! own connection with the defaults (a 5 s busy timeout, `BEGIN IMMEDIATE`), with no busy
//! timeout, with `BEGIN DEFERRED`, and one writer for all; a column is labelled from the
//! settings the reports give. And the io tasks on the hand-written threads, alone and as the
//! first 8 tasks of a workload that writes (`reads-during-writes`), for the reads' SQL time.
//!
//! The reports are in `<raw>/writes` because a failed write is a figure here (`--busy-timeout
//! 0` fails writes by design), not a broken run; a database that does not hold the rows the
//! tasks reported would be one, so each cell checks the one against the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;
use shared::{RunReport, TaskReport, WritesReport};

use crate::format::render;
use crate::model::{Language, ROWS, Row, Spread};
use crate::read::read_run_reports;

/// The hand-written threads' runs of the `io` tasks, alone and as the first tasks of a workload
/// whose other tasks write: the case names compare.sh gives them.
const READS_ALONE: &str = "reads-alone";
const READS_DURING_WRITES: &str = "reads-during-writes";

/// How a run's workers wrote, as its report says (`writes`); templates/writes-settings.md
/// titles a column with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Settings(pub WritesReport);

impl Settings {
    /// The columns' order: shared writers before the single writer; among them `BEGIN
    /// IMMEDIATE` before `DEFERRED`, and the longest busy timeout first. So the defaults come
    /// first, then no busy timeout, then `BEGIN DEFERRED`: the order of the flags.
    pub fn order(&self) -> impl Ord + '_ {
        (
            self.0.writer != "shared",
            self.0.begin != "immediate",
            std::cmp::Reverse(self.0.busy_timeout_ms),
            self.0.synchronous != "full",
            &self.0.writer,
            &self.0.begin,
            &self.0.synchronous,
        )
    }
}

/// One cell of the table: a method on a number of workers with one setting, over its runs.
#[derive(Debug, Serialize)]
pub struct WritesCase {
    pub program: String,
    pub method: String,
    pub workers: usize,
    pub settings: Settings,
    pub tasks: usize,
    /// The rows in the database after the run over its wall time.
    pub rows_per_s: Spread,
    /// The tasks that did not end ok (failed, timed out or not run).
    pub failed: Spread,
    pub rows_in_db_after: Spread,
    /// Each run's rows written as the tasks that ended ok reported them.
    pub rows_reported: Vec<u64>,
    /// Whether every run's database holds exactly the rows its ok tasks reported.
    pub consistent: bool,
    /// Why writes failed, each message with how many failed with it, over every run.
    pub errors: BTreeMap<String, usize>,
}

/// The `io` tasks' SQL time with a writer beside them and without, on the same program.
#[derive(Debug, Serialize)]
pub struct ReadsDuringWrites {
    pub program: String,
    pub method: String,
    pub workers: usize,
    /// The io tasks: the same in both runs.
    pub queries: usize,
    /// The writing tasks beside them.
    pub writes: usize,
    /// Each run's writes that did not end ok.
    pub failed_writes: Vec<usize>,
    /// The io tasks' SQL time (from the SQL's start to the task's end), summed over the tasks.
    pub alone_sql_ms: Spread,
    pub during_writes_sql_ms: Spread,
    /// The median with writes over the median without.
    pub ratio: f64,
    /// In the run where it was fewest: how many queries' SQL overlapped a write in flight.
    pub overlapped: usize,
}

/// Everything in `<raw>/writes`, collated.
#[derive(Debug, Serialize)]
pub struct Writes {
    pub cases: Vec<WritesCase>,
    pub reads_during_writes: ReadsDuringWrites,
}

/// Reads and collates `dir` (`<raw>/writes`). A report that is unreadable, or that does not say
/// how its tasks wrote, is an error that names its file.
pub fn collate(dir: &Path, runs: usize) -> Result<Writes, String> {
    let reports = read_run_reports(dir, runs)?;
    let reports = reports.ok_or_else(|| format!("{}: no such folder", dir.display()))?;
    let mut cases = Vec::new();
    let mut reads = None;
    for (program, mut by_case) in reports {
        let rust = |r: &&Row| r.program == program && r.language == Language::Rust;
        let no_method = || format!("{}: '{program}' is no Rust method", dir.display());
        let row = ROWS.iter().find(rust).ok_or_else(no_method)?;
        let alone = by_case.remove(READS_ALONE);
        if let Some(during) = by_case.remove(READS_DURING_WRITES) {
            let alone = alone.ok_or_else(|| format!("{program}: no '{READS_ALONE}'"))?;
            reads = Some(reads_during_writes(row, &alone, &during)?);
        }
        for (case, runs) in &by_case {
            cases.push(summarise(row, case, runs)?);
        }
    }
    let place = |c: &WritesCase| ROWS.iter().position(|r| r.program == c.program);
    cases.sort_by(|a, b| {
        (place(a), a.workers, a.settings.order()).cmp(&(place(b), b.workers, b.settings.order()))
    });
    let reads = reads.ok_or_else(|| format!("{}: no '{READS_DURING_WRITES}'", dir.display()))?;
    Ok(Writes {
        cases,
        reads_during_writes: reads,
    })
}

/// The tasks of a run that did not end ok.
fn failed(run: &RunReport) -> usize {
    run.tasks.len() - run.counts.ok
}

fn summarise(row: &Row, case: &str, runs: &[RunReport]) -> Result<WritesCase, String> {
    let what = format!("{} {case}", row.program);
    let settings = runs[0].writes.clone().map(Settings);
    let settings = settings.ok_or_else(|| format!("{what}: reports no writes"))?;
    if runs.iter().any(|r| r.writes != runs[0].writes) {
        return Err(format!("{what}: runs wrote differently"));
    }
    let rows_in_db: Option<Vec<u64>> = runs.iter().map(|r| r.rows_in_db_after).collect();
    let rows_in_db = rows_in_db.ok_or_else(|| format!("{what}: no row count"))?;
    // Some, since the report says how its tasks wrote.
    let reported = |r: &RunReport| r.write_tasks_ok().unwrap_or(0);
    let rows_reported: Vec<u64> = runs.iter().map(reported).collect();
    let mut errors = BTreeMap::new();
    let tasks = runs.iter().flat_map(|r| &r.tasks);
    for task in tasks.filter(|t| t.status != "ok") {
        let why = task.error.clone().unwrap_or_else(|| task.status.clone());
        *errors.entry(why).or_default() += 1;
    }
    let spread = |values: Vec<f64>| {
        Spread::of(values).ok_or_else(|| format!("{what}: a figure is not a number"))
    };
    let per_s = |(run, &rows): (&RunReport, &u64)| rows as f64 / run.wall_s;
    Ok(WritesCase {
        program: row.program.to_string(),
        method: row.label(),
        workers: runs[0].workers,
        settings,
        tasks: runs[0].tasks.len(),
        rows_per_s: spread(runs.iter().zip(&rows_in_db).map(per_s).collect())?,
        failed: spread(runs.iter().map(|run| failed(run) as f64).collect())?,
        rows_in_db_after: spread(rows_in_db.iter().map(|&rows| rows as f64).collect())?,
        consistent: rows_in_db == rows_reported,
        rows_reported,
        errors,
    })
}

/// The SQL time (from the SQL's start to the task's end) of the tasks of `run` named in
/// `reads`, summed, in ms; and how many of them had a task not so named, a write, in flight
/// during their SQL.
fn sql_time(run: &RunReport, reads: &[&str]) -> Result<(f64, usize), String> {
    let is_read = |t: &&TaskReport| reads.contains(&t.name.as_str());
    let (of_reads, of_writes): (Vec<&TaskReport>, _) = run.tasks.iter().partition(is_read);
    if let Some(read) = of_reads.iter().find(|t| t.status != "ok") {
        return Err(format!("the read '{}' ended {}", read.name, read.status));
    }
    let spans = |tasks: Vec<&TaskReport>| -> Vec<(f64, f64)> {
        let span = |t: &TaskReport| t.sql_started_s.zip(t.finished_s);
        tasks.into_iter().filter_map(span).collect()
    };
    let (read_spans, write_spans) = (spans(of_reads), spans(of_writes));
    let (n, expected) = (read_spans.len(), reads.len());
    if n != expected {
        return Err(format!("{n} reads with SQL times, expected {expected}"));
    }
    let total_s: f64 = read_spans.iter().map(|(from, to)| to - from).sum();
    let overlaps = |(from, to): &&(f64, f64)| {
        let during = |(start, end): &(f64, f64)| start < to && end > from;
        write_spans.iter().any(during)
    };
    Ok((total_s * 1e3, read_spans.iter().filter(overlaps).count()))
}

fn reads_during_writes(
    row: &Row,
    alone: &[RunReport],
    during: &[RunReport],
) -> Result<ReadsDuringWrites, String> {
    let names: Vec<&str> = alone[0].tasks.iter().map(|t| t.name.as_str()).collect();
    // The reads' SQL time over the runs, and each run's reads that overlapped a write.
    let times = |runs: &[RunReport], case: &str| -> Result<(Spread, Vec<usize>), String> {
        let what = format!("{} {case}", row.program);
        let time = |run| sql_time(run, &names).map_err(|e| format!("{what}: {e}"));
        let each: Vec<(f64, usize)> = runs.iter().map(time).collect::<Result<_, _>>()?;
        let (ms, overlapped) = each.into_iter().unzip();
        let ms = Spread::of(ms).ok_or_else(|| format!("{what}: reads' time not a number"))?;
        Ok((ms, overlapped))
    };
    let (alone_sql_ms, _) = times(alone, READS_ALONE)?;
    let (during_writes_sql_ms, overlapped) = times(during, READS_DURING_WRITES)?;
    Ok(ReadsDuringWrites {
        program: row.program.to_string(),
        method: row.label(),
        workers: during[0].workers,
        queries: names.len(),
        writes: during[0].tasks.len().saturating_sub(names.len()),
        failed_writes: during.iter().map(failed).collect(),
        ratio: during_writes_sql_ms.median / alone_sql_ms.median,
        alone_sql_ms,
        during_writes_sql_ms,
        overlapped: overlapped.into_iter().min().unwrap_or(0),
    })
}

/// The writes section of compare.md, and what the README shows between its writes markers
/// (templates/writes.md).
pub fn markdown(writes: &Writes) -> Result<String, String> {
    // The `--synchronous normal` runs are one method's, for writes-lessons.md: a column of
    // dashes for every other method would only widen the table.
    let full = |c: &&WritesCase| c.settings.0.synchronous == "full";
    let table: Vec<&WritesCase> = writes.cases.iter().filter(full).collect();
    let mut columns: Vec<&Settings> = table.iter().map(|c| &c.settings).collect();
    columns.sort_by(|a, b| a.order().cmp(&b.order()));
    columns.dedup();
    // The cases are in the table's order, so each row's are next to each other.
    let mut rows: Vec<(&str, usize)> = table.iter().map(|c| (&*c.method, c.workers)).collect();
    rows.dedup();
    let row = |(method, workers): (&str, usize)| {
        let cell = |settings: &&Settings| {
            let c = table
                .iter()
                .find(|c| c.method == method && c.workers == workers && c.settings == **settings)?;
            // The first run whose database disagrees with its ok tasks.
            let runs = c.rows_in_db_after.values.iter().zip(&c.rows_reported);
            let wrong = runs.enumerate().find(|(_, (db, ok))| **db != **ok as f64);
            let wrong = wrong.map(|(i, (&in_db, &ok))| context! { run => i + 1, in_db, ok });
            Some(context! { wrong, ..Serde(c) })
        };
        let cells: Vec<Option<Value>> = columns.iter().map(cell).collect();
        context! { method, workers, cells }
    };
    let rows: Vec<Value> = rows.into_iter().map(row).collect();
    let errors: BTreeSet<&String> = table.iter().flat_map(|c| c.errors.keys()).collect();
    let first = writes.cases.first();
    render(
        "writes.md",
        context! {
            tasks => first.map_or(0, |c| c.tasks),
            runs => first.map_or(0, |c| c.rows_per_s.values.len()),
            columns => Serde(columns),
            rows,
            errors => Serde(errors),
            reads => Serde(&writes.reads_during_writes),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/writes`: hand-made reports of one run each, small enough to check by eye. On 4
    /// workers, threading_executor writes 4 rows in 0.5 s with the defaults; with no busy
    /// timeout, 2 of its writes fail and the database holds 3 rows where its ok tasks reported
    /// 2; with `BEGIN DEFERRED`, 3 fail and 1 row is written in 0.5 s; a single writer writes
    /// the 4 in 0.1 s. sequential writes 4 rows in 1 s, with the defaults only. The two reads
    /// take 10 + 20 ms of SQL alone and 15 + 30 ms beside writes that are in flight during the
    /// first only.
    fn fixture() -> Writes {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writes");
        collate(&dir, 1).expect("the fixture collates")
    }

    const DEFAULTS: &str = "shared: busy timeout 5 s, `BEGIN IMMEDIATE`";
    const THREADS: &str = "threading (Rust, hand-written)";

    /// The cell of writes.md's table in the row of `method` on `workers`, under the column
    /// titled `column`.
    fn cell_of(writes: &Writes, method: &str, workers: usize, column: &str) -> String {
        let md = markdown(writes).expect("writes.md renders");
        let table: Vec<Vec<&str>> = md
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
            .collect();
        let column = table[0].iter().position(|t| *t == column);
        let row = table
            .iter()
            .find(|r| r[0] == method && r[1] == workers.to_string());
        let (row, column) = row.zip(column).expect("the case is in the table");
        row[column].to_string()
    }

    #[test]
    fn rows_per_second_are_the_rows_in_the_database_over_the_wall_time() {
        let writes = fixture();
        assert_eq!(
            cell_of(&writes, THREADS, 4, DEFAULTS),
            "8 rows/s, 0 failed, 4 rows ✓"
        );
        assert_eq!(
            cell_of(&writes, THREADS, 4, "single writer"),
            "40 rows/s, 0 failed, 4 rows ✓"
        );
        assert_eq!(
            cell_of(&writes, "sequential (Rust, baseline)", 1, DEFAULTS),
            "4 rows/s, 0 failed, 4 rows ✓"
        );
    }

    #[test]
    fn failed_writes_are_counted_and_their_errors_named() {
        let writes = fixture();
        assert_eq!(
            cell_of(
                &writes,
                THREADS,
                4,
                "shared: busy timeout 5 s, `BEGIN DEFERRED`"
            ),
            "2 rows/s, 3 failed, 1 row ✓"
        );
        let md = markdown(&writes).unwrap();
        assert!(
            md.contains("\nWhy writes failed: “database is locked”.\n"),
            "{md}"
        );
    }

    #[test]
    fn a_database_that_disagrees_with_the_ok_tasks_is_flagged_with_both_figures() {
        assert_eq!(
            cell_of(
                &fixture(),
                THREADS,
                4,
                "shared: busy timeout 0, `BEGIN IMMEDIATE`"
            ),
            "12 rows/s, 2 failed, 3 rows ✗ (run 1: 3 in the database, 2 reported by the ok tasks)"
        );
    }

    #[test]
    fn the_columns_follow_the_flags_and_a_setting_a_method_did_not_run_is_a_dash() {
        let md = markdown(&fixture()).unwrap();
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(
            table[0],
            "| method | workers | shared: busy timeout 5 s, `BEGIN IMMEDIATE` \
             | shared: busy timeout 0, `BEGIN IMMEDIATE` \
             | shared: busy timeout 5 s, `BEGIN DEFERRED` | single writer |"
        );
        assert_eq!(
            table[2],
            "| sequential (Rust, baseline) | 1 | 4 rows/s, 0 failed, 4 rows ✓ | – | – | – |"
        );
        assert!(
            table[3].starts_with("| threading (Rust, hand-written) | 4 | 8 rows/s"),
            "{md}"
        );
        assert_eq!(table.len(), 4, "{md}");
    }

    #[test]
    fn reads_during_writes_compare_the_io_queries_sql_time_and_say_which_overlapped() {
        let writes = fixture();
        let reads = &writes.reads_during_writes;
        assert_eq!((reads.queries, reads.writes, reads.workers), (2, 2, 16));
        assert!((reads.alone_sql_ms.median - 30.0).abs() < 1e-9);
        assert!((reads.during_writes_sql_ms.median - 45.0).abs() < 1e-9);
        assert_eq!(reads.overlapped, 1);
        let md = markdown(&writes).unwrap();
        let line = md.lines().last().expect("the reads line");
        assert!(line.contains("spent 45.0 ms in SQL"), "{line}");
        assert!(
            line.contains("against 30.0 ms alone: 1.50x as long"),
            "{line}"
        );
        assert!(line.contains("Only 1 of the 2 queries"), "{line}");
    }
}

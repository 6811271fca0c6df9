//! The writes table: what each method gets out of SQLite's one write lock, and what a writer
//! costs the readers beside it.
//!
//! `scripts/compare.sh` runs the `writes` preset (one-row inserts, each in a transaction of its
//! own, on a scratch copy of the database) with each method, on 4 and 16 workers, four ways:
//! every worker writing on its own connection (`--writer shared`) with the defaults (a 5 s busy
//! timeout, `BEGIN IMMEDIATE`), with no busy timeout, with `BEGIN DEFERRED`, and one writer
//! committing for all of them (`--writer single`). Each column is labelled from the settings
//! the reports give, not from the script's names for them. It also runs the `io` workload on
//! the hand-written threads alone, and again as the first 8 tasks of a workload whose other
//! tasks write (`reads-during-writes`), to compare the reads' SQL time.
//!
//! These reports are in `<raw>/writes`, apart from the others, because a failed write is a
//! figure here, not a broken run: `--busy-timeout 0` fails writes by design. What would be a
//! broken run is a database that does not hold the rows the tasks reported writing, so each
//! cell checks the one against the other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;
use shared::{RunReport, WritesReport};

use crate::format::render;
use crate::model::{Language, ROWS, Spread};
use crate::read::read_reports;

/// The hand-written threads' runs of the `io` tasks, alone and as the first tasks of a workload
/// whose other tasks write: the case names compare.sh gives them.
const READS_ALONE: &str = "reads-alone";
const READS_DURING_WRITES: &str = "reads-during-writes";

/// How a run's workers wrote, as its report says (`writes`), with the table's order and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Settings(pub WritesReport);

impl Settings {
    fn of(report: &RunReport) -> Option<Settings> {
        report.writes.clone().map(Settings)
    }

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

    /// `shared: busy timeout 5 s, BEGIN IMMEDIATE`. A single writer waits for no other writer,
    /// so neither its busy timeout nor its `BEGIN` tells it apart.
    pub fn title(&self) -> String {
        let mut title = match self.0.writer.as_str() {
            "single" => "single writer".to_string(),
            writer => {
                let timeout = match self.0.busy_timeout_ms {
                    0 => "0".to_string(),
                    ms if ms % 1000 == 0 => format!("{} s", ms / 1000),
                    ms => format!("{ms} ms"),
                };
                format!(
                    "{writer}: busy timeout {timeout}, `BEGIN {}`",
                    self.0.begin.to_uppercase()
                )
            }
        };
        if self.0.synchronous != "full" {
            title += &format!(", `synchronous` {}", self.0.synchronous);
        }
        title
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
    let reports = read_reports(dir, runs, |path, program, value| {
        serde_json::from_value::<RunReport>(value)
            .map_err(|e| format!("{} ({program}): not a valid report: {e}", path.display()))
    })?;
    let mut cases = Vec::new();
    let mut reads = None;
    for (program, by_case) in &reports {
        let row = ROWS
            .iter()
            .find(|r| r.program == program && r.language == Language::Rust)
            .ok_or_else(|| format!("{}: '{program}' is no Rust method", dir.display()))?;
        for (case, runs) in by_case {
            if case == READS_ALONE {
                continue;
            }
            if case == READS_DURING_WRITES {
                let alone = by_case
                    .get(READS_ALONE)
                    .ok_or_else(|| format!("{program}: '{case}' without '{READS_ALONE}'"))?;
                reads = Some(reads_during_writes(&row.label(), program, alone, runs)?);
            } else {
                cases.push(summarise(&row.label(), program, case, runs)?);
            }
        }
    }
    // In the table's order: by method, then by workers, then by column.
    let place = |program: &str| ROWS.iter().position(|r| r.program == program);
    cases.sort_by(|a, b| {
        (place(&a.program), a.workers, a.settings.order()).cmp(&(
            place(&b.program),
            b.workers,
            b.settings.order(),
        ))
    });
    Ok(Writes {
        cases,
        reads_during_writes: reads
            .ok_or_else(|| format!("{}: no '{READS_DURING_WRITES}' measurement", dir.display()))?,
    })
}

fn summarise(
    method: &str,
    program: &str,
    case: &str,
    runs: &[RunReport],
) -> Result<WritesCase, String> {
    let first = &runs[0];
    let what = || format!("{program} {case}");
    let settings =
        Settings::of(first).ok_or_else(|| format!("{}: its report says no writes", what()))?;
    let mut rows_in_db = Vec::new();
    let mut rows_reported = Vec::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for run in runs {
        if Settings::of(run).as_ref() != Some(&settings) {
            return Err(format!("{}: runs wrote differently", what()));
        }
        rows_in_db.push(
            run.rows_in_db_after
                .ok_or_else(|| format!("{}: no rows_in_db_after", what()))?,
        );
        // Some, since the report says how its tasks wrote.
        rows_reported.push(run.write_tasks_ok().unwrap_or(0));
        for task in run.tasks.iter().filter(|t| t.status != "ok") {
            let why = task.error.clone().unwrap_or_else(|| task.status.clone());
            *errors.entry(why).or_default() += 1;
        }
    }
    let spread = |values: Vec<f64>| {
        Spread::of(values).ok_or_else(|| format!("{}: a figure is not a number", what()))
    };
    Ok(WritesCase {
        program: program.to_string(),
        method: method.to_string(),
        workers: first.workers,
        settings,
        tasks: first.tasks.len(),
        rows_per_s: spread(
            runs.iter()
                .zip(&rows_in_db)
                .map(|(run, &rows)| rows as f64 / run.wall_s)
                .collect(),
        )?,
        failed: spread(
            runs.iter()
                .map(|run| (run.tasks.len() - run.counts.ok) as f64)
                .collect(),
        )?,
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
    let is_read = |name: &String| reads.contains(&name.as_str());
    if let Some(read) = run
        .tasks
        .iter()
        .find(|t| is_read(&t.name) && t.status != "ok")
    {
        return Err(format!("the read '{}' ended {}", read.name, read.status));
    }
    let spans = |of_reads: bool| -> Vec<(f64, f64)> {
        run.tasks
            .iter()
            .filter(|t| is_read(&t.name) == of_reads)
            .filter_map(|t| t.sql_started_s.zip(t.finished_s))
            .collect()
    };
    let (read_spans, write_spans) = (spans(true), spans(false));
    if read_spans.len() != reads.len() {
        return Err(format!(
            "{} reads with SQL times, expected {}",
            read_spans.len(),
            reads.len()
        ));
    }
    let total_s: f64 = read_spans.iter().map(|(from, to)| to - from).sum();
    let overlapped = read_spans
        .iter()
        .filter(|(from, to)| {
            write_spans
                .iter()
                .any(|(start, end)| start < to && end > from)
        })
        .count();
    Ok((total_s * 1e3, overlapped))
}

fn reads_during_writes(
    method: &str,
    program: &str,
    alone: &[RunReport],
    during: &[RunReport],
) -> Result<ReadsDuringWrites, String> {
    let names: Vec<&str> = alone[0].tasks.iter().map(|t| t.name.as_str()).collect();
    let time = |run: &RunReport, case: &str| {
        sql_time(run, &names).map_err(|e| format!("{program} {case}: {e}"))
    };
    let mut alone_ms = Vec::new();
    for run in alone {
        alone_ms.push(time(run, READS_ALONE)?.0);
    }
    let mut during_ms = Vec::new();
    let mut overlapped = Vec::new();
    let mut failed_writes = Vec::new();
    for run in during {
        let (ms, overlapping) = time(run, READS_DURING_WRITES)?;
        during_ms.push(ms);
        overlapped.push(overlapping);
        failed_writes.push(run.tasks.len() - run.counts.ok);
    }
    let queries = names.len();
    let writes = during[0].tasks.len().saturating_sub(queries);
    let spread = |values: Vec<f64>| {
        Spread::of(values).ok_or_else(|| format!("{program}: reads' time not a number"))
    };
    let (alone_sql_ms, during_writes_sql_ms) = (spread(alone_ms)?, spread(during_ms)?);
    Ok(ReadsDuringWrites {
        program: program.to_string(),
        method: method.to_string(),
        workers: during[0].workers,
        queries,
        writes,
        failed_writes,
        ratio: during_writes_sql_ms.median / alone_sql_ms.median,
        alone_sql_ms,
        during_writes_sql_ms,
        overlapped: overlapped.into_iter().min().unwrap_or(0),
    })
}

/// A cell of the table, its figures written (`812 rows/s (790–830)`, `0 failed`, `2000 rows`),
/// and the first run whose database disagrees with its ok tasks, with both of its figures.
fn cell(case: &WritesCase) -> Value {
    let rows = if case.rows_in_db_after.median == 1.0 {
        " row"
    } else {
        " rows"
    };
    let runs = case.rows_in_db_after.values.iter().zip(&case.rows_reported);
    let wrong = runs
        .enumerate()
        .find(|(_, (in_db, reported))| **in_db != **reported as f64);
    context! {
        rate => case.rows_per_s.show(0, " rows/s"),
        failed => case.failed.show(0, " failed"),
        rows => case.rows_in_db_after.show(0, rows),
        wrong => wrong.map(|(i, (&in_db, &reported))| context! { run => i + 1, in_db, reported }),
    }
}

/// The writes section of compare.md, and what the README shows between its writes markers
/// (templates/writes.md): the table, what its cells mean, and the reads line.
pub fn markdown(writes: &Writes) -> Result<String, String> {
    // The `--synchronous normal` runs are one method's, for writes-lessons.md: a column of
    // dashes for every other method would only widen the table.
    let table: Vec<&WritesCase> = writes
        .cases
        .iter()
        .filter(|c| c.settings.0.synchronous == "full")
        .collect();
    let (mut columns, mut rows): (Vec<&Settings>, Vec<(&str, usize)>) = (Vec::new(), Vec::new());
    for case in &table {
        if !columns.contains(&&case.settings) {
            columns.push(&case.settings);
        }
        if !rows.contains(&(case.method.as_str(), case.workers)) {
            rows.push((case.method.as_str(), case.workers));
        }
    }
    columns.sort_by(|a, b| a.order().cmp(&b.order()));
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(method, workers)| {
            let cells: Vec<Option<Value>> = columns
                .iter()
                .map(|&settings| {
                    table
                        .iter()
                        .find(|c| {
                            c.method == method && c.workers == workers && c.settings == *settings
                        })
                        .map(|c| cell(c))
                })
                .collect();
            context! { method, workers, cells }
        })
        .collect();
    let errors: BTreeSet<&str> = table
        .iter()
        .flat_map(|c| c.errors.keys().map(String::as_str))
        .collect();
    let reads = &writes.reads_during_writes;
    let first = writes.cases.first();
    render(
        "writes.md",
        context! {
            tasks => first.map_or(0, |c| c.tasks),
            runs => first.map_or(0, |c| c.rows_per_s.values.len()),
            columns => columns.iter().map(|s| s.title()).collect::<Vec<_>>(),
            rows,
            errors => Serde(errors),
            reads => context! {
                during => reads.during_writes_sql_ms.show(1, " ms"),
                alone => reads.alone_sql_ms.show(1, " ms"),
                runs => reads.alone_sql_ms.values.len(),
                failed => reads.failed_writes.iter().max().copied().unwrap_or(0),
                ..Serde(reads)
            },
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

    /// The table's cell, as writes.md shows it, of `program`'s case whose settings `case` keeps:
    /// in the row of its method and workers, under the column titled with its settings.
    fn cell_of(writes: &Writes, program: &str, case: impl Fn(&Settings) -> bool) -> String {
        let case = writes
            .cases
            .iter()
            .find(|c| c.program == program && case(&c.settings))
            .expect("the fixture has this case");
        let md = markdown(writes).expect("writes.md renders");
        let table: Vec<Vec<&str>> = md
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
            .collect();
        let column = table[0].iter().position(|t| *t == case.settings.title());
        let row = table
            .iter()
            .find(|r| r[0] == case.method && r[1] == case.workers.to_string());
        let (row, column) = row.zip(column).expect("the case is in the table");
        row[column].to_string()
    }

    fn defaults(s: &Settings) -> bool {
        s.0.writer == "shared" && s.0.busy_timeout_ms == 5000 && s.0.begin == "immediate"
    }

    #[test]
    fn rows_per_second_are_the_rows_in_the_database_over_the_wall_time() {
        let writes = fixture();
        assert_eq!(
            cell_of(&writes, "threading_executor", defaults),
            "8 rows/s, 0 failed, 4 rows ✓"
        );
        assert_eq!(
            cell_of(&writes, "threading_executor", |s| s.0.writer == "single"),
            "40 rows/s, 0 failed, 4 rows ✓"
        );
        assert_eq!(
            cell_of(&writes, "sequential", defaults),
            "4 rows/s, 0 failed, 4 rows ✓"
        );
    }

    #[test]
    fn failed_writes_are_counted_and_their_errors_named() {
        let writes = fixture();
        assert_eq!(
            cell_of(&writes, "threading_executor", |s| s.0.begin == "deferred"),
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
            cell_of(&fixture(), "threading_executor", |s| s.0.busy_timeout_ms
                == 0),
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

//! The questions Rust users ask most about SQLite and concurrency, each answered with a
//! command and a figure from this run: `questions.md` (every question, answer and link in
//! templates/questions.md; the figures here). Two are measured for the purpose: async's SQL on
//! connection threads (async's own rows of the table) or on `spawn_blocking` with a pool
//! (`<raw>/questions`), and how many connections (the thread pool and async at 16 workers with
//! 1 to 16, on SQL that computes, SQL that waits and the app mix, `<raw>/connections`). The
//! others take their figures from the writes table, the mix and its split, or from a test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use shared::RunReport;

use super::mix::Mix;
use super::split::{Split, methods};
use super::writes::Writes;
use super::writes_lessons::{deferred, no_busy_timeout, trap};
use crate::format::{how_many_runs, render};
use crate::model::programs::{ASYNC, THREADING, THREADPOOL};
use crate::model::{Figure, Spread, best_within};
use crate::read::read_run_reports;

/// One way of running async's SQL on one workload, over its runs.
#[derive(Debug, Serialize)]
pub struct SqlOnCase {
    /// "connections" or "spawn-blocking".
    pub sql_on: String,
    /// "io", "cpu", "fetch", "overhead" or "scale".
    pub workload: String,
    pub tasks: usize,
    pub workers: usize,
    pub wall_s: Spread,
    pub per_task_us: Spread,
    pub threads_started: Spread,
    pub max_rss_kib: Spread,
}

/// One point of the connection sweep.
#[derive(Debug, Serialize)]
pub struct SweepPoint {
    pub program: String,
    /// "cpu-quarter", "io" or "app".
    pub workload: String,
    pub connections: usize,
    pub workers: usize,
    pub tasks_per_s: Spread,
}

#[derive(Debug, Default, Serialize)]
pub struct Questions {
    pub sql_on: Vec<SqlOnCase>,
    pub connection_sweep: Vec<SweepPoint>,
}

/// The table's async rows that are async's SQL on connections, as (the table's case, the
/// workload): they run what `--sql-on connections` runs, so they are not measured twice.
const ASYNC_ROWS: [(&str, &str); 5] = [
    ("iobest", "io"),
    ("cpu2", "cpu"),
    ("fetch2", "fetch"),
    ("overhead", "overhead"),
    ("scale", "scale"),
];
/// The connection sweep's methods and work, in the order its table shows them.
const SWEPT_PROGRAMS: [&str; 2] = [THREADPOOL, ASYNC];
const SWEPT: [&str; 3] = ["cpu-quarter", "io", "app"];

/// A figure of every run, or the error naming the measurement that lacks it.
fn each(runs: &[RunReport], what: &str, f: Figure) -> Result<Spread, String> {
    Spread::each(runs, f).ok_or_else(|| format!("{what}: a figure is missing"))
}

fn sql_on_case(sql_on: &str, workload: &str, runs: &[RunReport]) -> Result<SqlOnCase, String> {
    let what = format!("{sql_on} {workload}");
    let per_task = |r: &RunReport| Some(r.wall_s / r.tasks.len().max(1) as f64 * 1e6);
    Ok(SqlOnCase {
        sql_on: sql_on.to_string(),
        workload: workload.to_string(),
        tasks: runs[0].tasks.len(),
        workers: runs[0].workers,
        wall_s: each(runs, &what, &|r| Some(r.wall_s))?,
        per_task_us: each(runs, &what, &per_task)?,
        threads_started: each(runs, &what, &|r| r.threads_started.map(|n| n as f64))?,
        max_rss_kib: each(runs, &what, &|r| Some(r.usage.max_rss_kib as f64))?,
    })
}

/// The runs of one of async's rows in `<raw>`, or `None` when the run has not all of them.
fn async_row(raw: &Path, case: &str, runs: usize) -> Result<Option<Vec<RunReport>>, String> {
    let read = |run| {
        let path = raw.join(format!("async_executor__{case}__r{run}.json"));
        let text = std::fs::read_to_string(&path).ok()?;
        Some(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())))
    };
    let reports: Option<Result<_, _>> = (1..=runs).map(read).collect();
    reports.transpose()
}

/// Reads `<raw>/questions`, async's rows of the table beside them, and `<raw>/connections`, or
/// nothing when the run has neither folder.
pub fn collate(raw: &Path, runs: usize) -> Result<Option<Questions>, String> {
    let mut q = Questions::default();
    let folder =
        |name: &str| Ok::<_, String>(read_run_reports(&raw.join(name), runs)?.unwrap_or_default());
    for (program, cases) in folder("questions")? {
        for (case, runs) in cases {
            let what = format!("questions/{program}__{case}");
            let split = case.rsplit_once('-');
            let (sql_on, workload) =
                split.ok_or_else(|| format!("{what}: not <sql-on>-<workload>"))?;
            q.sql_on.push(sql_on_case(sql_on, workload, &runs)?);
        }
    }
    if !q.sql_on.is_empty() {
        for (case, workload) in ASYNC_ROWS {
            if q.case("connections", workload).is_none()
                && let Some(runs) = async_row(raw, case, runs)?
            {
                q.sql_on.push(sql_on_case("connections", workload, &runs)?);
            }
        }
    }
    for (program, cases) in folder("connections")? {
        for (case, runs) in cases {
            let what = format!("connections/{program}__{case}");
            let split = case
                .rsplit_once('-')
                .and_then(|(w, c)| Some((w, c.parse().ok()?)));
            let (workload, connections) =
                split.ok_or_else(|| format!("{what}: not <workload>-<connections>"))?;
            q.connection_sweep.push(SweepPoint {
                program: program.clone(),
                workload: workload.to_string(),
                connections,
                workers: runs[0].workers,
                tasks_per_s: each(&runs, &what, &|r| Some(r.tasks.len() as f64 / r.wall_s))?,
            });
        }
    }
    q.connection_sweep
        .sort_by_key(|p| (p.program.clone(), p.workload.clone(), p.connections));
    let nothing = q.sql_on.is_empty() && q.connection_sweep.is_empty();
    Ok((!nothing).then_some(q))
}

impl Questions {
    fn case(&self, sql_on: &str, workload: &str) -> Option<&SqlOnCase> {
        let same = |c: &&SqlOnCase| (&*c.sql_on, &*c.workload) == (sql_on, workload);
        self.sql_on.iter().find(same)
    }

    /// The sweep's table, per method and work in its order: the tasks per second at each of
    /// `counts` (`None` where that point was not run), the most, and the fewest connections
    /// within [`crate::model::WITHIN`] of it.
    fn sweep(&self, counts: &BTreeSet<usize>) -> Vec<Value> {
        let swept = SWEPT_PROGRAMS.iter().flat_map(|p| SWEPT.map(|w| (*p, w)));
        let row = |(program, workload): (&str, &str)| {
            let on = |p: &&SweepPoint| p.program == program && p.workload == workload;
            let points: Vec<&SweepPoint> = self.connection_sweep.iter().filter(on).collect();
            let rates = points.iter().map(|p| (p.connections, p.tasks_per_s.median));
            let best = rates.clone().map(|(_, r)| r).fold(f64::NAN, f64::max);
            let at = |c: &usize| Some(&points.iter().find(|p| p.connections == *c)?.tasks_per_s);
            Some(json!({
                "program": program,
                "workload": workload,
                "cells": counts.iter().map(at).collect::<Vec<_>>(),
                "enough": best_within(rates)?,
                "best": best,
            }))
        };
        swept.filter_map(row).collect()
    }
}

/// `questions.md`: templates/questions.md, given this run's figures (a figure the run lacks is
/// `null`, and its answer says to run the command).
pub fn markdown(
    q: Option<&Questions>,
    writes: &Writes,
    mix: Option<&Mix>,
    write_split: Option<&Split>,
    cores: usize,
) -> Result<String, String> {
    let empty = Questions::default();
    let q = q.unwrap_or(&empty);
    let mut sql_on: BTreeMap<&str, Value> = BTreeMap::new();
    for (_, w) in ASYNC_ROWS {
        let (connections, spawn_blocking) = (q.case("connections", w), q.case("spawn-blocking", w));
        // cpu and fetch run as many tasks as the table's rows (fewer in a quick run).
        let tasks = connections.map_or(0, |c| c.tasks);
        let both =
            json!({ "connections": connections, "spawn_blocking": spawn_blocking, "tasks": tasks });
        sql_on.insert(w, both);
    }
    let counts: BTreeSet<usize> = q.connection_sweep.iter().map(|p| p.connections).collect();
    let sweep = q.connection_sweep.first().map(|p| {
        let runs = how_many_runs(p.tasks_per_s.values.len());
        json!({ "counts": counts, "rows": q.sweep(&counts), "runs": runs })
    });
    let split = mix.and_then(|m| {
        let most = m.cases.iter().map(|c| c.workers).max()?;
        let threads = |writer| m.get(THREADING, writer, most);
        let p99 = |writer| threads(writer)?.write_p99_s.as_ref();
        Some(json!({ "most": most, "shared": p99("shared")?, "single": p99("single")? }))
    });
    render(
        "questions.md",
        json!({
            "cores": cores,
            "sql_on": sql_on,
            "sql_on_runs": q.sql_on.first().map(|c| how_many_runs(c.wall_s.values.len())),
            "sweep": sweep,
            "busy0": trap(writes, no_busy_timeout),
            "deferred": trap(writes, deferred),
            "split": split,
            "write_split": write_split.map(|s| {
                let (sweep, held) = (&s.write_share_sweep, &s.held_transaction);
                json!({ "methods": methods(sweep), "points": sweep, "held": held })
            }),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(program: &str, workload: &str, connections: usize, rate: f64) -> SweepPoint {
        SweepPoint {
            program: program.to_string(),
            workload: workload.to_string(),
            connections,
            workers: 16,
            tasks_per_s: Spread::of(vec![rate]).unwrap(),
        }
    }

    /// A run folder with async's io row of the table and spawn_blocking's io beside it, made
    /// from one of `tests/writes`' hand-made reports, with its wall time and threads set.
    fn raw_with_async_io(name: &str) -> std::path::PathBuf {
        let template = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/writes/threading_executor__reads-alone__r1.json");
        let mut report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
        let raw = std::env::temp_dir().join(format!("collate-{name}-{}", std::process::id()));
        std::fs::create_dir_all(raw.join("questions")).unwrap();
        for (path, wall_s, threads) in [
            ("async_executor__iobest__r1.json", 0.31, 4),
            (
                "questions/async_executor__spawn-blocking-io__r1.json",
                0.32,
                2,
            ),
        ] {
            report["wall_s"] = wall_s.into();
            report["threads_started"] = threads.into();
            std::fs::write(raw.join(path), report.to_string()).unwrap();
        }
        raw
    }

    #[test]
    fn the_connection_threads_side_is_asyncs_own_row_of_the_table() {
        let raw = raw_with_async_io("sql-on");
        let q = collate(&raw, 1).unwrap().unwrap();
        std::fs::remove_dir_all(&raw).unwrap();
        let threads = q
            .case("connections", "io")
            .expect("async's io row, read as connections");
        assert_eq!(threads.wall_s.median, 0.31);
        assert_eq!(threads.threads_started.median, 4.0);
        let blocking = q.case("spawn-blocking", "io").unwrap();
        assert_eq!(blocking.wall_s.median, 0.32);
        // Only the io row was there: nothing is made up for the others.
        assert!(q.case("connections", "cpu").is_none());
        assert_eq!(q.sql_on.len(), 2);
    }

    #[test]
    fn enough_connections_is_the_fewest_within_five_percent_of_the_best() {
        let q = Questions {
            sql_on: Vec::new(),
            connection_sweep: vec![
                point("async_executor", "io", 1, 10.0),
                point("async_executor", "io", 2, 19.0),
                point("async_executor", "io", 4, 38.0),
                point("async_executor", "io", 8, 39.0),
                point("async_executor", "io", 16, 39.5),
            ],
        };
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writes");
        let writes = crate::writes::collate(&dir, 1).unwrap();
        let md = markdown(Some(&q), &writes, None, None, 2).unwrap();
        for line in [
            "| async | SQL after a wait (16 io tasks) | 10 | 19 | 38 | 39 | 40 |",
            "at 16 workers: async on SQL after a wait: 4 (40 tasks/s).",
            // Not measured: the answer says so, and its table is left out.
            "- **In this run:** not in this comparison: run the command\n",
        ] {
            assert!(md.contains(line), "{line} in:\n{md}");
        }
        assert!(!md.contains("against spawn_blocking"), "{md}");
    }
}

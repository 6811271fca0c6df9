//! The questions Rust users ask most about SQLite and concurrency, each answered with a
//! command and a figure from this run: `questions.md`.
//!
//! Two of them are measured here for the purpose. Where should async run its SQL: on a few
//! connections with a thread each (tokio-rusqlite, `async_executor`'s default), or on tokio's
//! blocking threads with a connection lent from a pool (`--sql-on spawn-blocking`, as
//! deadpool-sqlite does)? The first is async's own rows of the table, so `scripts/compare.sh`
//! runs only the second, on the same tasks, into `<raw>/questions`. And how many connections? The thread pool and async, at 16 workers, with
//! 1 to 16 connections, on SQL that computes, SQL that waits and the app mix, into
//! `<raw>/connections`. The other answers take their figures from the writes table and the mix,
//! or from a test; the question, the command and where people ask it do not change from run to
//! run, and are written here once.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use shared::RunReport;

use super::writes::Writes;
use super::writes_lessons::{count, find};
use crate::format::thousands;
use crate::model::Spread;
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

/// A figure of every run, or the error naming the measurement that lacks it.
fn each(
    runs: &[RunReport],
    what: &str,
    f: impl Fn(&RunReport) -> Option<f64>,
) -> Result<Spread, String> {
    runs.iter()
        .map(f)
        .collect::<Option<Vec<f64>>>()
        .and_then(Spread::of)
        .ok_or_else(|| format!("{what}: a figure is missing from a run"))
}

fn sql_on_case(
    sql_on: &str,
    workload: &str,
    runs: &[RunReport],
    what: &str,
) -> Result<SqlOnCase, String> {
    let first = &runs[0];
    Ok(SqlOnCase {
        sql_on: sql_on.to_string(),
        workload: workload.to_string(),
        tasks: first.tasks.len(),
        workers: first.workers,
        wall_s: each(runs, what, |r| Some(r.wall_s))?,
        per_task_us: each(runs, what, |r| {
            Some(r.wall_s / r.tasks.len().max(1) as f64 * 1e6)
        })?,
        threads_started: each(runs, what, |r| r.threads_started.map(|n| n as f64))?,
        max_rss_kib: each(runs, what, |r| Some(r.usage.max_rss_kib as f64))?,
    })
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

/// The runs of one of async's rows in `<raw>`, or `None` when the run has not all of them.
fn async_row(raw: &Path, case: &str, runs: usize) -> Result<Option<Vec<RunReport>>, String> {
    let mut found = Vec::new();
    for run in 1..=runs {
        let path = raw.join(format!("async_executor__{case}__r{run}.json"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        found.push(
            serde_json::from_str::<RunReport>(&text)
                .map_err(|e| format!("{}: not a valid report: {e}", path.display()))?,
        );
    }
    Ok(Some(found))
}

/// Reads `<raw>/questions`, async's rows of the table beside them, and `<raw>/connections`, or
/// nothing when the run has neither folder.
pub fn collate(raw: &Path, runs: usize) -> Result<Option<Questions>, String> {
    let mut questions = Questions::default();
    for (program, cases) in read_run_reports(&raw.join("questions"), runs)?.unwrap_or_default() {
        for (case, runs) in cases {
            let what = format!("questions {program} {case}");
            let (sql_on, workload) = case
                .rsplit_once('-')
                .ok_or_else(|| format!("{what}: not named <sql-on>-<workload>"))?;
            questions
                .sql_on
                .push(sql_on_case(sql_on, workload, &runs, &what)?);
        }
    }
    if !questions.sql_on.is_empty() {
        for (case, workload) in ASYNC_ROWS {
            if questions.case("connections", workload).is_some() {
                continue;
            }
            if let Some(runs) = async_row(raw, case, runs)? {
                let what = format!("async_executor {case}");
                let row = sql_on_case("connections", workload, &runs, &what)?;
                questions.sql_on.push(row);
            }
        }
    }
    for (program, cases) in read_run_reports(&raw.join("connections"), runs)?.unwrap_or_default() {
        for (case, runs) in cases {
            let what = format!("connections {program} {case}");
            let (workload, connections) = case
                .rsplit_once('-')
                .and_then(|(w, c)| Some((w, c.parse().ok()?)))
                .ok_or_else(|| format!("{what}: not named <workload>-<connections>"))?;
            questions.connection_sweep.push(SweepPoint {
                program: program.clone(),
                workload: workload.to_string(),
                connections,
                workers: runs[0].workers,
                tasks_per_s: each(&runs, &what, |r| Some(r.tasks.len() as f64 / r.wall_s))?,
            });
        }
    }
    questions.connection_sweep.sort_by(|a, b| {
        (&a.program, &a.workload, a.connections).cmp(&(&b.program, &b.workload, b.connections))
    });
    if questions.sql_on.is_empty() && questions.connection_sweep.is_empty() {
        return Ok(None);
    }
    Ok(Some(questions))
}

const WORKLOADS: [(&str, &str); 5] = [
    ("io", "io (8 waits, all at once)"),
    ("cpu", "cpu ({n} heavy queries, 2 at a time)"),
    (
        "fetch",
        "fetch ({n} slices walked in the program, 2 at a time)",
    ),
    ("overhead", "overhead (10,000 × `SELECT 1`), per task"),
    ("scale", "1,000 waits of 100 ms"),
];

const SWEPT: [(&str, &str); 3] = [
    (
        "cpu-quarter",
        "SQL that computes (16 cpu queries over one quarter, no wait)",
    ),
    ("io", "SQL after a wait (16 io tasks)"),
    ("app", "the app mix (reads and write transactions)"),
];

fn method_name(program: &str) -> &str {
    match program {
        "threadpool_executor" => "the thread pool",
        "async_executor" => "async",
        other => other,
    }
}

impl Questions {
    fn case(&self, sql_on: &str, workload: &str) -> Option<&SqlOnCase> {
        self.sql_on
            .iter()
            .find(|c| c.sql_on == sql_on && c.workload == workload)
    }

    fn points(&self, program: &str, workload: &str) -> Vec<&SweepPoint> {
        self.connection_sweep
            .iter()
            .filter(|p| p.program == program && p.workload == workload)
            .collect()
    }

    /// The fewest connections within 5% of the most throughput on this sweep, and that most.
    fn enough(&self, program: &str, workload: &str) -> Option<(usize, f64)> {
        let points = self.points(program, workload);
        let best = points
            .iter()
            .map(|p| p.tasks_per_s.median)
            .fold(f64::NAN, f64::max);
        let enough = points
            .iter()
            .find(|p| p.tasks_per_s.median >= 0.95 * best)?
            .connections;
        Some((enough, best))
    }
}

/// The table of the two ways of running async's SQL.
fn sql_on_table(md: &mut String, q: &Questions) {
    if q.sql_on.is_empty() {
        return;
    }
    md.push_str(
        "| workload | connection threads (tokio-rusqlite) | spawn_blocking + a pool |\n|---|---|---|\n",
    );
    for (workload, label) in WORKLOADS {
        let cell = |sql_on: &str| {
            q.case(sql_on, workload).map_or("–".to_string(), |c| {
                let threads = format!("{:.0} threads started", c.threads_started.median);
                match workload {
                    "overhead" => format!("{} a task, {threads}", c.per_task_us.show(2, " µs")),
                    "scale" => format!(
                        "{}, {:.1} MB peak, {threads}",
                        c.wall_s.show(3, " s"),
                        c.max_rss_kib.median / 1024.0
                    ),
                    _ => format!("{}, {threads}", c.wall_s.show(3, " s")),
                }
            })
        };
        // cpu and fetch run as many tasks as the table's rows (fewer in a quick run).
        let n = q.case("connections", workload).map_or(0, |c| c.tasks);
        let label = label.replace("{n}", &n.to_string());
        let _ = writeln!(
            md,
            "| {label} | {} | {} |",
            cell("connections"),
            cell("spawn-blocking")
        );
    }
    md.push('\n');
}

/// The connection sweep's table: tasks per second by connection count.
fn sweep_table(md: &mut String, q: &Questions) {
    let mut counts: Vec<usize> = q.connection_sweep.iter().map(|p| p.connections).collect();
    counts.sort_unstable();
    counts.dedup();
    if counts.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "| method | work | {} |",
        counts
            .iter()
            .map(|c| format!("{c} conn."))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}", "---:|".repeat(counts.len()));
    for program in ["threadpool_executor", "async_executor"] {
        for (workload, label) in SWEPT {
            let points = q.points(program, workload);
            if points.is_empty() {
                continue;
            }
            let cells: Vec<String> = counts
                .iter()
                .map(|c| {
                    points
                        .iter()
                        .find(|p| p.connections == *c)
                        .map_or("–".to_string(), |p| p.tasks_per_s.show(0, ""))
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {label} | {} |",
                method_name(program),
                cells.join(" | ")
            );
        }
    }
    md.push('\n');
}

/// One answer: the question, a paragraph, the command, the figure, where it is asked.
fn answer(
    md: &mut String,
    question: &str,
    why: &str,
    command: &str,
    figure: &str,
    asked: &[(&str, &str)],
) {
    let _ = writeln!(md, "#### {question}\n\n{why}\n");
    let _ = writeln!(md, "- **Try it:** {command}");
    let _ = writeln!(md, "- **In this run:** {figure}");
    let links: Vec<String> = asked.iter().map(|(t, u)| format!("[{t}]({u})")).collect();
    let _ = writeln!(md, "- **Asked at:** {}\n", links.join(", "));
}

const NOT_RUN: &str = "not in this comparison: run the command";

/// `questions.md`.
pub fn markdown(
    q: Option<&Questions>,
    writes: &Writes,
    mix: Option<&super::mix::Mix>,
    cores: usize,
) -> String {
    let empty = Questions::default();
    let q = q.unwrap_or(&empty);
    let mut md = String::new();

    // 1. spawn_blocking or a thread per connection.
    let vs = |workload: &str, f: &dyn Fn(&SqlOnCase) -> String| match (
        q.case("connections", workload),
        q.case("spawn-blocking", workload),
    ) {
        (Some(a), Some(b)) => Some(format!("{} against {}", f(a), f(b))),
        _ => None,
    };
    let figure = [
        vs("overhead", &|c| c.per_task_us.show(2, " µs")).map(|s| format!("per task {s}")),
        vs("overhead", &|c| format!("{:.0}", c.threads_started.median))
            .map(|s| format!("threads started over 10,000 tasks {s}")),
        vs("scale", &|c| {
            format!("{:.1} MB", c.max_rss_kib.median / 1024.0)
        })
        .map(|s| format!("peak memory at 1,000 waits {s}")),
        vs("cpu", &|c| c.wall_s.show(2, " s")).map(|s| format!("cpu on 2 workers {s}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    answer(
        &mut md,
        "spawn_blocking, or a thread per connection?",
        "Both keep SQLite off the event loop; they differ in where a query goes. tokio-rusqlite \
         gives each connection a thread of its own, started once, that runs one query after \
         another; `spawn_blocking` with a pooled connection (deadpool-sqlite's `interact`, most \
         hand-written code) sends each query to tokio's blocking threads, which tokio starts and \
         retires with the load. Either way the pool's size, not the threads, bounds how much SQL \
         runs at once. The per-query hand-off is what differs: a connection thread draining a \
         queue goes straight to the next query, where each `spawn_blocking` is a trip to the \
         blocking pool and back. The overhead row below is what that trip costs a query of \
         microseconds; the cpu and fetch rows, whether it shows beside queries that take \
         longer. Connection threads are started once and stay; `spawn_blocking` needs no thread \
         of your own and fits code that already holds a pool.",
        "`cargo run --release -p async_executor -- --workload overhead --no-baseline`, then with \
         `--sql-on spawn-blocking` (connection threads, then spawn_blocking)",
        &if figure.is_empty() {
            NOT_RUN.to_string()
        } else {
            format!(
                "connection threads, then spawn_blocking: {}.",
                figure.join("; ")
            )
        },
        &[(
            "tokio-rusqlite #9",
            "https://github.com/programatik29/tokio-rusqlite/issues/9",
        )],
    );

    // 2. How many connections.
    let found: Vec<String> = ["threadpool_executor", "async_executor"]
        .iter()
        .flat_map(|program| {
            SWEPT.iter().filter_map(move |(workload, _)| {
                let (enough, best) = q.enough(program, workload)?;
                Some(format!(
                    "{} on {}: {enough} ({best:.0} tasks/s)",
                    method_name(program),
                    match *workload {
                        "cpu-quarter" => "SQL that computes",
                        "io" => "SQL after a wait",
                        _ => "the app mix",
                    }
                ))
            })
        })
        .collect();
    answer(
        &mut md,
        "How many connections?",
        &format!(
            "As many as can do work at once, and no more. SQL that computes stops gaining at \
             the cores ({cores} here), since each connection's query runs on one core. SQL that \
             waits on something else gains up to the number of queries in flight. Writes gain \
             nothing past one: there is one write lock. Connections past those points cost \
             memory (a page cache each) and, for writers, time asleep in the busy handler."
        ),
        // The sweep's own SQL that computes (cpu-quarter) is made by compare.sh in its raw
        // folder; the mixed preset runs the same queries after io's waits, and a reader can
        // type it. io's light queries would look the same at every count.
        "`cargo run --release -p threadpool_executor -- --workload mixed --tasks 16 --workers 16 \
         --connections 1`, then 2, 4, 8, 16 (the mixed preset's queries compute; io's are too \
         light for the count to show)",
        &if found.is_empty() {
            NOT_RUN.to_string()
        } else {
            format!(
                "the fewest connections within 5% of the best throughput, at 16 workers: {}.",
                found.join("; ")
            )
        },
        &[
            (
                "goose #7629",
                "https://github.com/aaif-goose/goose/pull/7629",
            ),
            (
                "sqlx #459",
                "https://github.com/transact-rs/sqlx/issues/459",
            ),
        ],
    );

    // 3. busy_timeout after the first pragmas.
    answer(
        &mut md,
        "busy_timeout is set, and opening still says \"database is locked\"?",
        "The busy timeout belongs to a connection, and counts only from when it is set. A \
         connection's first pragmas (the journal mode, `synchronous`) read the schema, which \
         needs the database's lock; run before the busy timeout is set, they fail at once if \
         another connection holds it. Set the busy timeout first (rusqlite sets 5 s when it \
         opens a connection; this project's `--busy-timeout`, which may be 0, is set after the \
         pragmas).",
        "`cargo test -p shared a_connection_opens_while_another_holds_the_lock` (it fails if the \
         busy timeout of 0 is set before the pragmas)",
        "a test, not a run figure: with another connection holding the lock for 300 ms, a \
         pragma with no busy timeout fails at once, and opening with the pragmas first waits and \
         succeeds",
        &[
            (
                "sqlite-net #778",
                "https://github.com/praeclarum/sqlite-net/issues/778",
            ),
            (
                "crawshaw/sqlite #113",
                "https://github.com/crawshaw/sqlite/pull/113",
            ),
        ],
    );

    // 4. :memory: behind a pool.
    answer(
        &mut md,
        "`:memory:` with a pool: \"no such table\"?",
        "Every connection that opens `:memory:` gets a database of its own, empty: a table \
         made on one is missing on the next connection the pool lends. A named in-memory \
         database with a shared cache (`file:name?mode=memory&cache=shared`) is one database \
         for all, but only while one connection keeps it open, and the shared cache locks \
         tables, not the file. A file, in /dev/shm or a tmpfs if it must be in memory, is the \
         plain answer; every program here refuses `--db :memory:` and says why.",
        "`cargo run --release -p threading_executor -- --db :memory:`; `cargo test -p shared \
         an_in_memory_database_is_refused`",
        "exit 2, \"an in-memory database is private to the connection that opens it\" (the \
         same on every machine)",
        &[
            (
                "sqlx #2510",
                "https://github.com/transact-rs/sqlx/issues/2510",
            ),
            (
                "r2d2-sqlite #1",
                "https://github.com/ivanceras/r2d2-sqlite/issues/1",
            ),
        ],
    );

    // 5-7: answered by the writes table, the mix and a compile error.
    let threads = |pick: &dyn Fn(&super::writes::WritesCase) -> bool| {
        find(writes, "threading_executor", 4, pick)
            .or_else(|| find(writes, "threading_executor", 16, pick))
    };
    let failed = |c: &super::writes::WritesCase| {
        format!(
            "{} of {} writes failed on {} workers",
            count(&c.failed.values),
            thousands(c.tasks as f64),
            c.workers
        )
    };
    let busy0 = threads(&|c| c.settings.0.busy_timeout_ms == 0).map(failed);
    let split = mix.and_then(|m| {
        let most = m.cases.iter().map(|c| c.workers).max()?;
        let shared = m.get("threading_executor", "shared", most)?;
        let single = m.get("threading_executor", "single", most)?;
        Some(format!(
            "; in the app mix at {most} workers, the writes' p99 {:.1} ms with each worker \
             writing, {:.1} ms with one writer",
            shared.write_p99_s.as_ref()?.median * 1e3,
            single.write_p99_s.as_ref()?.median * 1e3
        ))
    });
    answer(
        &mut md,
        "\"database is locked\"?",
        "SQLite has one write lock. A writer that finds it taken waits up to its busy timeout, \
         and with none fails at once. Give every connection a busy timeout, or send every write \
         to one writer (a read pool and one writer: [mix.md](mix.md)).",
        "`cargo run --release -p threading_executor -- --workload writes --workers 4 \
         --busy-timeout 0`",
        &format!(
            "with no busy timeout, {}{}",
            busy0.unwrap_or_else(|| NOT_RUN.to_string()),
            split.unwrap_or_default()
        ),
        &[
            (
                "sqlx #459",
                "https://github.com/transact-rs/sqlx/issues/459",
            ),
            (
                "goose #7629",
                "https://github.com/aaif-goose/goose/pull/7629",
            ),
        ],
    );
    let deferred = threads(&|c| c.settings.0.begin == "deferred").map(failed);
    answer(
        &mut md,
        "A transaction that reads, then writes, fails at once despite the busy timeout?",
        "With `BEGIN DEFERRED`, SQLite's default, a transaction takes the write lock only at its \
         first write. If another writer committed since it started reading, its snapshot is \
         stale and SQLite fails it at once: waiting could not help, so the busy timeout is not \
         used. `BEGIN IMMEDIATE` takes the lock at the start, where waiting works.",
        "`cargo run --release -p threading_executor -- --workload writes --workers 4 --begin \
         deferred`",
        &format!(
            "with `BEGIN DEFERRED` and a 5 s busy timeout, {}",
            deferred.unwrap_or_else(|| NOT_RUN.to_string())
        ),
        &[
            (
                "modrinth #7628",
                "https://github.com/modrinth/code/pull/7628",
            ),
            (
                "core-crypto #2442",
                "https://github.com/wireapp/core-crypto/pull/2442",
            ),
        ],
    );
    answer(
        &mut md,
        "Why can't two threads share one `Connection`?",
        "A rusqlite `Connection` is `Send` (it may move to another thread) but not `Sync` (two \
         threads may not use it at once): SQLite's connection is not safe to use from two \
         threads at the same time. Lend each connection to one thread at a time (a pool), or \
         give each thread its own.",
        "`cargo test --doc -p shared` (a `compile_fail` doc-test in `shared/src/pitfalls.rs`)",
        "error E0277, \"`RefCell<InnerConnection>` cannot be shared between threads safely\" \
         (the same on every machine)",
        &[(
            "rusqlite #188",
            "https://github.com/rusqlite/rusqlite/issues/188",
        )],
    );

    // The two measured tables, after the answers that quote them.
    if !q.sql_on.is_empty() {
        md.push_str("#### async's SQL: connection threads against spawn_blocking\n\n");
        let runs = q.sql_on.first().map_or(0, |c| c.wall_s.values.len());
        let _ = writeln!(
            md,
            "Each cell: wall time, and the threads the run started (the main thread not \
             counted); {}. Both ways with 4 connections, without a baseline.\n",
            crate::format::how_many_runs(runs)
        );
        sql_on_table(&mut md, q);
    }
    if !q.connection_sweep.is_empty() {
        md.push_str("#### Throughput by connections, at 16 workers\n\n");
        let runs = q
            .connection_sweep
            .first()
            .map_or(0, |p| p.tasks_per_s.values.len());
        let _ = writeln!(
            md,
            "Tasks per second; {}.\n",
            crate::format::how_many_runs(runs)
        );
        sweep_table(&mut md, q);
    }
    md
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
        assert_eq!(q.enough("async_executor", "io"), Some((4, 39.5)));
        let mut md = String::new();
        sweep_table(&mut md, &q);
        assert!(
            md.contains("| async | SQL after a wait (16 io tasks) | 10 | 19 | 38 | 39 | 40 |"),
            "{md}"
        );
    }
}

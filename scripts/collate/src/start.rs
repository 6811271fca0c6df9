//! Start methods: how soon a pool of worker processes is ready when each worker is forked,
//! spawned, or forked by a fork server, in Rust (`multiprocessing_executor --start`) and in
//! Python (`guide.py --method multiprocessing --start`), and what that teaches: `start.md`, the
//! block of docs/start-methods.md.
//!
//! `scripts/compare.sh` runs both on the io tasks, one task per worker, with 4 workers, and
//! Rust with 100 too (not in a quick run), into `<raw>/start`, as `<program>__<how>-<workers>__r<run>.json`.
//! "Ready" is when the last worker of the pool could take a task: Rust's `startup_s` (each
//! child says when it is ready, from its request to the fork, spawn or fork server), and
//! Python's `workers_ready_s` (each worker's initializer, its connection opened, says when it
//! ran). "Per worker" is that divided by the workers: what one more worker adds, with the
//! workers starting side by side on the machine's cores.

use std::path::Path;

use serde::Serialize;

use crate::format::{ms_spread, render};
use crate::model::Spread;
use crate::read::read_reports;

/// The three start methods, in the order the table shows them.
const HOWS: [&str; 3] = ["fork", "spawn", "forkserver"];
/// The languages' programs: Rust's, then Python's.
const PROGRAMS: [(&str, &str); 2] = [
    ("multiprocessing_executor", "Rust"),
    ("python-multiprocessing", "Python"),
];

/// One program, one start method, one pool size, over the runs.
#[derive(Debug, Serialize)]
pub struct Ready {
    pub program: String,
    pub start: String,
    pub workers: usize,
    /// When the last worker could take a task, in seconds from the start of the run.
    pub ready_s: Spread,
}

#[derive(Debug, Serialize)]
pub struct Start {
    pub cases: Vec<Ready>,
}

impl Start {
    fn get(&self, program: &str, start: &str, workers: usize) -> Option<&Ready> {
        self.cases
            .iter()
            .find(|r| r.program == program && r.start == start && r.workers == workers)
    }
}

/// Reads `<raw>/start`, or `None` when the run has no such folder.
pub fn collate(dir: &Path, runs: usize) -> Result<Option<Start>, String> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let reports = read_reports(dir, runs, |path, program, value| {
        // Rust's pool is ready when its last child is (`startup_s`); Python's when its last
        // worker has run its initializer (`workers_ready_s`).
        let field = if program.starts_with("python-") {
            "workers_ready_s"
        } else {
            "startup_s"
        };
        let figure = |key: &str| value.get(key).and_then(|v| v.as_f64());
        let (Some(ready), Some(workers)) = (figure(field), figure("workers")) else {
            return Err(format!(
                "{} ({program}): no '{field}' or 'workers' figure",
                path.display()
            ));
        };
        Ok((ready, workers as usize))
    })?;
    let mut cases = Vec::new();
    for (program, by_case) in reports {
        for (case, runs) in by_case {
            let start = case.split('-').next().unwrap_or_default().to_string();
            let workers = runs[0].1;
            let ready_s = Spread::of(runs.iter().map(|r| r.0).collect())
                .ok_or_else(|| format!("{program} {case}: a start-up is not a number"))?;
            cases.push(Ready {
                program: program.clone(),
                start,
                workers,
                ready_s,
            });
        }
    }
    Ok(Some(Start { cases }))
}

/// `1.23 ms (1.10–1.40)`: milliseconds, with the precision a start-up needs.
fn per_worker(spread: &Spread, per: usize) -> String {
    let scaled = spread.scaled(1.0 / per as f64);
    ms_spread(&scaled, if scaled.median < 0.01 { 2 } else { 1 })
}

/// Milliseconds per worker in a pool of 4, in Rust and Python, for one start method.
#[derive(Serialize)]
struct PerWorker {
    rust: f64,
    python: f64,
}

/// A row of start.md's table: the start method, the language, and its four cells, written.
#[derive(Serialize)]
struct TableRow {
    how: &'static str,
    language: &'static str,
    cells: [String; 4],
}

/// start.md (templates/start.md): the table, then the lesson in this run's figures; a
/// sentence whose figures are missing is left out.
pub fn markdown(start: Option<&Start>) -> Result<String, String> {
    let mut rows = Vec::new();
    for (program, language) in start.map_or(&[][..], |_| &PROGRAMS[..]) {
        for how in HOWS {
            let cell = |workers: usize, per: usize| {
                start
                    .and_then(|s| s.get(program, how, workers))
                    .map_or("not run".to_string(), |r| per_worker(&r.ready_s, per))
            };
            let cells = [cell(4, 1), cell(4, 4), cell(100, 1), cell(100, 100)];
            rows.push(TableRow {
                how,
                language,
                cells,
            });
        }
    }
    let per = |how: &str| {
        let per = |program: &str| Some(start?.get(program, how, 4)?.ready_s.median * 1e3 / 4.0);
        Some(PerWorker {
            rust: per(PROGRAMS[0].0)?,
            python: per(PROGRAMS[1].0)?,
        })
    };
    render(
        "start.md",
        serde_json::json!({
            "rows": rows,
            "fork": per("fork"),
            "spawn": per("spawn"),
            "forkserver": per("forkserver"),
        }),
    )
}

/// PITFALLS.md's figure for a program that has threads when it needs workers: what a Rust
/// worker costs, in ms, in a pool of 4 started `how` (a spawned or fork-served one, beside a
/// forked one).
pub fn beside_threads(start: Option<&Start>, how: &str) -> Option<f64> {
    Some(start?.get(PROGRAMS[0].0, how, 4)?.ready_s.median * 1e3 / 4.0)
}

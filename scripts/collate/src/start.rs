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

use super::{Spread, read_reports};

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
fn ms(spread: &Spread, per: usize) -> String {
    let scaled = Spread {
        median: spread.median * 1e3 / per as f64,
        min: spread.min * 1e3 / per as f64,
        max: spread.max * 1e3 / per as f64,
        values: spread.values.iter().map(|v| v * 1e3 / per as f64).collect(),
    };
    let decimals = if scaled.median < 10.0 { 2 } else { 1 };
    scaled.show(decimals, " ms")
}

/// start.md: the table, then the lesson in this run's figures.
pub fn markdown(start: Option<&Start>) -> String {
    let Some(start) = start else {
        return "_Not measured in this run: `scripts/compare.sh` measures the start methods \
                into raw/start._\n"
            .to_string();
    };
    let mut out = String::new();
    out.push_str(
        "| start method | pool of 4 ready | per worker | 100 workers ready | per worker |\n\
         |---|---|---|---|---|\n",
    );
    for (program, language) in PROGRAMS {
        for how in HOWS {
            let cell = |workers: usize, per: usize| {
                start
                    .get(program, how, workers)
                    .map_or("not run".to_string(), |r| ms(&r.ready_s, per))
            };
            out.push_str(&format!(
                "| {how} ({language}) | {} | {} | {} | {} |\n",
                cell(4, 1),
                cell(4, 4),
                cell(100, 1),
                cell(100, 100),
            ));
        }
    }
    out.push_str(
        "\nReady: when the last worker of the pool could take a task, from the start of the run \
         (median of the runs, range in brackets); per worker: that divided by the workers. One \
         task per worker, the io workload's. Rust: `multiprocessing_executor --start HOW`; \
         Python: `guide.py --method multiprocessing --start HOW`, with 4 workers only: at 100, \
         each of Python's spawned or fork-served workers imports or re-runs the program, which \
         would take `compare.sh` many seconds a run, and the pool of 4 gives that cost per \
         worker already.\n\n",
    );
    out.push_str(&lesson(start));
    out
}

/// The lesson, each sentence from this run's figures; a sentence whose figures are missing is
/// left out.
fn lesson(start: &Start) -> String {
    let per = |program: &str, how: &str| {
        let r = start.get(program, how, 4)?;
        Some(r.ready_s.median * 1e3 / 4.0)
    };
    let (rust, python) = (PROGRAMS[0].0, PROGRAMS[1].0);
    let mut out = String::from("#### What each start method costs\n\n");
    if let (Some(r), Some(p)) = (per(rust, "fork"), per(python, "fork")) {
        out.push_str(&format!(
            "- **fork** copies the parent's page tables, not its memory: {r:.2} ms per worker \
             in Rust, {p:.1} ms in Python, whose workers also start the Pool's machinery. It \
             is only safe in a process with one thread and no open connection: see \
             PITFALLS.md.\n"
        ));
    }
    if let (Some(r), Some(p)) = (per(rust, "spawn"), per(python, "spawn")) {
        out.push_str(&format!(
            "- **spawn** starts the program afresh. Rust's worker is the same program run again \
             ({r:.2} ms per worker: an `exec`, the loader, and a plan read from the pipe). \
             Python's is a fresh interpreter that imports the program again ({p:.1} ms per \
             worker, {:.0}x Rust's): that import is where the guide's \"~100 ms per process\" \
             comes from, and it is the default on macOS and Windows.\n",
            p / r
        ));
    }
    if let (Some(r), Some(p)) = (per(rust, "forkserver"), per(python, "forkserver")) {
        out.push_str(&format!(
            "- **forkserver** forks each worker from a small server started first ({r:.2} ms \
             per worker in Rust, {p:.1} ms in Python, where the first worker also waits for the \
             server, itself a spawned interpreter, to start). Python 3.14 made it Linux's \
             default.\n"
        ));
    }
    out.push_str(
        "\n**When a fork server is right.** When a program needs worker processes after it has \
         started threads (a runtime, a logger, a connection pool) or opened connections: a fork \
         from that process copies them half-made, and a spawn pays for a whole program start \
         per worker. A server forked first thing, while the program is still one thread with \
         nothing open, forks every worker cheaply and cleanly, for the whole of the program's \
         life, replacements included. **Spawn** is right where there is no `fork()` at all \
         (Windows), or where each worker should share nothing with its parent. **Fork** is \
         right, and cheapest, where the parent is known to be one thread with nothing open \
         when it forks, as `multiprocessing_executor` is by design.\n",
    );
    out
}

/// PITFALLS.md's figure for a program that has threads when it needs workers: what a Rust
/// worker costs when it is not forked from that program, beside one that is.
pub fn beside_threads(start: Option<&Start>) -> Option<String> {
    let per = |how: &str| {
        let r = start?.get(PROGRAMS[0].0, how, 4)?;
        Some(r.ready_s.median * 1e3 / 4.0)
    };
    Some(format!(
        "refused under fork; per worker in a pool of 4: spawned {:.2} ms, forked by the fork \
         server {:.2} ms, against {:.2} ms forked (see docs/start-methods.md)",
        per("spawn")?,
        per("forkserver")?,
        per("fork")?
    ))
}

//! Start methods, `start.md` (docs/start-methods.md's block): how soon a pool of worker
//! processes is ready when each is forked, spawned or forked by a fork server, in Rust
//! (`multiprocessing_executor --start`) and Python (`guide.py --start`), on the io tasks, one
//! per worker, 4 workers and Rust's 100 (`<raw>/start`). Ready is when the pool's last worker
//! could take a task: Rust's `startup_s`, Python's `workers_ready_s`; per worker, that over the
//! workers, what one more adds with the workers starting side by side on the cores.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::format::{ms_spread, render};
use crate::model::{Spread, either};
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
        let same = |r: &&Ready| (&*r.program, &*r.start, r.workers) == (program, start, workers);
        self.cases.iter().find(same)
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
        let python = program.starts_with("python-");
        let field = either(python, "workers_ready_s", "startup_s");
        let figure = |key: &str| value.get(key).and_then(|v| v.as_f64());
        let (Some(ready), Some(workers)) = (figure(field), figure("workers")) else {
            let path = path.display();
            return Err(format!(
                "{path} ({program}): no '{field}' or 'workers' figure"
            ));
        };
        Ok((ready, workers as usize))
    })?;
    let mut cases = Vec::new();
    for (program, by_case) in reports {
        for (case, runs) in by_case {
            let start = case.split('-').next().unwrap_or_default().to_string();
            let workers = runs[0].1;
            let ready_s = Spread::each(&runs, |r| Some(r.0));
            let ready_s =
                ready_s.ok_or_else(|| format!("{program} {case}: a start-up is not a number"))?;
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

/// start.md (templates/start.md): the table, then the lesson in this run's figures; a
/// sentence whose figures are missing is left out.
pub fn markdown(start: Option<&Start>) -> Result<String, String> {
    // `1.23 ms (1.10–1.40)`: a start-up per worker, in milliseconds, with the precision it needs.
    let cell = |ready: Option<&Ready>, per: usize| {
        let scaled = ready.map(|r| r.ready_s.scaled(1.0 / per as f64));
        scaled.map_or("not run".to_string(), |s| {
            ms_spread(&s, either(s.median < 0.01, 2, 1))
        })
    };
    let mut rows = Vec::new();
    for (program, language) in start.map_or(&[][..], |_| &PROGRAMS[..]) {
        for how in HOWS {
            let at = |workers| start.and_then(|s| s.get(program, how, workers));
            let columns = [(4, 1), (4, 4), (100, 1), (100, 100)];
            let cells = columns.map(|(workers, per)| cell(at(workers), per));
            rows.push(json!({ "how": how, "language": language, "cells": cells }));
        }
    }
    // Milliseconds per worker in a pool of 4, in Rust and Python.
    let per = |how: &str| {
        let [rust, python] = PROGRAMS.map(|(program, _)| per_worker(start, program, how));
        Some(json!({ "rust": rust?, "python": python? }))
    };
    let hows = HOWS.map(|how| (how, per(how)));
    render(
        "start.md",
        json!({ "rows": rows, "fork": hows[0].1, "spawn": hows[1].1, "forkserver": hows[2].1 }),
    )
}

/// What a worker of `program` costs, in ms, in a pool of 4 started `how`.
fn per_worker(start: Option<&Start>, program: &str, how: &str) -> Option<f64> {
    Some(start?.get(program, how, 4)?.ready_s.median * 1e3 / 4.0)
}

/// PITFALLS.md's figure for a program that has threads when it needs workers: what a Rust
/// worker costs, in ms, in a pool of 4 started `how` (a spawned or fork-served one, beside a
/// forked one).
pub fn beside_threads(start: Option<&Start>, how: &str) -> Option<f64> {
    per_worker(start, PROGRAMS[0].0, how)
}

//! Faults injected on purpose, for PITFALLS.md's outcomes: what each program reports when a
//! task errs, panics, hangs or crashes (`<raw>/faults`, each run exiting 1 by design).

use std::path::Path;

use serde::Serialize;
use shared::{Counts, TaskReport};

use crate::model::Spread;
use crate::read::read_run_reports;

/// A task that did not end ok, as the first run reported it.
#[derive(Debug, Serialize)]
pub struct Failed {
    pub id: usize,
    pub status: String,
    pub error: Option<String>,
}

/// One program with one set of injected faults, over its runs.
#[derive(Debug, Serialize)]
pub struct Fault {
    pub program: String,
    /// compare.sh's name for it: `error`, `panic`, `crash`, `hang`, `all`, `writes-crash`.
    pub case: String,
    pub tasks: usize,
    /// The first run's counts (in compare.json as `ok`, `failed`, `timed_out`, `not_run`).
    #[serde(flatten)]
    pub counts: Counts,
    /// Whether every run ended with the same counts.
    pub same_in_every_run: bool,
    pub wall_s: Spread,
    pub timeout_s: f64,
    pub not_ok: Vec<Failed>,
    /// For a run that writes: the rows in the database after the first run, and the rows its
    /// ok tasks reported.
    pub rows_in_db_after: Option<u64>,
    pub rows_reported: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Faults {
    pub cases: Vec<Fault>,
}

impl Faults {
    pub fn get(&self, program: &str, case: &str) -> Option<&Fault> {
        let same = |f: &&Fault| f.program == program && f.case == case;
        self.cases.iter().find(same)
    }
}

/// Reads `<raw>/faults`, or `None` when the run has no such folder.
pub fn collate(dir: &Path, runs: usize) -> Result<Option<Faults>, String> {
    let Some(reports) = read_run_reports(dir, runs)? else {
        return Ok(None);
    };
    let mut cases = Vec::new();
    for (program, by_case) in reports {
        for (case, runs) in by_case {
            let first = &runs[0];
            let wall_s = Spread::each(&runs, |r| Some(r.wall_s));
            let wall_s = wall_s.ok_or_else(|| format!("{program} {case}: wall_s not finite"))?;
            let failed = |t: &TaskReport| (t.id, t.status.clone(), t.error.clone());
            let not_ok = first.tasks.iter().filter(|t| t.status != "ok").map(failed);
            let not_ok = not_ok.map(|(id, status, error)| Failed { id, status, error });
            cases.push(Fault {
                program: program.clone(),
                case,
                tasks: first.tasks.len(),
                counts: first.counts,
                same_in_every_run: runs.iter().all(|r| r.counts == first.counts),
                wall_s,
                timeout_s: first.timeout_s,
                not_ok: not_ok.collect(),
                rows_in_db_after: first.rows_in_db_after,
                rows_reported: first.write_tasks_ok(),
            });
        }
    }
    Ok(Some(Faults { cases }))
}

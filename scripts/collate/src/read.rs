//! Reading the raw reports `scripts/compare.sh` wrote: each `<program>__<case>__r<run>.json`
//! into program → case → runs, each measurement summarised over its runs, and the machine.
//! The bottom layer: it imports the model and nothing above it.

use std::collections::BTreeMap;
use std::path::Path;

use shared::RunReport;

use crate::model::{Case, Language, Machine, Reports, Rounds, Spread};

impl Rounds {
    /// Rust's from the preset itself; Python's from the workload file guide.py was given.
    pub fn read(raw: &Path, python: bool) -> Result<Rounds, String> {
        let first = |workload: shared::Workload| workload.tasks.first().map(|t| t.query.rounds);
        let fetch = shared::Workload::preset(shared::Preset::Fetch, None);
        let rust_fetch = first(fetch).ok_or("the fetch preset has no tasks")?;
        let python_fetch = if python {
            let path = raw.join("workloads").join("fetch.json");
            let workload = shared::Workload::from_file(&path, None)
                .map_err(|e| format!("the workload guide.py ran: {e}"))?;
            Some(first(workload).ok_or_else(|| format!("{}: no tasks", path.display()))?)
        } else {
            None
        };
        Ok(Rounds {
            rust_fetch,
            python_fetch,
        })
    }
}

/// Where a program's reports say they come from; every report of one program must agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub language: Language,
    pub interpreter: Option<String>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.interpreter {
            Some(interpreter) => write!(f, "{} ({interpreter})", self.language.name()),
            None => f.write_str(self.language.name()),
        }
    }
}

/// Reads every report, and where each program's come from. Any unreadable report, or one in
/// which a task did not end ok, is an error that names its file (and with it the program).
pub fn load(raw: &Path, runs: usize) -> Result<(Reports, BTreeMap<String, Origin>), String> {
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    let reports = read_reports(raw, runs, |path, program, value| {
        let invalid = |e: &dyn std::fmt::Display| {
            format!("{} ({program}): not a valid report: {e}", path.display())
        };
        let interpreter = value.get("interpreter").and_then(|i| i.as_str());
        let origin = Origin {
            language: Language::of(&value).map_err(|e| invalid(&e))?,
            interpreter: interpreter.map(str::to_string),
        };
        let report: RunReport = serde_json::from_value(value).map_err(|e| invalid(&e))?;
        let (path, counts) = (path.display(), report.counts);
        let known = origins
            .entry(program.to_string())
            .or_insert_with(|| origin.clone());
        if *known != origin {
            let known = format!("{program}'s other reports are from {known}");
            return Err(format!("{path}: from {origin}, where {known}"));
        }
        if counts.ok != report.tasks.len() {
            return Err(format!("{path}: {counts:?} tasks were not all ok"));
        }
        Ok(report)
    })?;
    Ok((reports, origins))
}

/// The programs' reports in `dir` (`<program>__<case>__r<run>.json`), by program and case, or
/// `None` when the run has no such folder (a run from before its section was measured).
pub fn read_run_reports(dir: &Path, runs: usize) -> Result<Option<Reports>, String> {
    if !dir.is_dir() {
        return Ok(None);
    }
    read_reports(dir, runs, |path, program, value| {
        serde_json::from_value::<RunReport>(value)
            .map_err(|e| format!("{} ({program}): not a valid report: {e}", path.display()))
    })
    .map(Some)
}

/// Reads every `<program>__<case>__r<run>.json` in `dir` (its folders are left alone), each
/// turned by `read` into what the caller keeps, given the file, its program and its JSON, into
/// program → case → runs, r1 first. Each case must have `runs` reports.
pub fn read_reports<T>(
    dir: &Path,
    runs: usize,
    mut read: impl FnMut(&Path, &str, serde_json::Value) -> Result<T, String>,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<T>>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Keyed by run number while reading, because the folder lists its files in no set order.
    let mut found: BTreeMap<String, BTreeMap<String, BTreeMap<usize, T>>> = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        // Only the reports: the machine's record sits beside them.
        if path.extension().is_none_or(|e| e != "json") || path.ends_with(MACHINE) {
            continue;
        }
        let (stem, shown) = (path.file_stem().unwrap_or_default(), path.display());
        let name = stem.to_string_lossy();
        let misnamed = || format!("{shown}: not named <program>__<case>__r<run>.json");
        let [program, case, run] = name.split("__").collect::<Vec<_>>()[..] else {
            return Err(misnamed());
        };
        let run = run.strip_prefix('r').and_then(|n| n.parse::<usize>().ok());
        let run = run.ok_or_else(misnamed)?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
        // As a value first, for the fields only some reports have.
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{shown} ({program}): not a valid report: {e}"))?;
        let of_program = found.entry(program.to_string()).or_default();
        let of_case = of_program.entry(case.to_string()).or_default();
        of_case.insert(run, read(&path, program, value)?);
    }
    let mut reports = BTreeMap::new();
    for (program, cases) in found {
        let mut in_order = BTreeMap::new();
        for (case, by_run) in cases {
            let n = by_run.len();
            if n != runs {
                return Err(format!("{program} {case}: {n} reports, expected {runs}"));
            }
            in_order.insert(case, by_run.into_values().collect());
        }
        reports.insert(program, in_order);
    }
    Ok(reports)
}

/// Whether the database a run wrote holds exactly the writes its tasks reported ok (each
/// records its task in the run's own table, in its own transaction).
pub fn writes_checked(run: &RunReport) -> bool {
    run.rows_in_db_after.is_some() && run.rows_in_db_after == run.write_tasks_ok()
}

pub fn summarise(program: &str, case: &str, runs: &[RunReport]) -> Result<Case, String> {
    let spread = |f: &dyn Fn(&RunReport) -> f64| {
        Spread::of(runs.iter().map(f).collect())
            .ok_or_else(|| format!("{program} {case}: a figure is not a number"))
    };
    let first = &runs[0];
    let tasks = first.tasks.len().max(1) as f64;
    let speedup = Spread::each(runs, |r| r.speedup);
    let ideal_speedup = Spread::each(runs, |r| r.ideal_speedup);
    let above_ideal =
        matches!((&speedup, &ideal_speedup), (Some(s), Some(i)) if s.median > i.median);
    Ok(Case {
        command: format!("{program} {case}"),
        workers: first.workers,
        tasks: first.tasks.len(),
        wall_s: spread(&|r| r.wall_s)?,
        startup_s: spread(&|r| r.startup_s)?,
        per_task_us: spread(&|r| r.wall_s / tasks * 1e6)?,
        tasks_per_s: spread(&|r| tasks / r.wall_s)?,
        max_rss_kib: spread(&|r| r.usage.max_rss_kib as f64)?,
        children_max_rss_kib: spread(&|r| r.usage.children_max_rss_kib as f64)?,
        children_pss_kib: Spread::each(runs, |r| r.usage.children_pss_kib.map(|k| k as f64)),
        speedup,
        ideal_speedup,
        ideal_bound: first.ideal_bound.clone(),
        above_ideal,
        efficiency: Spread::each(runs, |r| r.efficiency),
        notes: first.notes.clone(),
    })
}

/// The file in `raw/` that names the machine, beside the reports.
pub const MACHINE: &str = "machine.json";

/// The machine the reports were measured on: `raw/machine.json`, which compare.sh writes with
/// `collate --record-machine` before it measures, so that collating the reports again on another host
/// (or after a kernel update) still names the one that ran them.
pub fn machine(raw: &Path) -> Result<Machine, String> {
    let path = raw.join(MACHINE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (compare.sh writes it before it measures)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// This host, as `collate --record-machine` writes it for compare.sh to keep beside the reports.
pub fn this_machine() -> Machine {
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo.lines().find(|l| l.starts_with("model name"));
    let cpu = model.and_then(|l| l.split(':').nth(1));
    let release = read("/proc/sys/kernel/osrelease");
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output();
    let rustc = rustc.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu: cpu.map_or("unknown", str::trim).to_string(),
        os: format!("{} {}", std::env::consts::OS, release.trim()),
        rustc: rustc.unwrap_or_else(|_| "unknown".to_string()),
    }
}

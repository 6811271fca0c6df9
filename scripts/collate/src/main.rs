//! Collates the reports that `scripts/compare.sh` collected into one comparison.
//!
//! Reads every `<program>__<case>__r<run>.json` in `--raw` (each a program's own `--json`
//! report), and writes to `--out`:
//!
//! - `compare.md`: the table, one row per method and language (the Rust programs, and with
//!   `--python` the Python guide's own methods run by `scripts/python/guide.py`, each measured
//!   against its own language's sequential run), the guide's quoted figures in a footnote, and
//!   the worker sweep (Rust's);
//! - `compare.json`: every figure of every run (and its median, min and max), which language each
//!   method is written in (as its reports say), the machine, the command;
//! - `compare.svg`: the io speedups next to their ideal, cpu and fetch at 2 workers, both
//!   languages side by side, and the sweep's throughput against the ideal (see [`chart`]);
//! - `decide.md`: the guide's decision tree redrawn for Rust, each branch with the figure from
//!   this run that justifies it (see [`decide`]);
//! - `lessons.md`: what the table teaches, each lesson worded from this run's figures (see
//!   [`lessons`]);
//! - `timelines.svg`: each Rust method's io run (`io4`, the first run) and the baseline's as
//!   Gantt charts on one time scale, one lane per worker or per task (see [`timelines`]);
//! - `writes.md`: each Rust method's one-row writes, four ways of sharing SQLite's one write
//!   lock, and the reads' SQL time beside a writer, from the reports in `<raw>/writes` (see
//!   [`writes`]), and `writes-lessons.md`, what they teach (see [`writes_lessons`]);
//! - `mix.md`: an application's mix of reads and write transactions, by every method with each
//!   way of writing, with the latency each kind of request sees, and what that teaches, from
//!   the reports in `<raw>/mix` (see [`mix`]);
//! - `questions.md`: the questions Rust users ask most about SQLite and concurrency, each with
//!   a command and this run's figure, and the two measurements made for them: async's SQL on
//!   connection threads against `spawn_blocking`, and throughput by connection count, from
//!   `<raw>/questions` and `<raw>/connections` (see [`questions`]);
//! - `pitfalls.md`: the tables of PITFALLS.md, each pitfall with this run's figure, or with
//!   the outcome the reports in `<raw>/faults` show (see [`pitfalls`] and [`faults`]);
//! - `start.md`: how soon a pool of worker processes is ready under each start method (fork,
//!   spawn, forkserver), in Rust and Python, from the reports in `<raw>/start` (see [`start`]).
//!
//! Each `.md` is a block of the docs: a full run of `scripts/compare.sh` puts `NAME.md` between the `<!-- NAME:begin -->` and
//! `<!-- NAME:end -->` lines of every doc that has them (README.md, PITFALLS.md, docs/), so the
//! docs always quote the run in `results/`. A block's headings are `###` or lower, since it sits
//! under the doc's own.
//!
//! Every figure is a median over the runs with its min–max, like hyperfine's: one run of a
//! benchmark on a shared machine is an anecdote. A report that is missing, unreadable, or has a
//! task that is not ok stops the collation with its file named: a table with a hole in it would
//! be worse than no table. (The writes table's reports and the faults' are the exception:
//! their failed tasks are counted, not refused.)
//!
//! This is a workspace member of its own, under `scripts/`, so that the chart's dependency
//! (plotters) is built for the comparison only, never into `shared` or an executor.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use shared::RunReport;

mod baseline;
mod chart;
mod decide;
mod decision;
mod faults;
mod figures;
mod html;
mod lessons;
mod mix;
mod pitfalls;
mod questions;
mod start;
mod timelines;
mod writes;
mod writes_lessons;
mod your_workload;
mod yours;

/// Collates the reports written by scripts/compare.sh into DIR/compare.{md,json,svg},
/// DIR/decide.md, DIR/lessons.md, DIR/timelines.svg, DIR/writes.md, DIR/writes-lessons.md and
/// DIR/pitfalls.md.
#[derive(Parser)]
#[command(name = "collate")]
struct Args {
    /// The folder of `<program>__<case>__r<run>.json` reports, and of the writes table's in
    /// `writes/`.
    #[arg(long)]
    raw: PathBuf,
    /// Where to write compare.md, compare.json, compare.svg, decide.md, lessons.md,
    /// timelines.svg, writes.md, writes-lessons.md and pitfalls.md.
    #[arg(long)]
    out: PathBuf,
    /// How many runs of each measurement to expect.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// "full" or "quick" (a quick run is a check, not a measurement).
    #[arg(long, default_value = "full")]
    mode: String,
    /// The command that produced the reports, quoted in the outputs.
    #[arg(long, default_value = "scripts/compare.sh")]
    command: String,
    /// Expect the Python rows too: guide.py's reports, as `python-<method>`, and the workloads
    /// it ran in `<raw>/workloads`.
    #[arg(long, conflicts_with = "python_left_out")]
    python: bool,
    /// Why there are no Python rows, said under the table.
    #[arg(long, value_name = "WHY", allow_hyphen_values = true)]
    python_left_out: Option<String>,
    /// The reports are of one workload of the user's (`compare.sh --db FILE --workload-file
    /// FILE`): the baseline's, and each method's at each worker count. See [`yours`].
    #[arg(long)]
    own_workload: bool,
}

/// What a program is written in, as its report says (`"language"`; the Rust programs' reports
/// predate the field and leave it out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Language {
    Rust,
    Python,
}

impl Language {
    fn of(report: &serde_json::Value) -> Result<Language, String> {
        match report.get("language").and_then(|l| l.as_str()) {
            None | Some("rust") => Ok(Language::Rust),
            Some("python") => Ok(Language::Python),
            Some(other) => Err(format!("an unknown language '{other}'")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
        }
    }
}

/// One row of the table: the program whose reports fill it, and what the reader sees.
struct Row {
    /// The `<program>` in the report files' names.
    program: &'static str,
    /// The method, in the words both languages share: the table's first word, and what
    /// compare.svg groups by.
    family: &'static str,
    language: Language,
    /// The mechanism, after the language, in the row's label.
    mechanism: &'static str,
}

impl Row {
    /// `threadpool (Python, ThreadPoolExecutor)`.
    fn label(&self) -> String {
        format!(
            "{} ({}, {})",
            self.family,
            self.language.name(),
            self.mechanism
        )
    }
}

const fn row(
    program: &'static str,
    family: &'static str,
    language: Language,
    mechanism: &'static str,
) -> Row {
    Row {
        program,
        family,
        language,
        mechanism,
    }
}

/// The rows of the table, in order: each method in Rust, then the same method in Python, so
/// that the two sit one above the other.
const ROWS: [Row; 10] = [
    row("sequential", "sequential", Language::Rust, "baseline"),
    row(
        "python-sequential",
        "sequential",
        Language::Python,
        "baseline",
    ),
    row(
        "threadpool_executor",
        "threadpool",
        Language::Rust,
        "rayon pool",
    ),
    row(
        "python-threadpool",
        "threadpool",
        Language::Python,
        "ThreadPoolExecutor",
    ),
    row("async_executor", "async", Language::Rust, "tokio"),
    row(
        "python-asyncio",
        "async",
        Language::Python,
        "asyncio.gather",
    ),
    row(
        "multiprocessing_executor",
        "multiprocessing",
        Language::Rust,
        "fork",
    ),
    row(
        "python-multiprocessing",
        "multiprocessing",
        Language::Python,
        "multiprocessing.Pool",
    ),
    row(
        "threading_executor",
        "threading",
        Language::Rust,
        "hand-written",
    ),
    row(
        "python-threading",
        "threading",
        Language::Python,
        "queue.Queue + Thread",
    ),
];

/// What the guide reported on its own io benchmark ("8 SQLite queries with artificial delays
/// (0.05 s to 0.3 s)"), on a machine and with worker counts it does not give: quoted under the
/// table, never measured here.
const GUIDE_QUOTED: [(&str, &str); 4] = [
    ("ThreadPoolExecutor", "3.00x"),
    ("asyncio", "4.13x"),
    ("multiprocessing", "3.82x"),
    ("manual threading", "3.01x"),
];

fn main() -> ExitCode {
    let args = Args::parse();
    match collate(&args) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("collate: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A figure over the runs: the median, the range, and every value.
#[derive(Debug, Clone, Serialize)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let raw = values.clone();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: values[0],
            max: values[n - 1],
            values: raw,
        })
    }

    /// `3.24x (3.22–3.25)`, or just `3.24x` when there was one run or no spread at this precision.
    fn show(&self, decimals: usize, unit: &str) -> String {
        let median = format!("{:.decimals$}", self.median);
        let (min, max) = (
            format!("{:.decimals$}", self.min),
            format!("{:.decimals$}", self.max),
        );
        if self.values.len() < 2 || min == max {
            format!("{median}{unit}")
        } else {
            format!("{median}{unit} ({min}–{max})")
        }
    }
}

/// The figures of one measurement (a program on a case) over its runs.
#[derive(Debug, Clone, Serialize)]
struct Case {
    command: String,
    workers: usize,
    tasks: usize,
    wall_s: Spread,
    startup_s: Spread,
    per_task_us: Spread,
    tasks_per_s: Spread,
    max_rss_kib: Spread,
    children_max_rss_kib: Spread,
    children_pss_kib: Option<Spread>,
    speedup: Option<Spread>,
    ideal_speedup: Option<Spread>,
    /// What set the ideal: "workers", "cores" or "connections" (see `shared::Bound`).
    ideal_bound: Option<String>,
    /// The median speedup is above the median ideal: no method beats the best schedule of the
    /// baseline's own task times, so the baseline ran slower than its work needs (noise, a
    /// cold cache), and the table marks it.
    above_ideal: bool,
    efficiency: Option<Spread>,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct MethodFigures {
    program: String,
    method: String,
    /// The method in the words both languages share ("threadpool", "async", ...).
    family: String,
    /// "rust" for this workspace's programs, "python" for guide.py's methods.
    language: Language,
    /// The interpreter that ran a Python method, as its reports name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    interpreter: Option<String>,
    cases: BTreeMap<String, Case>,
    /// The smallest worker count of the sweep within 5% of the highest throughput (Rust's
    /// methods only: Python's are not swept).
    best_concurrency: Option<usize>,
}

#[derive(Debug, Serialize)]
struct Machine {
    cores: usize,
    cpu: String,
    os: String,
    rustc: String,
}

#[derive(Debug, Serialize)]
struct Comparison {
    command: String,
    mode: String,
    runs: usize,
    machine: Machine,
    methods: Vec<MethodFigures>,
    /// Why there are no Python methods above, when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    python_left_out: Option<String>,
    /// How the workloads differ between the languages (fetch's rounds of digest per value).
    rounds: Rounds,
    /// The guide's own io speedups: quoted, not measured.
    guide_quoted_io_speedup: BTreeMap<&'static str, &'static str>,
    /// The writes table's cells, and the reads' SQL time beside a writer.
    writes: writes::Writes,
    /// async's SQL on connection threads against spawn_blocking (`sql_on`), and throughput by
    /// connection count (`connection_sweep`), when the run has them.
    #[serde(flatten)]
    questions: Option<questions::Questions>,
    /// The `app` mix of reads and writes, when the run has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    mix: Option<mix::Mix>,
    /// What each program reported of the faults injected on purpose for PITFALLS.md, when the
    /// run has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    faults: Option<faults::Faults>,
    /// How the speedups' baseline was measured: shared by the methods of a round, or run inside
    /// each method's own process.
    baseline: &'static str,
    /// How soon each start method's pool was ready, when the run measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<start::Start>,
    /// compare.md.
    table_markdown: String,
}

/// fetch's rounds of digest per value in each language: the one way the two are not given the
/// same tasks.
#[derive(Debug, Clone, Copy, Serialize)]
struct Rounds {
    rust_fetch: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    python_fetch: Option<u32>,
}

impl Rounds {
    /// Rust's from the preset itself; Python's from the workload file guide.py was given.
    fn read(args: &Args) -> Result<Rounds, String> {
        let first = |workload: shared::Workload| workload.tasks.first().map(|t| t.query.rounds);
        let rust_fetch = first(shared::Workload::preset(shared::Preset::Fetch, None))
            .ok_or("the fetch preset has no tasks")?;
        let python_fetch = if args.python {
            let path = args.raw.join("workloads").join("fetch.json");
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

fn collate(args: &Args) -> Result<String, String> {
    if args.own_workload {
        return yours::collate(args);
    }
    let (mut reports, origins) = load(&args.raw, args.runs)?;
    let shared_baseline = baseline::attach(&mut reports, preset_baseline)? > 0;
    let mut methods = Vec::new();
    for row in ROWS
        .iter()
        .filter(|r| r.language == Language::Rust || args.python)
    {
        let program = row.program;
        let (Some(cases), Some(origin)) = (reports.get(program), origins.get(program)) else {
            return Err(format!(
                "no reports from {program} in {}",
                args.raw.display()
            ));
        };
        if origin.language != row.language {
            return Err(format!(
                "{program}: its reports say they are {}, not {}",
                origin.language.name(),
                row.language.name()
            ));
        }
        let cases: BTreeMap<String, Case> = cases
            .iter()
            .map(|(case, runs)| summarise(program, case, runs).map(|c| (case.clone(), c)))
            .collect::<Result<_, _>>()?;
        let best_concurrency = best_concurrency(&cases);
        methods.push(MethodFigures {
            program: program.to_string(),
            method: row.label(),
            family: row.family.to_string(),
            language: row.language,
            interpreter: origin.interpreter.clone(),
            cases,
            best_concurrency,
        });
    }
    let machine = machine();
    let rounds = Rounds::read(args)?;
    let writes = writes::collate(&args.raw.join("writes"), args.runs)?;
    let writes_md = writes::markdown(&writes);
    // A fault injected on purpose runs in the first round only: it shows which tasks fail, not
    // a time to take a median of.
    let faults = faults::collate(&args.raw.join("faults"), 1)?;
    let mix = mix::collate(&args.raw.join("mix"), args.runs)?;
    let questions = questions::collate(&args.raw, args.runs)?;
    let start = start::collate(&args.raw.join("start"), args.runs)?;
    let table = markdown(args, &machine, &methods, rounds, shared_baseline)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |name: &str, text: &str| {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("compare.md", &table)?;
    write("writes.md", &writes_md)?;
    if let Some(mix) = &mix {
        write("mix.md", &mix::markdown(mix))?;
    }
    write("start.md", &start::markdown(start.as_ref()))?;
    let comparison = Comparison {
        command: args.command.clone(),
        mode: args.mode.clone(),
        runs: args.runs,
        machine,
        methods,
        python_left_out: args.python_left_out.clone(),
        rounds,
        guide_quoted_io_speedup: GUIDE_QUOTED.into_iter().collect(),
        writes,
        questions,
        mix,
        faults,
        baseline: if shared_baseline {
            baseline::HOW
        } else {
            "one sequential run inside each method's own process, after the method's"
        },
        start,
        table_markdown: table.clone(),
    };
    let json = serde_json::to_string_pretty(&comparison).map_err(|e| e.to_string())?;
    write("compare.json", &json)?;
    chart::draw(&args.out.join("compare.svg"), &comparison.methods)?;
    write(
        "decide.md",
        &decide::markdown(args, &comparison.machine, &comparison.methods),
    )?;
    write(
        "lessons.md",
        &lessons::markdown(&comparison.methods, comparison.machine.cores),
    )?;
    write(
        "writes-lessons.md",
        &writes_lessons::markdown(&comparison.writes),
    )?;
    write("pitfalls.md", &pitfalls::markdown(&comparison))?;
    write(
        "questions.md",
        &questions::markdown(
            comparison.questions.as_ref(),
            &comparison.writes,
            comparison.mix.as_ref(),
            comparison.machine.cores,
        ),
    )?;
    timelines::draw(&args.out.join("timelines.svg"), &io_runs(&reports)?)?;
    let read = |name: &str| {
        let path = args.out.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    html::write(
        &args.out,
        "Four ways to run SQLite queries concurrently, measured",
        &[
            html::Part::Markdown(&format!("### The comparison\n\n{table}")),
            html::Part::Svg(
                "The speedups beside their ideals, and the worker sweep",
                "compare.svg",
            ),
            html::Part::Markdown(&read("decide.md")?),
            html::Part::Markdown(&read("lessons.md")?),
            html::Part::Svg(
                "Timelines: the io tasks, one after the other and on 4 workers",
                "timelines.svg",
            ),
        ],
    )?;
    Ok(table)
}

/// Which sequential case each of a method's cases is measured against, when compare.sh ran it
/// without a baseline of its own (see [`baseline`]): the io runs (4 workers, the best setting,
/// async's blocking calls) against the io baseline, cpu and fetch against theirs.
fn preset_baseline(case: &str) -> Option<&'static str> {
    match case {
        "io4" | "iobest" | "blocking" => Some("io"),
        "cpu2" => Some("cpu"),
        "fetch2" => Some("fetch"),
        _ => None,
    }
}

/// The runs timelines.svg draws: the Rust baseline's io and each Rust method's io on 4 workers,
/// the first run of each, in the table's order.
fn io_runs(reports: &Reports) -> Result<Vec<timelines::Panel<'_>>, String> {
    ROWS.iter()
        .filter(|row| row.language == Language::Rust)
        .map(|row| {
            let case = if row.program == "sequential" {
                "io"
            } else {
                "io4"
            };
            let first = reports
                .get(row.program)
                .and_then(|cases| cases.get(case))
                .and_then(|runs| runs.first())
                .ok_or_else(|| format!("{}: no '{case}' measurement", row.program))?;
            Ok(timelines::Panel {
                method: row.label(),
                report: first,
            })
        })
        .collect()
}

/// Every report: program → case → runs, in run order (r1 first).
type Reports = BTreeMap<String, BTreeMap<String, Vec<RunReport>>>;

/// Where a program's reports say they come from; every report of one program must agree.
#[derive(Debug, PartialEq)]
struct Origin {
    language: Language,
    interpreter: Option<String>,
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
fn load(raw: &Path, runs: usize) -> Result<(Reports, BTreeMap<String, Origin>), String> {
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    let reports = read_reports(raw, runs, |path, program, value| {
        let invalid = |e: &dyn std::fmt::Display| {
            format!("{} ({program}): not a valid report: {e}", path.display())
        };
        let origin = Origin {
            language: Language::of(&value).map_err(|e| invalid(&e))?,
            interpreter: value
                .get("interpreter")
                .and_then(|i| i.as_str())
                .map(str::to_string),
        };
        let report: RunReport = serde_json::from_value(value).map_err(|e| invalid(&e))?;
        match origins.get(program) {
            Some(known) if *known != origin => {
                return Err(format!(
                    "{}: from {origin}, where {program}'s other reports are from {known}",
                    path.display()
                ));
            }
            Some(_) => {}
            None => {
                origins.insert(program.to_string(), origin);
            }
        }
        if report.counts.ok != report.tasks.len() {
            return Err(format!(
                "{}: {:?} tasks were not all ok",
                path.display(),
                report.counts
            ));
        }
        Ok(report)
    })?;
    Ok((reports, origins))
}

/// Reads every `<program>__<case>__r<run>.json` in `dir` (its folders are left alone), each
/// turned by `read` into what the caller keeps, given the file, its program and its JSON, into
/// program → case → runs, r1 first. Each case must have `runs` reports.
/// The programs' reports in `dir` (`<program>__<case>__r<run>.json`), by program and case, or
/// `None` when the run has no such folder (a run from before its section was measured).
fn read_run_reports(dir: &Path, runs: usize) -> Result<Option<Reports>, String> {
    if !dir.is_dir() {
        return Ok(None);
    }
    read_reports(dir, runs, |path, program, value| {
        serde_json::from_value::<RunReport>(value)
            .map_err(|e| format!("{} ({program}): not a valid report: {e}", path.display()))
    })
    .map(Some)
}

fn read_reports<T>(
    dir: &Path,
    runs: usize,
    mut read: impl FnMut(&Path, &str, serde_json::Value) -> Result<T, String>,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<T>>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Keyed by run number while reading, because the folder lists its files in no set order.
    let mut found: BTreeMap<String, BTreeMap<String, BTreeMap<usize, T>>> = BTreeMap::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let parts: Vec<&str> = name.split("__").collect();
        let misnamed = || {
            format!(
                "{}: not named <program>__<case>__r<run>.json",
                path.display()
            )
        };
        let [program, case, run] = parts[..] else {
            return Err(misnamed());
        };
        let run: usize = run
            .strip_prefix('r')
            .and_then(|n| n.parse().ok())
            .ok_or_else(misnamed)?;
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // As a value first, for the fields only some reports have.
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} ({program}): not a valid report: {e}", path.display()))?;
        let kept = read(&path, program, value)?;
        found
            .entry(program.to_string())
            .or_default()
            .entry(case.to_string())
            .or_default()
            .insert(run, kept);
    }
    for (program, cases) in &found {
        for (case, reports) in cases {
            if reports.len() != runs {
                return Err(format!(
                    "{program} {case}: {} reports, expected {runs}",
                    reports.len()
                ));
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|(program, cases)| {
            let cases = cases
                .into_iter()
                .map(|(case, runs)| (case, runs.into_values().collect()))
                .collect();
            (program, cases)
        })
        .collect())
}

fn summarise(program: &str, case: &str, runs: &[RunReport]) -> Result<Case, String> {
    let spread = |f: &dyn Fn(&RunReport) -> f64| {
        Spread::of(runs.iter().map(f).collect())
            .ok_or_else(|| format!("{program} {case}: a figure is not a number"))
    };
    let optional = |f: &dyn Fn(&RunReport) -> Option<f64>| -> Option<Spread> {
        runs.iter()
            .map(f)
            .collect::<Option<Vec<f64>>>()
            .and_then(Spread::of)
    };
    let first = &runs[0];
    let tasks = first.tasks.len().max(1) as f64;
    let speedup = optional(&|r| r.speedup);
    let ideal_speedup = optional(&|r| r.ideal_speedup);
    let above_ideal = match (&speedup, &ideal_speedup) {
        (Some(s), Some(i)) => s.median > i.median,
        _ => false,
    };
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
        children_pss_kib: optional(&|r| r.usage.children_pss_kib.map(|k| k as f64)),
        speedup,
        ideal_speedup,
        ideal_bound: first.ideal_bound.clone(),
        above_ideal,
        efficiency: optional(&|r| r.efficiency),
        notes: first.notes.clone(),
    })
}

/// The sweep's points, by worker count, from the cases named `sweep-<workers>`.
fn sweep(cases: &BTreeMap<String, Case>) -> Vec<(usize, &Case)> {
    let mut points: Vec<(usize, &Case)> = cases
        .iter()
        .filter_map(|(name, case)| Some((name.strip_prefix("sweep-")?.parse().ok()?, case)))
        .collect();
    points.sort_by_key(|(workers, _)| *workers);
    points
}

fn best_concurrency(cases: &BTreeMap<String, Case>) -> Option<usize> {
    let points = sweep(cases);
    let peak = points
        .iter()
        .map(|(_, c)| c.tasks_per_s.median)
        .fold(0.0, f64::max);
    points
        .iter()
        .find(|(_, c)| c.tasks_per_s.median >= 0.95 * peak)
        .map(|(w, _)| *w)
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))?
                .split(':')
                .nth(1)
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu,
        os: format!("{} {}", std::env::consts::OS, release.trim()),
        rustc,
    }
}

/// The methods that are swept and drawn per worker: every method but the baselines.
fn executors(methods: &[MethodFigures]) -> impl Iterator<Item = &MethodFigures> {
    methods.iter().filter(|m| m.family != "sequential")
}

/// How many tasks one language's methods ran in `case` (the first method's: they all run the
/// same), if that language ran it.
fn tasks_in(methods: &[MethodFigures], language: Language, case: &str) -> Option<usize> {
    executors(methods)
        .filter(|m| m.language == language)
        .find_map(|m| m.cases.get(case))
        .map(|c| c.tasks)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `once`, `twice`, `230 times`.
fn times(n: u32) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// What a cell of the table is: with one run there is no median and no range to give.
fn how_many_runs(runs: usize) -> String {
    if runs == 1 {
        "1 run of each measurement: each cell is that run's figure, with no range".to_string()
    } else {
        format!("{runs} runs of each measurement, median with min–max")
    }
}

fn markdown(
    args: &Args,
    machine: &Machine,
    methods: &[MethodFigures],
    rounds: Rounds,
    shared_baseline: bool,
) -> Result<String, String> {
    let mut md = String::new();
    let python = methods.iter().find(|m| m.language == Language::Python);
    let _ = write!(
        md,
        "Measured with `{}` ({}) on {} cores ({}), {}, {}",
        args.command,
        how_many_runs(args.runs),
        machine.cores,
        machine.cpu,
        machine.os,
        machine.rustc
    );
    match python {
        Some(m) => {
            let _ = writeln!(
                md,
                "; the Python rows with {} running `scripts/python/guide.py`, the guide's own \
                 mechanisms, on the same fixture and tasks.\n",
                m.interpreter.as_deref().unwrap_or("an unnamed interpreter")
            );
        }
        None => md.push_str(".\n\n"),
    }
    if args.mode == "quick" {
        md.push_str(
            "**A quick run: one repetition, a short sweep, fewer heavy tasks and fewer writes (on \
             16 workers only), to check that everything works; not a measurement.**\n\n",
        );
    }
    md.push_str(
        "| method | io, 4 workers | ideal, 4 workers | efficiency | io, best setting | cpu, 2 workers | fetch, 2 workers \
         | overhead per task | best concurrency | memory at 1,000 waits | startup, 4 workers |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut fewer_waits = false;
    for m in methods {
        let case = |name: &str| {
            m.cases
                .get(name)
                .ok_or_else(|| format!("{}: no '{name}' measurement", m.program))
        };
        let speedup = |name: &str| -> Result<String, String> { Ok(speedup_cell(case(name)?)) };
        let row = if m.family == "sequential" {
            let overhead = case("overhead")?.per_task_us.show(2, " µs");
            format!(
                "| {} | 1.00x | 1.00x | 1.00 | 1.00x | 1.00x | 1.00x | {overhead} | 1 | – | {} |",
                m.method,
                ms(&case("io")?.startup_s),
            )
        } else {
            let io4 = case("io4")?;
            let best = case("iobest")?;
            let setting = if best.workers == best.tasks && m.family == "async" {
                "unlimited".to_string()
            } else {
                plural(best.workers, "worker", "workers")
            };
            let scale = case("scale")?;
            let mut memory = match &scale.children_pss_kib {
                Some(pss) => format!(
                    "{} + {} in worker processes",
                    mib(scale.max_rss_kib.median),
                    mib(pss.median)
                ),
                None => mib(scale.max_rss_kib.median),
            };
            if scale.tasks != 1000 {
                fewer_waits = true;
                let _ = write!(memory, " (at {} waits)", scale.tasks);
            }
            // Still rising at the largest count tried: say so, and how close to the ideal it got.
            let best_concurrency = match (m.best_concurrency, sweep(&m.cases).last()) {
                (Some(w), Some((last, case))) if w == *last => format!(
                    "≥ {w} ({:.0}% of ideal there)",
                    100.0 * case.tasks_per_s.median / (*last as f64 / SWEEP_WAIT_S)
                ),
                (Some(w), _) => w.to_string(),
                _ => "not swept".to_string(),
            };
            format!(
                "| {} | {} | {} | {} | {} {} | {} | {} | {} | {} | {} | {} |",
                m.method,
                speedup("io4")?,
                io4.ideal_speedup
                    .as_ref()
                    .map_or("–".into(), |s| format!("{:.2}x", s.median)),
                io4.efficiency
                    .as_ref()
                    .map_or("–".into(), |s| s.show(2, "")),
                speedup("iobest")?,
                setting,
                speedup("cpu2")?,
                speedup("fetch2")?,
                case("overhead")?.per_task_us.show(2, " µs"),
                best_concurrency,
                memory,
                ms(&io4.startup_s),
            )
        };
        md.push_str(&row);
        md.push('\n');
    }
    md.push('\n');
    md.push_str(&legend(methods, rounds, fewer_waits, shared_baseline));
    md.push('\n');
    if python.is_none() {
        let _ = writeln!(
            md,
            "\nNo Python rows in this run: {}.",
            args.python_left_out.as_deref().unwrap_or("not asked for")
        );
    }
    md.push_str(
        "\nQuoted from the guide, not measured here: on its own io benchmark (\"8 SQLite queries \
         with artificial delays (0.05 s to 0.3 s)\", on a machine and with worker counts it does \
         not give) the guide reported ",
    );
    let quoted: Vec<String> = GUIDE_QUOTED
        .iter()
        .map(|(method, speedup)| format!("{method} {speedup}"))
        .collect();
    let _ = writeln!(md, "{}.", quoted.join(", "));

    let swept: Vec<&MethodFigures> = executors(methods)
        .filter(|m| !sweep(&m.cases).is_empty())
        .collect();
    let _ = writeln!(
        md,
        "\nWorker sweep (`scale`, 4 waits of 100 ms per worker): tasks per second, median{}.\n",
        if python.is_some() {
            "; the Rust methods only (Python's processes would cost seconds and GBs per point at \
             the top of it)"
        } else {
            ""
        }
    );
    let counts: Vec<usize> = swept
        .first()
        .map(|m| sweep(&m.cases).iter().map(|(w, _)| *w).collect())
        .unwrap_or_default();
    md.push_str("| method |");
    counts.iter().for_each(|w| {
        let _ = write!(md, " {w} |");
    });
    md.push_str("\n|---|");
    counts.iter().for_each(|_| md.push_str("---|"));
    md.push_str("\n| ideal (workers / 0.1 s) |");
    counts.iter().for_each(|w| {
        let _ = write!(md, " {:.0} |", *w as f64 / SWEEP_WAIT_S);
    });
    md.push('\n');
    for m in swept {
        let _ = write!(md, "| {} |", m.method);
        for (_, case) in sweep(&m.cases) {
            let _ = write!(md, " {:.0} |", case.tasks_per_s.median);
        }
        md.push('\n');
    }
    Ok(md)
}

/// What each column measures, with the task counts and rounds this run used, where the two
/// languages were given different work.
fn legend(
    methods: &[MethodFigures],
    rounds: Rounds,
    fewer_waits: bool,
    shared_baseline: bool,
) -> String {
    let tasks = |language, case| tasks_in(methods, language, case);
    let python = methods.iter().any(|m| m.language == Language::Python);
    let mut text = String::from(
        "io: the guide's 8 tasks (waits of 50–300 ms, each followed by a light query), speedup over \
         the sequential baseline",
    );
    if !shared_baseline {
        text.push_str(" run in the same process");
    }
    if python {
        text.push_str(
            " (for a Python row, Python's own sequential run: each language is measured against \
             itself)",
        );
    }
    if shared_baseline {
        let _ = write!(
            text,
            "; {}, and each speedup divides that round's baseline time by the method's (cpu and \
             fetch too)",
            baseline::HOW
        );
    }
    text.push_str(
        "; ideal: the best 4 workers can do in FIFO order on this machine's cores, from the \
         baseline's task times; efficiency: ideal time / wall time; †: above its ideal, which \
         no method beats: a slow baseline (noise). ",
    );
    let rust_cpu = tasks(Language::Rust, "cpu2").unwrap_or(8);
    let _ = write!(
        text,
        "cpu: {} inside SQLite",
        plural(rust_cpu, "heavy query", "heavy queries")
    );
    match tasks(Language::Python, "cpu2") {
        Some(n) if n != rust_cpu => {
            let _ = write!(text, " ({n} in the Python rows). ");
        }
        _ => text.push_str(". "),
    }
    let rust_fetch = tasks(Language::Rust, "fetch2").unwrap_or(8);
    let _ = write!(
        text,
        "fetch: {} walking ~75,000 rows each in the program, digesting every value {}",
        plural(rust_fetch, "task", "tasks"),
        times(rounds.rust_fetch),
    );
    match (tasks(Language::Python, "fetch2"), rounds.python_fetch) {
        (Some(n), Some(r)) => {
            let which = if n == rust_fetch {
                "tasks".to_string()
            } else {
                plural(n, "task", "tasks")
            };
            let _ = write!(
                text,
                "; the Python rows' {which} digest each value {} ({} would take minutes in \
                 Python): compare the two languages' fetch speedups, each over its own sequential \
                 run, not their times. ",
                times(r),
                times(rounds.rust_fetch),
            );
        }
        _ => text.push_str(". "),
    }
    let rust_overhead = tasks(Language::Rust, "overhead").unwrap_or(10_000);
    let _ = write!(
        text,
        "overhead: {} × `SELECT 1`, wall time per task",
        writes_lessons::thousands(rust_overhead as f64)
    );
    match tasks(Language::Python, "overhead") {
        Some(n) if n != rust_overhead => {
            let _ = write!(
                text,
                " ({} in the Python rows)",
                writes_lessons::thousands(n as f64)
            );
        }
        _ => {}
    }
    text.push_str(
        ". best concurrency: the fewest workers \
         within 5% of the highest throughput in the sweep below. memory: peak resident memory \
         during 1,000 concurrent waits of 100 ms (`scale`); for processes, the parent's peak plus \
         the children's proportional shares (`Pss`, which counts pages shared copy-on-write \
         once, not once per child)",
    );
    if fewer_waits {
        text.push_str(
            "; a cell that names another number of waits was measured at that many (Python's \
             multiprocessing gets 100 waits on 100 processes: 1,000 of its processes take \
             seconds and GBs to start, and 100 show what each one costs)",
        );
    }
    text.push_str(
        ". startup: before the first task can start (threads, processes, runtime, connections).",
    );
    text
}

/// Each sweep task waits the `scale` preset's 100 ms, so W workers can finish at most W / 0.1 s
/// tasks a second.
const SWEEP_WAIT_S: f64 = 0.1;

/// A case's speedup as a table shows it, marked † when its median is above its ideal (see
/// [`Case::above_ideal`]).
fn speedup_cell(c: &Case) -> String {
    match &c.speedup {
        Some(s) if c.above_ideal => format!("{} †", s.show(2, "x")),
        Some(s) => s.show(2, "x"),
        None => "–".to_string(),
    }
}

fn mib(kib: f64) -> String {
    format!("{:.1} MB", kib * 1024.0 / 1e6)
}

fn ms(s: &Spread) -> String {
    format!("{:.2} ms", s.median * 1000.0)
}

/// What the generated pages' tests build their runs from: a method's figures, made up and
/// round, so that a test can name the figure it expects to see.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_is_not_called_a_median_with_a_range() {
        assert!(!how_many_runs(1).contains("median"));
        assert!(how_many_runs(3).contains("3 runs of each measurement, median with min–max"));
    }

    pub fn spread(value: f64) -> Spread {
        Spread::of(vec![value]).expect("a number")
    }

    /// A case whose every figure is `value`, but what the caller sets.
    pub fn case(tasks: usize, workers: usize) -> Case {
        Case {
            command: String::new(),
            workers,
            tasks,
            wall_s: spread(1.0),
            startup_s: spread(0.001),
            per_task_us: spread(1.0),
            tasks_per_s: spread(1.0),
            max_rss_kib: spread(10_000.0),
            children_max_rss_kib: spread(0.0),
            children_pss_kib: None,
            speedup: None,
            ideal_speedup: None,
            ideal_bound: None,
            above_ideal: false,
            efficiency: None,
            notes: Vec::new(),
        }
    }

    fn figures(program: &str, cases: BTreeMap<String, Case>) -> MethodFigures {
        let row = ROWS
            .iter()
            .find(|r| r.program == program)
            .expect("a program of the table");
        MethodFigures {
            program: program.to_string(),
            method: row.label(),
            family: row.family.to_string(),
            language: row.language,
            interpreter: None,
            best_concurrency: None,
            cases,
        }
    }

    /// A Rust program's figures: io at 4 workers 3.25x against an ideal of 3.27x, efficiency
    /// 0.99 (threading's 1.01), 4.40x at its best setting; cpu and fetch 1.90x; 1.5 µs a task
    /// for threadpool and 1.0 µs for the others; 20 MB at 1,000 waits (processes 2 MB + 300 MB
    /// of children's Pss); a sweep of 1 and 1,000 workers, at 100% and 90% of the ideal
    /// (processes 30%).
    pub fn method(program: &str) -> MethodFigures {
        let mut cases = BTreeMap::new();
        let mut io4 = case(8, 4);
        io4.speedup = Some(spread(3.25));
        io4.ideal_speedup = Some(spread(3.27));
        io4.efficiency = Some(spread(if program == "threading_executor" {
            1.01
        } else {
            0.99
        }));
        cases.insert("io4".to_string(), io4);
        let mut iobest = case(8, 8);
        iobest.speedup = Some(spread(4.4));
        cases.insert("iobest".to_string(), iobest);
        for name in ["cpu2", "fetch2"] {
            let mut c = case(8, 2);
            c.speedup = Some(spread(1.9));
            cases.insert(name.to_string(), c);
        }
        let mut overhead = case(10_000, 4);
        if program == "threadpool_executor" {
            overhead.per_task_us = spread(1.5);
        }
        cases.insert("overhead".to_string(), overhead);
        let mut scale = case(1000, 1000);
        scale.max_rss_kib = spread(20_000.0 / 1.024);
        if program == "multiprocessing_executor" {
            scale.max_rss_kib = spread(2_000.0 / 1.024);
            scale.children_pss_kib = Some(spread(300_000.0 / 1.024));
        }
        cases.insert("scale".to_string(), scale);
        if program != "sequential" {
            for (workers, percent) in [(1, 100.0), (1000, 90.0)] {
                let percent = if program == "multiprocessing_executor" && workers == 1000 {
                    30.0
                } else {
                    percent
                };
                let mut point = case(4 * workers, workers);
                point.tasks_per_s = spread(workers as f64 / SWEEP_WAIT_S * percent / 100.0);
                cases.insert(format!("sweep-{workers}"), point);
            }
        }
        figures(program, cases)
    }

    /// A Python method's figures: as a Rust one's, but 100 µs a task, no sweep, and `fetch`
    /// for its threads' and asyncio's fetch speedup (its processes' 1.65x).
    pub fn python_method(program: &str, fetch: f64) -> MethodFigures {
        let mut figures = method(program);
        figures.cases.retain(|name, _| !name.starts_with("sweep-"));
        if let Some(c) = figures.cases.get_mut("fetch2") {
            c.speedup = Some(spread(if program == "python-multiprocessing" {
                1.65
            } else {
                fetch
            }));
        }
        if let Some(c) = figures.cases.get_mut("overhead") {
            c.per_task_us = spread(100.0);
        }
        figures
    }
}

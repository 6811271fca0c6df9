//! Collates the reports that `scripts/compare.sh` collected into one comparison.
//!
//! Reads every `<program>__<case>__r<run>.json` in `--raw` (each a program's own `--json`
//! report), and writes to `--out`:
//!
//! - `compare.md`: the table, as the README shows it, and the worker sweep;
//! - `compare.json`: every figure of every run (and its median, min and max), the machine, the
//!   command;
//! - `compare.svg`: speedups next to their ideal, and the sweep's throughput against the ideal.
//!
//! Every figure is a median over the runs with its min–max, like hyperfine's: one run of a
//! benchmark on a shared machine is an anecdote. A report that is missing, unreadable, or has a
//! task that is not ok stops the collation with its file named: a table with a hole in it would
//! be worse than no table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use plotters::prelude::*;
use serde::Serialize;
use shared::RunReport;

/// Collates the reports written by scripts/compare.sh into results/compare.{md,json,svg}.
#[derive(Parser)]
#[command(name = "collate")]
struct Args {
    /// The folder of `<program>__<case>__r<run>.json` reports.
    #[arg(long)]
    raw: PathBuf,
    /// Where to write compare.md, compare.json and compare.svg.
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
}

/// The rows of the table, in order: (program, method name, what the guide reported for the
/// Python counterpart on its io benchmark, quoted and not measured here).
const METHODS: [(&str, &str, &str); 5] = [
    ("sequential", "sequential (baseline)", "1.00x"),
    ("threadpool_executor", "threadpool (rayon pool)", "3.00x"),
    ("async_executor", "async (tokio)", "4.13x"),
    (
        "multiprocessing_executor",
        "multiprocessing (fork)",
        "3.82x",
    ),
    ("threading_executor", "threading (hand-written)", "3.01x"),
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
    efficiency: Option<Spread>,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct MethodFigures {
    program: String,
    method: String,
    python_guide_speedup_quoted: String,
    cases: BTreeMap<String, Case>,
    /// The smallest worker count of the sweep within 5% of the highest throughput.
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
    table_markdown: String,
}

fn collate(args: &Args) -> Result<String, String> {
    let reports = load(&args.raw, args.runs)?;
    let mut methods = Vec::new();
    for (program, method, quoted) in METHODS {
        let Some(cases) = reports.get(program) else {
            return Err(format!(
                "no reports from {program} in {}",
                args.raw.display()
            ));
        };
        let cases: BTreeMap<String, Case> = cases
            .iter()
            .map(|(case, runs)| summarise(program, case, runs).map(|c| (case.clone(), c)))
            .collect::<Result<_, _>>()?;
        let best_concurrency = best_concurrency(&cases);
        methods.push(MethodFigures {
            program: program.to_string(),
            method: method.to_string(),
            python_guide_speedup_quoted: quoted.to_string(),
            cases,
            best_concurrency,
        });
    }
    let machine = machine();
    let table = markdown(args, &machine, &methods)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |name: &str, text: &str| {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("compare.md", &table)?;
    let comparison = Comparison {
        command: args.command.clone(),
        mode: args.mode.clone(),
        runs: args.runs,
        machine,
        methods,
        table_markdown: table.clone(),
    };
    let json = serde_json::to_string_pretty(&comparison).map_err(|e| e.to_string())?;
    write("compare.json", &json)?;
    chart(&args.out.join("compare.svg"), &comparison.methods)?;
    Ok(table)
}

/// Reads every report: program → case → runs. Any unreadable report, or one in which a task
/// did not end ok, is an error that names its file.
fn load(
    raw: &Path,
    runs: usize,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<RunReport>>>, String> {
    let entries = std::fs::read_dir(raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    let mut reports: BTreeMap<String, BTreeMap<String, Vec<RunReport>>> = BTreeMap::new();
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
        let [program, case, _run] = parts[..] else {
            return Err(format!(
                "{}: not named <program>__<case>__r<run>.json",
                path.display()
            ));
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let report: RunReport = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid report: {e}", path.display()))?;
        if report.counts.ok != report.tasks.len() {
            return Err(format!(
                "{}: {:?} tasks were not all ok",
                path.display(),
                report.counts
            ));
        }
        reports
            .entry(program.to_string())
            .or_default()
            .entry(case.to_string())
            .or_default()
            .push(report);
    }
    for (program, cases) in &reports {
        for (case, found) in cases {
            if found.len() != runs {
                return Err(format!(
                    "{program} {case}: {} reports, expected {runs}",
                    found.len()
                ));
            }
        }
    }
    Ok(reports)
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
        speedup: optional(&|r| r.speedup),
        ideal_speedup: optional(&|r| r.ideal_speedup),
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

fn markdown(args: &Args, machine: &Machine, methods: &[MethodFigures]) -> Result<String, String> {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Measured with `{}` ({} run{} of each measurement, median with min–max) on {} cores ({}), {}, {}.\n",
        args.command,
        args.runs,
        if args.runs == 1 { "" } else { "s" },
        machine.cores,
        machine.cpu,
        machine.os,
        machine.rustc
    );
    if args.mode == "quick" {
        md.push_str("**A quick run: one repetition and a short sweep, to check that everything works; not a measurement.**\n\n");
    }
    md.push_str(
        "| method | io, 4 workers | ideal, 4 workers | efficiency | io, best setting | cpu, 2 workers | fetch, 2 workers \
         | overhead per task | best concurrency | memory at 1,000 waits | startup, 4 workers | Python (guide, quoted) |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for m in methods {
        let case = |name: &str| {
            m.cases
                .get(name)
                .ok_or_else(|| format!("{}: no '{name}' measurement", m.program))
        };
        let speedup = |name: &str| -> Result<String, String> {
            let c = case(name)?;
            Ok(c.speedup.as_ref().map_or("–".into(), |s| s.show(2, "x")))
        };
        let row = if m.program == "sequential" {
            let overhead = case("overhead")?.per_task_us.show(2, " µs");
            format!(
                "| {} | 1.00x | 1.00x | 1.00 | 1.00x | 1.00x | 1.00x | {overhead} | 1 | – | {} | {} |",
                m.method,
                ms(&case("io")?.startup_s),
                m.python_guide_speedup_quoted
            )
        } else {
            let io4 = case("io4")?;
            let best = case("iobest")?;
            let setting = if best.workers == best.tasks && m.program == "async_executor" {
                "unlimited".to_string()
            } else {
                format!(
                    "{} worker{}",
                    best.workers,
                    if best.workers == 1 { "" } else { "s" }
                )
            };
            let scale = case("scale")?;
            let memory = match &scale.children_pss_kib {
                Some(pss) => format!(
                    "{} + {} in worker processes",
                    mib(scale.max_rss_kib.median),
                    mib(pss.median)
                ),
                None => mib(scale.max_rss_kib.median),
            };
            // Still rising at the largest count tried: say so, and how close to the ideal it got.
            let best_concurrency = match (m.best_concurrency, sweep(&m.cases).last()) {
                (Some(w), Some((last, case))) if w == *last => format!(
                    "≥ {w} ({:.0}% of ideal there)",
                    100.0 * case.tasks_per_s.median / (*last as f64 / SWEEP_WAIT_S)
                ),
                (Some(w), _) => w.to_string(),
                _ => "–".to_string(),
            };
            format!(
                "| {} | {} | {} | {} | {} {} | {} | {} | {} | {} | {} | {} | {} |",
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
                m.python_guide_speedup_quoted
            )
        };
        md.push_str(&row);
        md.push('\n');
    }
    md.push_str(
        "\nio: the guide's 8 tasks (waits of 50–300 ms, each followed by a light query), speedup over the \
         sequential baseline run in the same process; ideal: the best 4 workers can do in FIFO order, from the \
         baseline's task durations; efficiency: ideal time / wall time. cpu: 8 heavy queries inside SQLite. \
         fetch: 8 tasks walking ~75,000 rows each in the program. overhead: 10,000 × `SELECT 1`, wall time \
         per task. best concurrency: the fewest workers within 5% of the highest throughput in the sweep \
         below. memory: peak resident memory during 1,000 concurrent waits of 100 ms (`scale`); for \
         processes, the parent's peak plus the children's proportional shares (`Pss`, which counts \
         pages shared copy-on-write once, not once per child). startup: before the first task \
         can start (threads, processes, runtime). The last column is quoted from the guide, not measured.\n",
    );
    let _ = writeln!(
        md,
        "\nWorker sweep (`scale`, 4 waits of 100 ms per worker): tasks per second, median.\n"
    );
    let counts: Vec<usize> = methods
        .iter()
        .find(|m| m.program != "sequential")
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
    for m in methods.iter().filter(|m| m.program != "sequential") {
        let _ = write!(md, "| {} |", m.method);
        for (_, case) in sweep(&m.cases) {
            let _ = write!(md, " {:.0} |", case.tasks_per_s.median);
        }
        md.push('\n');
    }
    Ok(md)
}

/// Each sweep task waits the `scale` preset's 100 ms, so W workers can finish at most W / 0.1 s
/// tasks a second.
const SWEEP_WAIT_S: f64 = 0.1;

fn mib(kib: f64) -> String {
    format!("{:.1} MB", kib * 1024.0 / 1e6)
}

fn ms(s: &Spread) -> String {
    format!("{:.2} ms", s.median * 1000.0)
}

/// Two panels: the io speedups beside their ideals, and the sweep against its ideal.
fn chart(path: &Path, methods: &[MethodFigures]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (left, right) = root.split_horizontally(560);
    let colours = [
        RGBColor(0x44, 0x77, 0xaa),
        RGBColor(0xee, 0x66, 0x77),
        RGBColor(0x22, 0x88, 0x33),
        RGBColor(0xcc, 0xbb, 0x44),
    ];
    let executors: Vec<&MethodFigures> = methods
        .iter()
        .filter(|m| m.program != "sequential")
        .collect();

    // Left: io speedup with 4 workers and at the best setting, against both ideals.
    let mut bars = ChartBuilder::on(&left)
        .caption("io workload: speedup over sequential", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(45)
        .build_cartesian_2d(0.0..executors.len() as f64, 0.0..5.0)
        .map_err(|e| fail(&e))?;
    bars.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("speedup (x)")
        .draw()
        .map_err(|e| fail(&e))?;
    for (i, m) in executors.iter().enumerate() {
        let x = i as f64;
        let get = |case: &str| {
            m.cases
                .get(case)
                .and_then(|c| c.speedup.as_ref())
                .map_or(0.0, |s| s.median)
        };
        let ideal4 = m
            .cases
            .get("io4")
            .and_then(|c| c.ideal_speedup.as_ref())
            .map_or(0.0, |s| s.median);
        let ideal_best = m
            .cases
            .get("iobest")
            .and_then(|c| c.ideal_speedup.as_ref())
            .map_or(0.0, |s| s.median);
        let colour = colours[i % colours.len()];
        bars.draw_series([
            Rectangle::new(
                [(x + 0.12, 0.0), (x + 0.48, get("io4"))],
                colour.mix(0.55).filled(),
            ),
            Rectangle::new(
                [(x + 0.52, 0.0), (x + 0.88, get("iobest"))],
                colour.filled(),
            ),
        ])
        .map_err(|e| fail(&e))?;
        // The ideals as black ticks over each bar: the bar can only reach its tick.
        bars.draw_series([
            PathElement::new(
                vec![(x + 0.12, ideal4), (x + 0.48, ideal4)],
                BLACK.stroke_width(2),
            ),
            PathElement::new(
                vec![(x + 0.52, ideal_best), (x + 0.88, ideal_best)],
                BLACK.stroke_width(2),
            ),
        ])
        .map_err(|e| fail(&e))?;
        let label = m.method.split(' ').next().unwrap_or(&m.method).to_string();
        bars.draw_series([Text::new(label, (x + 0.15, -0.25), ("sans-serif", 14))])
            .map_err(|e| fail(&e))?;
    }
    left.draw(&Text::new(
        "light: 4 workers · dark: best setting · black tick: ideal",
        (60, 470),
        ("sans-serif", 13),
    ))
    .map_err(|e| fail(&e))?;

    // Right: throughput against the number of workers, log-log, with the ideal W / 0.1 s.
    let mut lines = ChartBuilder::on(&right)
        .caption(
            "worker sweep: tasks per second (100 ms waits)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d((1.0..1000.0).log_scale(), (5.0..20_000.0).log_scale())
        .map_err(|e| fail(&e))?;
    lines
        .configure_mesh()
        .x_desc("workers")
        .y_desc("tasks per second")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| fail(&e))?;
    let counts: Vec<f64> = executors
        .first()
        .map(|m| sweep(&m.cases).iter().map(|(w, _)| *w as f64).collect())
        .unwrap_or_default();
    lines
        .draw_series(LineSeries::new(
            counts.iter().map(|&w| (w, w / SWEEP_WAIT_S)),
            BLACK.stroke_width(1),
        ))
        .map_err(|e| fail(&e))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (i, m) in executors.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let points: Vec<(f64, f64)> = sweep(&m.cases)
            .iter()
            .map(|(w, c)| (*w as f64, c.tasks_per_s.median))
            .collect();
        lines
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(m.method.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        lines
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| fail(&e))?;
    }
    lines
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

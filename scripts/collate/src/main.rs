//! Collates the reports `scripts/compare.sh` collected (`<program>__<case>__r<run>.json` in
//! `--raw`, each a program's own `--json` report) into `--out`: the table (`compare.md`, its
//! figures in `compare.json`, `compare.svg`), `decide.md`, `lessons.md`, `timelines.svg`, the
//! writes (`writes.md`, `writes-lessons.md`), the mix (`mix.md`) and its write share swept
//! (`split.md`, `split.svg`), `questions.md`, `pitfalls.md`, `start.md`, `cost.md` (and a
//! `cost-METHOD.md` for each lesson), and `index.html`.
//!
//! In layers: at the bottom [`model`], [`read`] and [`format`], which import nothing above
//! them; over them one module an output, its sentences in `templates/`; and this file, the
//! command line and the order of the outputs. Each `.md` is a block that a full run puts
//! between a doc's `<!-- NAME:begin -->` and `<!-- NAME:end -->` lines, so that the docs quote
//! the run in `results/`; its headings are `###` or lower, under the doc's own.
//!
//! Every figure is a median over the runs with its min–max, like hyperfine's: one run on a
//! shared machine is an anecdote. A report that is missing, unreadable or has a task that is
//! not ok stops the collation, its file named: a table with a hole in it would be worse than
//! none (the writes, the mix, the split and the faults count their failed tasks instead). A
//! workspace member of its own, so that plotters is built for the comparison only.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use comparison::Comparison;

// The bottom layer: the model, reading the raw reports, and how a figure is written.
mod format;
mod model;
mod read;

// Each output over the model.
mod baseline;
mod chart;
mod compare;
mod comparison;
mod cost;
mod decide;
mod decision;
mod faults;
mod figures;
mod html;
mod lessons;
mod mix;
mod pitfalls;
mod questions;
mod split;
mod start;
mod timelines;
mod writes;
mod writes_lessons;
mod your_workload;
mod yours;

/// Collates the reports written by scripts/compare.sh (see the module's doc for what it writes).
#[derive(Parser)]
#[command(name = "collate")]
struct Args {
    /// The folder of `<program>__<case>__r<run>.json` reports, and of its sections' folders.
    #[arg(long)]
    raw: PathBuf,
    /// Where to write the outputs.
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
    /// Collate nothing: write this host (cores, CPU, OS, rustc) into `<raw>/machine.json`,
    /// which compare.sh does before it measures, for the outputs to name the machine that ran.
    #[arg(long)]
    record_machine: bool,
}

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

fn collate(args: &Args) -> Result<String, String> {
    if args.record_machine {
        let json =
            serde_json::to_string_pretty(&read::this_machine()).map_err(|e| e.to_string())?;
        format::write_out(&args.raw, read::MACHINE, &format!("{json}\n"))?;
        return Ok(String::new());
    }
    if args.own_workload {
        return yours::collate(args);
    }
    let (mut comparison, reports) = Comparison::read(args)?;
    let c = &comparison;
    let table = compare::markdown(args, &c.machine, &c.methods, c.rounds, c.shared_baseline())?;
    let write = |name: &str, text: &str| format::write_out(&args.out, name, text);
    write("compare.md", &table)?;
    write("writes.md", &writes::markdown(&c.writes)?)?;
    if let Some(mix) = &c.mix {
        write("mix.md", &mix::markdown(mix)?)?;
    }
    write("split.md", &split::markdown(c.split.as_ref())?)?;
    write("start.md", &start::markdown(c.start.as_ref())?)?;
    cost::write(&args.out, c.cost.as_ref())?;
    let decide = decide::markdown(c)?;
    write("decide.md", &decide)?;
    let lessons = lessons::markdown(&c.methods, c.machine.cores)?;
    write("lessons.md", &lessons)?;
    write("writes-lessons.md", &writes_lessons::markdown(&c.writes)?)?;
    write("pitfalls.md", &pitfalls::markdown(c)?)?;
    let (questions, mix) = (c.questions.as_ref(), c.mix.as_ref());
    let questions =
        questions::markdown(questions, &c.writes, mix, c.split.as_ref(), c.machine.cores)?;
    write("questions.md", &questions)?;
    chart::draw(&args.out.join("compare.svg"), &c.methods)?;
    if let Some(split) = &c.split {
        split::draw(&args.out.join("split.svg"), split)?;
    }
    let io_runs = comparison::io_runs(&reports)?;
    timelines::draw(&args.out.join("timelines.svg"), &io_runs)?;
    comparison.table_markdown = table.clone();
    let json = serde_json::to_string_pretty(&comparison).map_err(|e| e.to_string())?;
    write("compare.json", &json)?;
    // The page's title and its charts' headings: one a line of templates/index.md.
    let [title, chart, timelines, split] = html::headings("index.md", serde_json::json!({}))?;
    let headed = format!("### The comparison\n\n{table}");
    let mut parts = vec![
        html::Part::Markdown(&headed),
        html::Part::Svg(&chart, "compare.svg"),
        html::Part::Markdown(&decide),
        html::Part::Markdown(&lessons),
        html::Part::Svg(&timelines, "timelines.svg"),
    ];
    if comparison.split.is_some() {
        parts.push(html::Part::Svg(&split, "split.svg"));
    }
    html::write(&args.out, &title, &parts)?;
    Ok(table)
}

/// What the generated pages' tests build their runs from: a method's figures, made up and
/// round, so that a test can name the figure it expects to see.
#[cfg(test)]
mod tests {
    use crate::format::*;
    use crate::model::*;
    use std::collections::BTreeMap;

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

//! The comparison of a workload of the reader's own (`compare.sh --db FILE --workload-file FILE`
//! or `--workload NAME`): the baseline (`<program>__baseline`) and every method at each worker
//! count that matters (`<program>__w<N>`), measured against its round's baseline (see
//! [`baseline`](super::baseline)), into `compare.md`, `compare.json`, `compare.svg`,
//! `timelines.svg`, `decide.md` (see [`decision`](super::decision)) and `index.html`.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::{IntoLogRange, SeriesLabelPosition};
use serde_json::json;
use shared::{RunReport, TaskReport};

use super::decision;
use super::html::Part::{Markdown, Svg};
use super::your_workload::{Decision, Method, Yours, best};
use super::{baseline, chart, html, timelines};
use crate::Args;
use crate::format::{how_many_runs, render, speedup_cell, write_out};
use crate::model::cases::{BASELINE, WORKERS};
use crate::model::programs::{SEQUENTIAL, THREADPOOL};
use crate::model::{BASELINE_FAMILY, Case, Language, ROWS, Reports, Row, Spread};
use crate::read::{load, machine, summarise};

pub fn collate(args: &Args) -> Result<String, String> {
    let (mut reports, _) = load(&args.raw, args.runs)?;
    let against = |case: &str| {
        let count = case.strip_prefix(WORKERS).map(str::parse::<usize>);
        matches!(count, Some(Ok(_))).then_some(BASELINE)
    };
    baseline::attach(&mut reports, against)?;
    let methods = methods(&reports, args.python)?;
    let baseline_runs = reports.get(SEQUENTIAL).and_then(|c| c.get(BASELINE));
    let baseline_runs = baseline_runs.ok_or("no sequential baseline")?;
    let base = &baseline_runs[0];
    let mut yours = Yours {
        workload: base.workload.clone(),
        tasks: base.tasks.len(),
        writes: base.tasks.iter().any(|t| t.writes),
        command: args.command.clone(),
        mode: args.mode.clone(),
        runs: args.runs,
        machine: machine(&args.raw)?,
        baseline: baseline::HOW,
        shape: decision::shape(baseline_runs, &methods)?,
        decision: Decision::default(),
        methods,
        python_left_out: args.python_left_out.clone(),
        table_markdown: String::new(),
    };
    yours.decision = decision::of(&yours)?;
    yours.table_markdown = markdown(&yours)?;
    let write = |name: &str, text: &str| write_out(&args.out, name, text);
    write("compare.md", &yours.table_markdown)?;
    let json = serde_json::to_string_pretty(&yours).map_err(|e| e.to_string())?;
    write("compare.json", &json)?;
    chart(&args.out.join("compare.svg"), &yours)?;
    let decide = decision::markdown(&yours)?;
    write("decide.md", &decide)?;
    let trimmed = timeline_runs(&reports, &yours)?;
    let mut panels = Vec::new();
    for (method, report) in &trimmed {
        panels.push(timelines::Panel {
            method: method.clone(),
            report,
        });
    }
    timelines::draw(&args.out.join("timelines.svg"), &panels)?;
    let [title, chart, timelines] =
        html::headings("yours/index.md", json!({ "workload": yours.workload }))?;
    let table = format!("### The table\n\n{}", yours.table_markdown);
    let (compare, timelines) = (Svg(&chart, "compare.svg"), Svg(&timelines, "timelines.svg"));
    let parts = [Markdown(&decide), Markdown(&table), compare, timelines];
    html::write(&args.out, &title, &parts)?;
    Ok(yours.table_markdown)
}

/// Every method the run has, in the table's order, with its cases by worker count.
fn methods(reports: &Reports, python: bool) -> Result<Vec<Method>, String> {
    let mut methods = Vec::new();
    let wanted = |r: &&Row| r.language == Language::Rust || python;
    for row in ROWS.iter().filter(wanted) {
        let missing = || format!("no reports from {}", row.program);
        let cases = reports.get(row.program).ok_or_else(missing)?;
        let mut counts = BTreeMap::new();
        for (name, runs) in cases {
            let workers = match name.strip_prefix(WORKERS) {
                _ if name == BASELINE => Some(1),
                n => n.and_then(|n| n.parse().ok()),
            };
            let workers =
                workers.ok_or_else(|| format!("{} {name}: an unknown case", row.program))?;
            counts.insert(workers, summarise(row.program, name, runs)?);
        }
        methods.push(Method {
            program: row.program.to_string(),
            method: row.label(),
            family: row.family.to_string(),
            language: row.language,
            best: best(&counts),
            counts,
        });
    }
    Ok(methods)
}

/// The worker counts of the run, from the methods that have the most.
fn counts(yours: &Yours) -> Vec<usize> {
    let methods = yours.methods.iter().filter(|m| m.family != BASELINE_FAMILY);
    let counts = methods.map(|m| m.counts.keys().copied().collect::<Vec<_>>());
    counts.max_by_key(Vec::len).unwrap_or_default()
}

/// compare.md: the table's cells, written, in templates/yours/compare.md.
fn markdown(y: &Yours) -> Result<String, String> {
    let counts = counts(y);
    // The ideal depends on the method only through its connections; the thread pool's, which
    // has one per worker, is the workload's own.
    let pool = y.methods.iter().find(|m| m.program == THREADPOOL);
    let ideal = pool.map(|pool| {
        let ideal = |w| Some(pool.counts.get(w)?.ideal_speedup.as_ref()?.median);
        counts.iter().map(ideal).collect::<Vec<_>>()
    });
    let row = |m: &Method| {
        let wall = m.counts.get(&1).map(|c| c.wall_s.show(3, " s"));
        let cell = |w| m.counts.get(w).map(speedup_cell);
        let cells: Vec<_> = counts.iter().map(cell).collect();
        let best = m.best_case().map(|(w, c)| {
            let efficiency = c.efficiency.as_ref().map(|s| s.show(2, ""));
            json!({ "workers": w, "speedup": speedup_cell(c), "efficiency": efficiency })
        });
        let baseline = (m.family == BASELINE_FAMILY).then(|| wall.unwrap_or_default());
        json!({ "method": m.method, "baseline": baseline, "cells": cells, "best": best })
    };
    let rows: Vec<_> = y.methods.iter().map(row).collect();
    render(
        "yours/compare.md",
        json!({
            "workload": y.workload,
            "tasks": y.tasks,
            "writes": y.writes,
            "command": y.command,
            "how_many_runs": how_many_runs(y.runs),
            "machine": y.machine,
            "quick": y.mode == "quick",
            "counts": counts,
            "ideal": ideal,
            "rows": rows,
            "baseline": y.baseline,
            "python_left_out": y.python_left_out,
            "python": y.methods.iter().any(|m| m.language == Language::Python),
        }),
    )
}

/// Speedup against workers (log 2), one line per method, Rust's solid and Python's dashed, with
/// the ideal in black.
fn chart(path: &Path, y: &Yours) -> Result<(), String> {
    let mut methods: Vec<&Method> = y.methods.iter().collect();
    methods.retain(|m| m.family != BASELINE_FAMILY);
    let cases = methods.iter().flat_map(|m| m.counts.values());
    let spreads = cases.flat_map(|c| [&c.speedup, &c.ideal_speedup]).flatten();
    let highest = spreads.map(|s| s.max).fold(1.0, f64::max);
    let points = |m: &Method, pick: fn(&Case) -> Option<&Spread>| -> Vec<(f64, f64)> {
        let point = |(w, c): (&usize, &Case)| Some((*w as f64, pick(c)?.median));
        m.counts.iter().filter_map(point).collect()
    };
    // A method's Rust and Python lines share a colour: the table puts them together.
    let mut families: Vec<&str> = methods.iter().map(|m| m.family.as_str()).collect();
    families.dedup();
    let lines = methods.iter().map(|m| chart::Line {
        label: m.method.clone(),
        points: points(m, |c| c.speedup.as_ref()),
        open: Vec::new(),
        colour: chart::PALETTE[families.iter().position(|f| *f == m.family).unwrap_or(0) % 4],
        dashed: m.language == Language::Python,
    });
    let pool = methods.iter().find(|m| m.program == THREADPOOL);
    let caption = json!({ "workload": y.workload, "tasks": y.tasks });
    let caption = render("yours/chart.md", caption)?;
    chart::svg(path, (900, 520), |root| {
        chart::LineChart {
            caption: caption.trim_end(),
            caption_size: 20,
            x: (1.0..counts(y).last().copied().unwrap_or(8).max(2) as f64).log_scale(),
            x_desc: "workers",
            y: 0.0..highest * 1.1,
            y_desc: "speedup (x)",
            y_label_width: 50,
            whole_y: false,
            light_lines: 10,
            key: Some(SeriesLabelPosition::UpperLeft),
            ideal: pool.map(|pool| points(pool, |c| c.ideal_speedup.as_ref())),
            lines: lines.collect(),
        }
        .draw(root)
    })
}

/// The most tasks a timeline panel draws: past this the lanes would be too thin to read.
const MOST_DRAWN: usize = 48;

/// The runs timelines.svg draws: the first of the Rust baseline and of each Rust method at its
/// best count, each cut to its first [`MOST_DRAWN`] tasks to start.
fn timeline_runs(reports: &Reports, y: &Yours) -> Result<Vec<(String, RunReport)>, String> {
    let mut panels = Vec::new();
    for m in y.methods.iter().filter(|m| m.language == Language::Rust) {
        let case = match (m.family == BASELINE_FAMILY, m.best) {
            (true, _) => BASELINE.to_string(),
            (false, Some(w)) => format!("{WORKERS}{w}"),
            (false, None) => continue,
        };
        // `methods` read this method from these reports.
        let Some(first) = reports[&m.program].get(&case).and_then(|runs| runs.first()) else {
            continue;
        };
        let mut report = first.clone();
        let mut label = m.method.clone();
        if report.tasks.len() > MOST_DRAWN {
            let start = |t: &TaskReport| t.started_s.unwrap_or(f64::MAX);
            report.tasks.sort_by(|a, b| start(a).total_cmp(&start(b)));
            let drawn = json!({ "method": label, "most": MOST_DRAWN, "tasks": report.tasks.len() });
            label = render("yours/first-drawn.md", drawn)?
                .trim_end()
                .to_string();
            report.tasks.truncate(MOST_DRAWN);
        }
        panels.push((label, report));
    }
    Ok(panels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{case, spread};

    #[test]
    fn the_best_count_is_the_fewest_workers_within_five_percent_of_the_highest() {
        let mut counts = BTreeMap::new();
        for (w, s) in [(1, 1.0), (2, 1.9), (4, 3.6), (8, 3.7), (16, 3.5)] {
            let mut c = case(8, w);
            c.speedup = Some(spread(s));
            counts.insert(w, c);
        }
        assert_eq!(best(&counts), Some(4));
        counts.get_mut(&4).expect("4 workers").speedup = Some(spread(3.4));
        assert_eq!(best(&counts), Some(8));
        assert_eq!(best(&BTreeMap::new()), None);
    }
}

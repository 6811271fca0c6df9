//! The comparison of one workload of the reader's own: `compare.sh --db FILE --workload-file
//! FILE` (or `--workload NAME`).
//!
//! compare.sh runs the sequential baseline (`<program>__baseline`) and every method at each
//! worker count that matters for the workload (`<program>__w<N>`), a few rounds, each method
//! measured against its round's baseline (see [`baseline`](super::baseline)). From those reports
//! this writes, to `--out`:
//!
//! - `compare.md`: each method's speedup at each count beside the ideal for that count, and its
//!   best count: the fewest workers within 5% of its highest median speedup
//!   (templates/yours/compare.md);
//! - `compare.json`: every figure, the workload's name and shape, the machine, the command;
//! - `compare.svg`: speedup against workers, one line per method, with the ideal;
//! - `timelines.svg`: the baseline and each Rust method at its best count, drawn over time;
//! - `decide.md`: which method, at how many workers, how close to the ideal, and why, in this
//!   run's figures (see [`decision`](super::decision));
//! - `index.html`: all of it on one page.
//!
//! None of it is the guide's own tables (lessons, writes, pitfalls): those are about the
//! guide's workloads, and a run of the reader's says nothing about them.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde_json::json;
use shared::RunReport;

use super::decision;
use super::your_workload::{Decision, Method, Yours, best};
use super::{baseline, html, timelines};
use crate::Args;
use crate::format::{how_many_runs, render, speedup_cell};
use crate::model::cases::{BASELINE, WORKERS};
use crate::model::{Language, ROWS, Reports};
use crate::read::{load, machine, summarise};

pub fn collate(args: &Args) -> Result<String, String> {
    let (mut reports, _) = load(&args.raw, args.runs)?;
    baseline::attach(&mut reports, |case| {
        case.strip_prefix(WORKERS)
            .is_some_and(|n| n.parse::<usize>().is_ok())
            .then_some(BASELINE)
    })?;
    let methods = methods(&reports, args.python)?;
    let base = reports
        .get("sequential")
        .and_then(|cases| cases.get(BASELINE))
        .and_then(|runs| runs.first())
        .ok_or("no sequential baseline")?;
    let shape = decision::shape(&reports, &methods)?;
    let mut yours = Yours {
        workload: base.workload.clone(),
        tasks: base.tasks.len(),
        writes: base.tasks.iter().any(|t| t.writes),
        command: args.command.clone(),
        mode: args.mode.clone(),
        runs: args.runs,
        machine: machine(),
        baseline: baseline::HOW,
        shape,
        decision: Decision::default(),
        methods,
        python_left_out: args.python_left_out.clone(),
        table_markdown: String::new(),
    };
    yours.decision = decision::of(&yours)?;
    yours.table_markdown = markdown(&yours)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |name: &str, text: &str| {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("compare.md", &yours.table_markdown)?;
    let json = serde_json::to_string_pretty(&yours).map_err(|e| e.to_string())?;
    write("compare.json", &json)?;
    chart(&args.out.join("compare.svg"), &yours)?;
    let decide = decision::markdown(&yours)?;
    write("decide.md", &decide)?;
    let trimmed = timeline_runs(&reports, &yours)?;
    let panels: Vec<timelines::Panel> = trimmed
        .iter()
        .map(|(method, report)| timelines::Panel {
            method: method.clone(),
            report,
        })
        .collect();
    timelines::draw(&args.out.join("timelines.svg"), &panels)?;
    let index = render("yours/index.md", json!({ "workload": yours.workload }))?;
    let [title, chart, timelines] = index.lines().collect::<Vec<_>>()[..] else {
        return Err(format!("yours/index.md: {index}"));
    };
    html::write(
        &args.out,
        title,
        &[
            html::Part::Markdown(&decide),
            html::Part::Markdown(&format!("### The table\n\n{}", yours.table_markdown)),
            html::Part::Svg(chart, "compare.svg"),
            html::Part::Svg(timelines, "timelines.svg"),
        ],
    )?;
    Ok(yours.table_markdown)
}

/// Every method the run has, in the table's order, with its cases by worker count.
fn methods(reports: &Reports, python: bool) -> Result<Vec<Method>, String> {
    let mut methods = Vec::new();
    for row in ROWS
        .iter()
        .filter(|r| r.language == Language::Rust || python)
    {
        let cases = reports
            .get(row.program)
            .ok_or_else(|| format!("no reports from {}", row.program))?;
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
    yours
        .methods
        .iter()
        .filter(|m| m.family != "sequential")
        .map(|m| m.counts.keys().copied().collect::<Vec<_>>())
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

/// compare.md: the table's cells, written, in templates/yours/compare.md.
fn markdown(y: &Yours) -> Result<String, String> {
    let counts = counts(y);
    // The ideal depends on the method only through its connections; the thread pool's, which
    // has one per worker, is the workload's own.
    let ideal = y
        .methods
        .iter()
        .find(|m| m.program == "threadpool_executor")
        .map(|pool| {
            counts
                .iter()
                .map(|w| {
                    let ideal = pool.counts.get(w).and_then(|c| c.ideal_speedup.as_ref());
                    ideal.map_or("–".to_string(), |s| format!("{:.2}x", s.median))
                })
                .collect::<Vec<_>>()
        });
    let rows: Vec<_> = y
        .methods
        .iter()
        .map(|m| {
            let sequential = m.family == "sequential";
            let wall = m.counts.get(&1).map(|c| c.wall_s.show(3, " s"));
            let cells: Vec<String> = counts
                .iter()
                .map(|w| m.counts.get(w).map_or("–".to_string(), speedup_cell))
                .collect();
            let best = m.best_case().map(|(w, c)| {
                let efficiency = c.efficiency.as_ref().map_or("–".into(), |s| s.show(2, ""));
                json!({ "workers": w, "speedup": speedup_cell(c), "efficiency": efficiency })
            });
            json!({
                "method": m.method,
                "baseline": sequential.then(|| wall.unwrap_or_default()),
                "cells": cells,
                "best": best,
            })
        })
        .collect();
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
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let counts = counts(y);
    let most = counts.last().copied().unwrap_or(8).max(2) as f64;
    let methods: Vec<&Method> = y
        .methods
        .iter()
        .filter(|m| m.family != "sequential")
        .collect();
    let highest = methods
        .iter()
        .flat_map(|m| m.counts.values())
        .flat_map(|c| [c.speedup.as_ref(), c.ideal_speedup.as_ref()])
        .flatten()
        .map(|s| s.max)
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: speedup over sequential, by workers",
                timelines::workload_words(&y.workload, y.tasks)
            ),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((1.0..most).log_scale(), 0.0..highest * 1.1)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("speedup (x)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| fail(&e))?;
    if let Some(pool) = methods.iter().find(|m| m.program == "threadpool_executor") {
        let ideal: Vec<(f64, f64)> = pool
            .counts
            .iter()
            .filter_map(|(w, c)| Some((*w as f64, c.ideal_speedup.as_ref()?.median)))
            .collect();
        chart
            .draw_series(LineSeries::new(ideal, BLACK.stroke_width(1)))
            .map_err(|e| fail(&e))?
            .label("ideal")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    let colours = [
        RGBColor(0x44, 0x77, 0xaa),
        RGBColor(0xee, 0x66, 0x77),
        RGBColor(0x22, 0x88, 0x33),
        RGBColor(0xcc, 0xbb, 0x44),
    ];
    let families: Vec<&str> = methods.iter().fold(Vec::new(), |mut seen, m| {
        if !seen.contains(&m.family.as_str()) {
            seen.push(m.family.as_str());
        }
        seen
    });
    for m in &methods {
        let i = families.iter().position(|f| *f == m.family).unwrap_or(0);
        let colour = colours[i % colours.len()];
        let points: Vec<(f64, f64)> = m
            .counts
            .iter()
            .filter_map(|(w, c)| Some((*w as f64, c.speedup.as_ref()?.median)))
            .collect();
        let width = if m.language == Language::Rust { 2 } else { 1 };
        let style = colour.stroke_width(width);
        let series = if m.language == Language::Rust {
            chart.draw_series(LineSeries::new(points.clone(), style))
        } else {
            chart.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
        };
        series
            .map_err(|e| fail(&e))?
            .label(m.method.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// The most tasks a timeline panel draws: past this the lanes would be too thin to read.
const MOST_DRAWN: usize = 48;

/// The runs timelines.svg draws: the Rust baseline and each Rust method at its best count, the
/// first run of each; a run of more than 48 tasks is cut to the first 48 to start, and its
/// panel says so.
fn timeline_runs(reports: &Reports, y: &Yours) -> Result<Vec<(String, RunReport)>, String> {
    let mut panels = Vec::new();
    for m in y.methods.iter().filter(|m| m.language == Language::Rust) {
        let case = match (m.family == "sequential", m.best) {
            (true, _) => BASELINE.to_string(),
            (false, Some(w)) => format!("{WORKERS}{w}"),
            (false, None) => continue,
        };
        let Some(first) = reports
            .get(&m.program)
            .and_then(|cases| cases.get(&case))
            .and_then(|runs| runs.first())
        else {
            continue;
        };
        let mut report = first.clone();
        let mut label = m.method.clone();
        if report.tasks.len() > MOST_DRAWN {
            report.tasks.sort_by(|a, b| {
                a.started_s
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.started_s.unwrap_or(f64::MAX))
            });
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

//! compare.md: the table, one row per method and language, its legend, the guide's quoted
//! figures, and the worker sweep. This file hands over each row's cases; how a cell is written
//! and the sentences around the table are `templates/compare.md`'s.

use std::collections::BTreeMap;

use serde_json::json;

use crate::Args;
use crate::format::{how_many_runs, render};
use crate::model::cases::{CPU2, FETCH2, IO, IO4, IOBEST, OVERHEAD, SCALE};
use crate::model::{
    BASELINE_FAMILY, Case, GUIDE_QUOTED, Language, Machine, MethodFigures, Rounds, SWEEP_WAIT_S,
    either, executors, sweep, tasks_in,
};

pub fn markdown(
    args: &Args,
    machine: &Machine,
    methods: &[MethodFigures],
    rounds: Rounds,
    shared_baseline: bool,
) -> Result<String, String> {
    let python = methods.iter().find(|m| m.language == Language::Python);
    let mut rows = Vec::new();
    for m in methods {
        let missing = |name: &str| format!("{}: no '{name}' measurement", m.program);
        let case = |name: &str| m.cases.get(name).ok_or_else(|| missing(name));
        // The baseline's row gives only its cost per task and its startup (on its io run).
        let baseline = m.family == BASELINE_FAMILY;
        let wanted = [IO4, IOBEST, SCALE, CPU2, FETCH2, OVERHEAD];
        let wanted = either(baseline, &[OVERHEAD, IO][..], &wanted);
        let mut cases = BTreeMap::new();
        for name in wanted {
            cases.insert(*name, case(name)?);
        }
        // Still rising at the largest count tried: how close to the ideal it got there.
        let points = sweep(&m.cases);
        let last = points
            .last()
            .filter(|(w, _)| Some(*w) == m.best_concurrency);
        let top = last.map(|(w, c)| 100.0 * c.tasks_per_s.median / (*w as f64 / SWEEP_WAIT_S));
        let (method, family, concurrency) = (&m.method, &m.family, m.best_concurrency);
        rows.push(json!({
            "method": method, "family": family, "baseline": baseline, "cases": cases,
            "best_concurrency": concurrency, "top": top,
        }));
    }
    // How many tasks each language ran where the two may differ, for the legend.
    let tasks = |case: &str, otherwise: usize| {
        let rust = tasks_in(methods, Language::Rust, case).unwrap_or(otherwise);
        json!({ "rust": rust, "python": tasks_in(methods, Language::Python, case) })
    };
    let swept: Vec<&MethodFigures> = executors(methods)
        .filter(|m| !sweep(&m.cases).is_empty())
        .collect();
    let points = swept.first().map_or_else(Vec::new, |m| sweep(&m.cases));
    let counts: Vec<usize> = points.iter().map(|(w, _)| *w).collect();
    let rate = |(_, c): &(usize, &Case)| c.tasks_per_s.median;
    let rates = |m: &MethodFigures| -> Vec<f64> { sweep(&m.cases).iter().map(rate).collect() };
    let rates: Vec<_> = swept.iter().map(|m| (&m.method, rates(m))).collect();
    let fewer = |m: &MethodFigures| m.cases.get(SCALE).is_some_and(|c| c.tasks != 1000);
    let fewer_waits = executors(methods).any(fewer);
    render(
        "compare.md",
        json!({
            "command": args.command,
            "runs": how_many_runs(args.runs),
            "machine": machine,
            "interpreter": python.map(|m| m.interpreter.as_deref().unwrap_or("an unnamed interpreter")),
            "quick": args.mode == "quick",
            "rows": rows,
            "shared_baseline": shared_baseline,
            "baseline_how": crate::baseline::HOW,
            "cpu": tasks(CPU2, 8),
            "fetch": tasks(FETCH2, 8),
            "overhead": tasks(OVERHEAD, 10_000),
            "rounds": rounds,
            "fewer_waits": fewer_waits,
            "python_left_out": args.python_left_out.as_deref().unwrap_or("not asked for"),
            "quoted": GUIDE_QUOTED,
            "sweep": { "counts": counts, "wait_s": SWEEP_WAIT_S, "rows": rates },
        }),
    )
}

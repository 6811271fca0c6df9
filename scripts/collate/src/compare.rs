//! compare.md: the table, one row per method and language, its legend, the guide's quoted
//! figures, and the worker sweep. The cells are written here; the sentences around them are
//! `templates/compare.md`'s.

use serde::Serialize;

use crate::Args;
use crate::format::{how_many_runs, mib, ms, plural, render, speedup_cell};
use crate::model::{
    BASELINE_FAMILY, GUIDE_QUOTED, Language, Machine, MethodFigures, Rounds, SWEEP_WAIT_S, cases,
    executors, sweep, tasks_in,
};

/// How many tasks each language ran where the two may differ, for the legend.
#[derive(Serialize)]
struct Tasks {
    rust: usize,
    python: Option<usize>,
}

/// The worker sweep's table: the worker counts, and each swept method's tasks per second.
#[derive(Serialize)]
struct Sweep {
    counts: Vec<usize>,
    ideal: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

pub fn markdown(
    args: &Args,
    machine: &Machine,
    methods: &[MethodFigures],
    rounds: Rounds,
    shared_baseline: bool,
) -> Result<String, String> {
    let python = methods.iter().find(|m| m.language == Language::Python);
    let mut rows = Vec::new();
    let mut fewer_waits = false;
    for m in methods {
        let case = |name: &str| {
            m.cases
                .get(name)
                .ok_or_else(|| format!("{}: no '{name}' measurement", m.program))
        };
        let overhead = case(cases::OVERHEAD)?.per_task_us.show(2, " µs");
        if m.family == BASELINE_FAMILY {
            let startup = ms(&case(cases::IO)?.startup_s);
            let ones = ["1.00x", "1.00x", "1.00", "1.00x", "1.00x", "1.00x"].map(String::from);
            let mut cells = vec![m.method.clone()];
            cells.extend(ones);
            cells.extend([overhead, "1".into(), "–".into(), startup]);
            rows.push(cells);
            continue;
        }
        let (io4, best, scale) = (case(cases::IO4)?, case(cases::IOBEST)?, case(cases::SCALE)?);
        let setting = if best.workers == best.tasks && m.family == "async" {
            "unlimited".to_string()
        } else {
            plural(best.workers, "worker", "workers")
        };
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
            memory = format!("{memory} (at {} waits)", scale.tasks);
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
        let dash = || "–".to_string();
        rows.push(vec![
            m.method.clone(),
            speedup_cell(io4),
            io4.ideal_speedup
                .as_ref()
                .map_or_else(dash, |s| format!("{:.2}x", s.median)),
            io4.efficiency.as_ref().map_or_else(dash, |s| s.show(2, "")),
            format!("{} {setting}", speedup_cell(best)),
            speedup_cell(case(cases::CPU2)?),
            speedup_cell(case(cases::FETCH2)?),
            overhead,
            best_concurrency,
            memory,
            ms(&io4.startup_s),
        ]);
    }
    let tasks = |case: &str, otherwise: usize| Tasks {
        rust: tasks_in(methods, Language::Rust, case).unwrap_or(otherwise),
        python: tasks_in(methods, Language::Python, case),
    };
    let swept: Vec<&MethodFigures> = executors(methods)
        .filter(|m| !sweep(&m.cases).is_empty())
        .collect();
    let counts: Vec<usize> = swept
        .first()
        .map(|m| sweep(&m.cases).iter().map(|(w, _)| *w).collect())
        .unwrap_or_default();
    let per_second = |v: f64| format!("{v:.0}");
    let sweep_table = Sweep {
        ideal: counts
            .iter()
            .map(|w| per_second(*w as f64 / SWEEP_WAIT_S))
            .collect(),
        rows: swept
            .iter()
            .map(|m| {
                let cells = sweep(&m.cases)
                    .into_iter()
                    .map(|(_, c)| per_second(c.tasks_per_s.median));
                (m.method.clone(), cells.collect())
            })
            .collect(),
        counts,
    };
    render(
        "compare.md",
        serde_json::json!({
            "command": args.command,
            "runs": how_many_runs(args.runs),
            "machine": machine,
            "interpreter": python.map(|m| m.interpreter.as_deref().unwrap_or("an unnamed interpreter")),
            "quick": args.mode == "quick",
            "rows": rows,
            "shared_baseline": shared_baseline,
            "baseline_how": crate::baseline::HOW,
            "cpu": tasks(cases::CPU2, 8),
            "fetch": tasks(cases::FETCH2, 8),
            "overhead": tasks(cases::OVERHEAD, 10_000),
            "rounds": rounds,
            "fewer_waits": fewer_waits,
            "python_left_out": args.python_left_out.as_deref().unwrap_or("not asked for"),
            "quoted": GUIDE_QUOTED,
            "sweep": sweep_table,
        }),
    )
}

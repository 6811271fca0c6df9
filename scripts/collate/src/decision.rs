//! `decide.md` for a workload of the reader's: which method, at how many workers, and why. What
//! the tasks spend their time on (waiting, computing in SQLite, the program's own work) picks a
//! branch of the guide's tree ([`decide`](super::decide)); the fastest Rust method is named
//! alone only when the runs separate it from every other (see [`beats`]), else the tree picks
//! among those it does not beat. The answer is used at its best count.

use serde_json::{Value, json};
use shared::RunReport;

use super::your_workload::{Decision, Kind, Method, Shape, Yours, speedups};
use crate::format::{how_many_runs, render, speedup_cell};
use crate::model::programs::*;
use crate::model::{BASELINE_FAMILY, Case, Language, WITHIN, highest};

/// The share of waiting at or above which a workload is said to wait.
const WAITS: f64 = 0.5;

/// A speedup at or under which threads gained nothing, and at or over which processes did.
const NO_GAIN: f64 = 1.3;

/// From this many tasks, waits are "thousands at once", the tree's branch for async.
const THOUSANDS: usize = 1000;

/// What the tasks spend their time on, from the baseline's reports, and how that was told
/// (templates/yours/evidence.md).
pub fn shape(runs: &[RunReport], methods: &[Method]) -> Result<Shape, String> {
    let mut shares: Vec<f64> = runs.iter().map(wait_share).collect();
    shares.sort_by(f64::total_cmp);
    let wait_share = shares[shares.len() / 2];
    let first = &runs[0];
    let rows: u64 = first.tasks.iter().filter_map(|t| t.rows).sum();
    let rows_per_task = rows as f64 / first.tasks.len().max(1) as f64;
    let best_of = |programs: &[&str]| {
        let of = |m: &&Method| programs.contains(&m.program.as_str());
        methods.iter().filter(of).filter_map(peak).reduce(f64::max)
    };
    let python = best_of(&[PY_THREADPOOL, PY_THREADING]).zip(best_of(&[PY_PROCESSES]));
    let kind = match python {
        _ if wait_share >= WAITS => Kind::Waits,
        // Python's threads hold the GIL while Python code walks the rows, and release it while
        // SQLite computes: the one measurement here that tells the two apart.
        Some((threads, processes)) if threads <= NO_GAIN && processes >= NO_GAIN => Kind::Program,
        _ => Kind::Sqlite,
    };
    let python =
        python.map(|(threads, processes)| json!({"threads": threads, "processes": processes}));
    let evidence = render(
        "yours/evidence.md",
        json!({
            "kind": kind,
            "wait_share": wait_share,
            "rows_per_task": rows_per_task,
            "python": python,
        }),
    )?;
    Ok(Shape {
        kind,
        wait_share,
        rows_per_task,
        evidence: evidence.trim_end().to_string(),
    })
}

/// The share of a run's task time spent before each task's SQL started.
fn wait_share(r: &RunReport) -> f64 {
    let (mut wait, mut whole) = (0.0, 0.0);
    for t in &r.tasks {
        if let (Some(start), Some(sql), Some(end)) = (t.started_s, t.sql_started_s, t.finished_s) {
            wait += (sql - start).max(0.0);
            whole += (end - start).max(0.0);
        }
    }
    if whole > 0.0 { wait / whole } else { 0.0 }
}

/// The Rust methods in the order the tree prefers them for this shape: the first of those
/// the fastest does not beat is the answer.
fn preference(kind: Kind, tasks: usize) -> [&'static str; 4] {
    match kind {
        Kind::Waits if tasks >= THOUSANDS => [ASYNC, THREADPOOL, THREADING, PROCESSES],
        Kind::Waits => [THREADPOOL, ASYNC, THREADING, PROCESSES],
        Kind::Sqlite | Kind::Program => [THREADPOOL, THREADING, PROCESSES, ASYNC],
    }
}

/// The speedups a method's runs reached at the counts that speak for it (its best and its
/// peak), each round's figure: the spread a comparison has to get past.
fn runs_of(m: &Method) -> Vec<f64> {
    let counts = [m.best, peak_at(m).map(|(w, _)| w)].into_iter().flatten();
    let speedups = counts.filter_map(|w| m.counts.get(&w)?.speedup.as_ref());
    speedups.flat_map(|s| s.values.clone()).collect()
}

/// A method's highest median speedup, and at how many workers.
fn peak_at(m: &Method) -> Option<(usize, f64)> {
    highest(speedups(&m.counts))
}

fn peak(m: &Method) -> Option<f64> {
    peak_at(m).map(|(_, speedup)| speedup)
}

/// The slowest run of a method at its best count.
fn slowest(m: &Method) -> Option<f64> {
    Some(m.best_case()?.1.speedup.as_ref()?.min)
}

/// Whether `a` beats `b` in this run: its slowest run at its best count is faster than `b`'s
/// fastest (at `b`'s best or peak count), and its peak median more than [`WITHIN`] above
/// `b`'s. Both or it is a tie: a gap inside the runs' spread is noise, and a smaller one does
/// not matter.
fn beats(a: &Method, b: &Method) -> bool {
    let (Some(a_peak), Some(b_peak)) = (peak(a), peak(b)) else {
        return peak(b).is_none() && peak(a).is_some();
    };
    let fastest = runs_of(b).into_iter().fold(f64::NEG_INFINITY, f64::max);
    slowest(a).unwrap_or(f64::NAN) > fastest && a_peak > (1.0 + WITHIN) * b_peak
}

/// Which method for this workload, the `why` left to [`of`].
pub fn decide(kind: Kind, tasks: usize, rust: &[&Method]) -> Decision {
    let Some((fastest, _)) = highest(rust.iter().filter_map(|m| Some((m, peak(m)?)))) else {
        return Decision::default();
    };
    let level = |m: &&&Method| m.program == fastest.program || !beats(fastest, m);
    let mut tied: Vec<&Method> = rust.iter().filter(level).copied().collect();
    let clear = tied.len() == 1;
    // When the fastest is clear, it is the only one to find.
    let preferred = preference(kind, tasks).iter().find_map(|p| find(&tied, p));
    let chosen = preferred.unwrap_or(fastest);
    // A clear winner is tied with no one.
    if clear {
        tied.clear();
    }
    Decision {
        choice: Some(chosen.program.clone()),
        workers: chosen.best,
        clear,
        tied: tied.iter().map(|m| m.program.clone()).collect(),
        why: String::new(),
    }
}

/// The run's methods in `language`, the sequential baseline aside.
fn methods_in(y: &Yours, language: Language) -> Vec<&Method> {
    let of = |m: &&Method| m.language == language && m.family != BASELINE_FAMILY;
    y.methods.iter().filter(of).collect()
}

/// The decision for a collated workload, with why in one sentence (templates/yours/why.md).
pub fn of(y: &Yours) -> Result<Decision, String> {
    let rust = methods_in(y, Language::Rust);
    let mut decision = decide(y.shape.kind, y.tasks, &rust);
    let short = |p: &String| find(&rust, p).map(|m| m.family.as_str());
    let why = render(
        "yours/why.md",
        json!({
            "choice": decision.choice.as_ref().and_then(short),
            "clear": decision.clear,
            "tied": decision.tied.iter().filter_map(short).collect::<Vec<_>>(),
            "kind": y.shape.kind,
            "many": y.tasks >= THOUSANDS,
        }),
    )?;
    decision.why = why.trim_end().to_string();
    Ok(decision)
}

/// decide.md: the run, and the chosen method with each figure the page gives for it.
pub fn markdown(y: &Yours) -> Result<String, String> {
    let rust = methods_in(y, Language::Rust);
    let chosen = y.decision.choice.as_deref().and_then(|p| find(&rust, p));
    render(
        "yours/decide.md",
        json!({
            "workload": y.workload,
            "command": y.command,
            "quick": y.mode == "quick",
            "how_many_runs": how_many_runs(y.runs),
            "machine": y.machine,
            "tasks": y.tasks,
            "shape": y.shape,
            "many": y.tasks >= THOUSANDS,
            "decided": chosen.and_then(|chosen| decided(y, &rust, chosen)),
        }),
    )
}

fn find<'a>(methods: &[&'a Method], program: &str) -> Option<&'a Method> {
    methods.iter().copied().find(|m| m.program == program)
}

/// The figures behind the decision, or `None` when the chosen method has no best count.
fn decided(y: &Yours, rust: &[&Method], chosen: &Method) -> Option<Value> {
    let (workers, case) = chosen.best_case()?;
    let tied = y.decision.tied.iter().filter_map(|p| find(rust, p));
    let other = |m: &&&Method| m.program != chosen.program && peak(m).is_some();
    let others = rust.iter().filter(other);
    Some(json!({
        "method": chosen.method,
        "short": chosen.family,
        "program": chosen.program,
        "workers": workers,
        "speedup": speedup_cell(case),
        "ideal": case.ideal_speedup.as_ref().map(|s| s.median),
        "efficiency": case.efficiency.as_ref().map(|s| s.median),
        "clear": y.decision.clear,
        "first": preference(y.shape.kind, y.tasks)[0],
        "top": rust.iter().filter_map(|m| peak(m)).fold(0.0, f64::max),
        "slowest": slowest(chosen).unwrap_or(0.0),
        "others": others.map(|m| spread(m)).collect::<Vec<_>>(),
        "tied": tied.map(spread).collect::<Vec<_>>(),
        "scaling": {
            "points": speedups(&chosen.counts).collect::<Vec<_>>(),
            "best": chosen.best,
            "beyond": chosen.best.is_some_and(|b| chosen.counts.keys().any(|&w| w > b)),
        },
        "at_best": rust.iter().map(|m| at_best(m)).collect::<Vec<_>>(),
        "python": python_best(y),
        "peaks": {
            "processes": find(rust, PROCESSES).and_then(peak),
            "threading": find(rust, THREADING).and_then(peak),
        },
    }))
}

/// A method's peak median with the range of its runs at its best and peak counts.
fn spread(m: &Method) -> Value {
    let runs = runs_of(m);
    json!({
        "name": m.family.as_str(),
        "peak": peak(m).unwrap_or(0.0),
        "low": runs.iter().copied().fold(f64::INFINITY, f64::min),
        "high": runs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// A method at its best count: `workers` none when it has none.
fn at_best(m: &Method) -> Value {
    let best = m.best_case();
    json!({
        "name": m.family.as_str(),
        "workers": best.map(|(w, _)| w),
        "speedup": best.map(|(_, c)| shown(c)),
        "efficiency": best.and_then(|(_, c)| c.efficiency.as_ref()).map(|e| e.median),
    })
}

/// Python's fastest method at its best count, when the run has the Python rows.
fn python_best(y: &Yours) -> Option<Value> {
    let python = methods_in(y, Language::Python);
    let (m, _) = highest(python.into_iter().filter_map(|m| Some((m, peak(m)?))))?;
    let (workers, case) = m.best_case()?;
    Some(json!({ "method": m.method, "workers": workers, "speedup": shown(case) }))
}

/// A case's speedup as the page quotes it: `7.79x (7.68–7.86)`, or `–` without one.
fn shown(c: &Case) -> String {
    c.speedup.as_ref().map_or("–".into(), |s| s.show(2, "x"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{Machine, ROWS};
    use crate::tests::{case, spread};

    /// A method whose median speedup at each of 1, 2, 4 and 8 workers is given, each against an
    /// ideal of that many workers.
    fn method(program: &str, speedups: [f64; 4]) -> Method {
        let row = ROWS.iter().find(|r| r.program == program).expect("a row");
        let mut counts = BTreeMap::new();
        for (w, s) in [1, 2, 4, 8].into_iter().zip(speedups) {
            let mut c = case(8, w);
            c.speedup = Some(spread(s));
            c.ideal_speedup = Some(spread(w as f64));
            c.efficiency = Some(spread(s / w as f64));
            counts.insert(w, c);
        }
        let best = crate::your_workload::best(&counts);
        Method {
            program: program.to_string(),
            method: row.label(),
            family: row.family.to_string(),
            language: row.language,
            counts,
            best,
        }
    }

    fn yours(kind: Kind, methods: Vec<Method>) -> Yours {
        Yours {
            workload: "shelves".to_string(),
            tasks: 8,
            writes: false,
            command: "scripts/compare.sh --db library.db --workload-file shelves.json".to_string(),
            mode: "full".to_string(),
            runs: 1,
            machine: Machine {
                cores: 2,
                cpu: "a test".to_string(),
                os: "linux".to_string(),
                rustc: "rustc".to_string(),
            },
            baseline: crate::baseline::HOW,
            shape: Shape {
                kind,
                wait_share: if kind == Kind::Waits { 0.9 } else { 0.0 },
                rows_per_task: 10.0,
                evidence: "a test".to_string(),
            },
            decision: Decision::default(),
            methods,
            python_left_out: None,
            table_markdown: String::new(),
        }
    }

    /// `method`, with three runs at each count: the median given, and the others `±spread`.
    fn method_with_runs(program: &str, speedups: [f64; 4], noise: f64) -> Method {
        let mut m = method(program, speedups);
        for c in m.counts.values_mut() {
            let s = c.speedup.as_ref().expect("a speedup").median;
            c.speedup = crate::model::Spread::of(vec![s - noise, s, s + noise]);
        }
        m
    }

    fn decided(kind: Kind, methods: Vec<Method>) -> (Decision, String) {
        let mut y = yours(kind, methods);
        y.decision = of(&y).expect("the why renders");
        let page = markdown(&y).expect("decide.md renders");
        (y.decision, page)
    }

    #[test]
    fn methods_within_five_percent_are_tied_and_the_tree_picks_among_them() {
        let (decision, page) = decided(
            Kind::Waits,
            vec![
                method(THREADPOOL, [1.0, 2.0, 3.9, 3.95]),
                method(ASYNC, [1.0, 2.0, 3.9, 4.05]),
                method(PROCESSES, [1.0, 1.9, 3.5, 3.6]),
                method(THREADING, [1.0, 2.0, 3.8, 3.9]),
            ],
        );
        assert!(!decision.clear, "{decision:?}");
        assert_eq!(decision.choice.as_deref(), Some(THREADPOOL));
        assert_eq!(decision.workers, Some(4));
        // Processes, 11% behind async at the peak, are beaten; the other three are not.
        assert_eq!(decision.tied, [THREADPOOL, ASYNC, THREADING]);
        assert!(page.contains("Which method for `shelves`?"), "{page}");
        let lead = page
            .lines()
            .find(|l| l.starts_with("**"))
            .expect("a bold line");
        assert!(
            lead.starts_with("**No clear winner: threadpool, async and threading are tied"),
            "{lead}"
        );
        assert!(
            lead.contains("Take threadpool (Rust, rayon pool) at 4 workers"),
            "{lead}"
        );
        assert!(page.contains("they wait"), "{page}");
    }

    #[test]
    fn a_gap_of_five_and_a_half_percent_inside_overlapping_runs_is_a_tie() {
        // The case: 2.17x against 2.06x, each method's runs spread ±0.3.
        let (decision, page) = decided(
            Kind::Sqlite,
            vec![
                method_with_runs(THREADPOOL, [1.0, 2.06, 2.0, 2.0], 0.3),
                method_with_runs(ASYNC, [1.0, 1.9, 1.9, 1.9], 0.3),
                method_with_runs(PROCESSES, [1.0, 1.8, 2.0, 2.17], 0.3),
                method_with_runs(THREADING, [1.0, 2.05, 2.0, 2.0], 0.3),
            ],
        );
        assert!(!decision.clear, "{decision:?}");
        assert_eq!(decision.tied.len(), 4, "{decision:?}");
        assert_eq!(decision.choice.as_deref(), Some(THREADPOOL));
        assert!(page.contains("A tie, by the rule"), "{page}");
        assert!(!page.contains("**Use"), "{page}");
    }

    #[test]
    fn a_method_ahead_beyond_its_runs_noise_and_five_percent_wins_clearly() {
        let (decision, page) = decided(
            Kind::Sqlite,
            vec![
                method_with_runs(THREADPOOL, [1.0, 1.2, 1.2, 1.2], 0.02),
                method_with_runs(ASYNC, [1.0, 1.1, 1.1, 1.1], 0.02),
                method_with_runs(PROCESSES, [1.0, 1.9, 1.9, 1.9], 0.02),
                method_with_runs(THREADING, [1.0, 1.3, 1.3, 1.3], 0.02),
            ],
        );
        assert!(decision.clear, "{decision:?}");
        assert_eq!(decision.choice.as_deref(), Some(PROCESSES));
        assert!(decision.tied.is_empty());
        assert!(
            page.contains("**Use multiprocessing (Rust, fork) at 2 workers: 1.90x"),
            "{page}"
        );
        assert!(page.contains("the figures overrule the tree"), "{page}");
        assert!(page.contains("they compute in SQLite"), "{page}");
    }

    #[test]
    fn a_lead_inside_the_runs_spread_is_no_win_even_past_five_percent() {
        // 10% ahead at the median, but its slowest run is slower than another's fastest.
        let (decision, _) = decided(
            Kind::Sqlite,
            vec![
                method_with_runs(THREADPOOL, [1.0, 1.8, 1.8, 1.8], 0.15),
                method_with_runs(ASYNC, [1.0, 1.98, 1.98, 1.98], 0.15),
                method_with_runs(PROCESSES, [1.0, 1.5, 1.5, 1.5], 0.01),
                method_with_runs(THREADING, [1.0, 1.5, 1.5, 1.5], 0.01),
            ],
        );
        assert!(!decision.clear, "{decision:?}");
        assert_eq!(decision.tied, [THREADPOOL, ASYNC]);
        assert_eq!(decision.choice.as_deref(), Some(THREADPOOL));
    }

    #[test]
    fn without_a_speedup_nothing_is_chosen() {
        let decision = decide(Kind::Waits, 8, &[]);
        assert_eq!(decision.choice, None);
        assert!(!decision.clear && decision.tied.is_empty());
    }
}

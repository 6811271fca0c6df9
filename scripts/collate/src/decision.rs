//! `decide.md` for a workload of the reader's: which method, at how many workers, how close to
//! the ideal, and why, in the run's own figures.
//!
//! First, what the tasks spend their time on, from the sequential baseline's reports: waiting
//! (the part before each task's SQL starts, its `latency_ms`), or computing; and when they
//! compute, whether inside SQLite or in the program's own work on the rows. That picks a branch
//! of the guide's decision tree, the same tree as [`decide`](super::decide) draws for the
//! guide's workloads. Then the figures decide, but only where the runs separate the methods
//! (see [`decide`]): the fastest Rust method is named alone when it beats every other beyond
//! the noise of the runs and by more than 5%; otherwise the methods it does not beat are tied,
//! and the tree picks among them by what it says beyond speed (the simplest that does the job).
//! The answer is used at its best count, the fewest workers within 5% of its highest.

use std::fmt::Write as _;

use super::decide::TREE;
use super::your_workload::{Decision, Kind, Method, Shape, Yours};
use crate::model::{Language, Reports};

/// The share of waiting at or above which a workload is said to wait.
const WAITS: f64 = 0.5;

/// A speedup at or under which threads gained nothing, and at or over which processes did.
const NO_GAIN: f64 = 1.3;

pub fn shape(reports: &Reports, methods: &[Method]) -> Result<Shape, String> {
    let runs = reports
        .get("sequential")
        .and_then(|cases| cases.get("baseline"))
        .ok_or("no sequential baseline among the reports")?;
    let mut shares: Vec<f64> = runs
        .iter()
        .map(|r| {
            let (mut wait, mut whole) = (0.0, 0.0);
            for t in &r.tasks {
                if let (Some(start), Some(sql), Some(end)) =
                    (t.started_s, t.sql_started_s, t.finished_s)
                {
                    wait += (sql - start).max(0.0);
                    whole += (end - start).max(0.0);
                }
            }
            if whole > 0.0 { wait / whole } else { 0.0 }
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    let wait_share = shares[shares.len() / 2];
    let first = &runs[0];
    let rows: u64 = first.tasks.iter().filter_map(|t| t.rows).sum();
    let rows_per_task = rows as f64 / first.tasks.len().max(1) as f64;
    let best_of = |programs: &[&str]| -> Option<f64> {
        methods
            .iter()
            .filter(|m| programs.contains(&m.program.as_str()))
            .flat_map(|m| m.counts.values())
            .filter_map(|c| c.speedup.as_ref().map(|s| s.median))
            .reduce(f64::max)
    };
    let python_threads = best_of(&["python-threadpool", "python-threading"]);
    let python_processes = best_of(&["python-multiprocessing"]);
    let (kind, evidence) = if wait_share >= WAITS {
        (
            Kind::Waits,
            format!(
                "waiting is {:.0}% of the baseline's task time, at least half",
                100.0 * wait_share
            ),
        )
    } else if let (Some(threads), Some(processes)) = (python_threads, python_processes) {
        // Python's threads hold the GIL while Python code walks the rows, and release it while
        // SQLite computes: the one measurement here that tells the two apart.
        if threads <= NO_GAIN && processes >= NO_GAIN {
            (
                Kind::Program,
                format!(
                    "Python's threads, which hold the GIL while Python code works on the rows, \
                     reach {threads:.2}x at best, its processes {processes:.2}x: the time is in \
                     the program's work on the rows"
                ),
            )
        } else {
            (
                Kind::Sqlite,
                format!(
                    "Python's threads reach {threads:.2}x at best (its processes \
                     {processes:.2}x): its sqlite3 releases the GIL while SQLite computes, so \
                     the time is inside SQLite"
                ),
            )
        }
    } else {
        (
            Kind::Sqlite,
            format!(
                "without the Python rows to tell SQLite's time from the program's, it is taken \
                 as SQLite's: the Rust programs' own work is one checksum pass over each of \
                 the {rows_per_task:.0} rows a task returns on average"
            ),
        )
    };
    Ok(Shape {
        kind,
        wait_share,
        rows_per_task,
        evidence,
    })
}

/// The Rust methods in the order the tree prefers them for this shape: the first of those
/// within 5% of the fastest is the answer.
fn preference(kind: Kind, tasks: usize) -> [&'static str; 4] {
    match kind {
        Kind::Waits if tasks >= 1000 => [ASYNC, THREADPOOL, THREADING, PROCESSES],
        Kind::Waits => [THREADPOOL, ASYNC, THREADING, PROCESSES],
        Kind::Sqlite | Kind::Program => [THREADPOOL, THREADING, PROCESSES, ASYNC],
    }
}

const THREADPOOL: &str = "threadpool_executor";
const ASYNC: &str = "async_executor";
const PROCESSES: &str = "multiprocessing_executor";
const THREADING: &str = "threading_executor";

/// How much faster a method's median must be than another's to count, beside being beyond the
/// noise: the 5% the best count uses too, since less is not worth choosing a method for.
const MARGIN: f64 = 1.05;

/// The speedups a method's runs reached at the counts that speak for it (its best and its
/// peak), each round's figure: the spread a comparison has to get past.
fn runs_of(m: &Method) -> Vec<f64> {
    let mut counts: Vec<usize> = m.best.into_iter().collect();
    counts.extend(peak_count(m));
    counts
        .iter()
        .filter_map(|w| m.counts.get(w)?.speedup.as_ref())
        .flat_map(|s| s.values.iter().copied())
        .collect()
}

/// The count of a method's highest median speedup.
fn peak_count(m: &Method) -> Option<usize> {
    m.counts
        .iter()
        .filter_map(|(w, c)| Some((*w, c.speedup.as_ref()?.median)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(w, _)| w)
}

/// Whether `a` beats `b` in this run: its slowest run at its best count is faster than `b`'s
/// fastest (at `b`'s best or peak count), and its peak median more than 5% above `b`'s. Both
/// or it is a tie: a gap inside the runs' spread is noise, and one under 5% does not matter.
fn beats(a: &Method, b: &Method) -> bool {
    let (Some(a_peak), Some(b_peak)) = (peak(a), peak(b)) else {
        return peak(b).is_none() && peak(a).is_some();
    };
    let slowest = a
        .best_case()
        .and_then(|(_, c)| c.speedup.as_ref())
        .map_or(f64::NAN, |s| s.min);
    let fastest = runs_of(b).into_iter().fold(f64::NEG_INFINITY, f64::max);
    slowest > fastest && a_peak > MARGIN * b_peak
}

/// Which method for this workload: the fastest Rust method when it beats each of the others
/// (see [`beats`]), or else the tree's first choice for the workload's shape among the methods
/// the fastest does not beat.
pub fn decide(kind: Kind, tasks: usize, rust: &[&Method]) -> Decision {
    let Some(fastest) = rust
        .iter()
        .filter(|m| peak(m).is_some())
        .max_by(|a, b| peak(a).unwrap_or(0.0).total_cmp(&peak(b).unwrap_or(0.0)))
    else {
        return Decision {
            choice: None,
            workers: None,
            clear: false,
            tied: Vec::new(),
            why: "no Rust method has a speedup in this run, so there is nothing to decide"
                .to_string(),
        };
    };
    let tied: Vec<&Method> = rust
        .iter()
        .copied()
        .filter(|m| m.program == fastest.program || !beats(fastest, m))
        .collect();
    let short = |m: &Method| m.short().to_string();
    if tied.len() == 1 {
        return Decision {
            choice: Some(fastest.program.clone()),
            workers: fastest.best,
            clear: true,
            tied: Vec::new(),
            why: format!(
                "{}'s slowest run is faster than every other method's fastest, and its median \
                 more than 5% ahead of theirs",
                short(fastest)
            ),
        };
    }
    let chosen = preference(kind, tasks)
        .iter()
        .find_map(|p| tied.iter().find(|m| m.program == *p))
        .copied()
        .unwrap_or(fastest);
    let names: Vec<String> = tied.iter().map(|m| short(m)).collect();
    Decision {
        choice: Some(chosen.program.clone()),
        workers: chosen.best,
        clear: false,
        tied: tied.iter().map(|m| m.program.clone()).collect(),
        why: format!(
            "the runs do not separate {} (the fastest's slowest run is not faster than the \
             others' fastest, or its median not 5% ahead), so the tree chooses among them: {}, \
             the simplest that does the job ({})",
            and_list(&names),
            short(chosen),
            simplest(kind, tasks)
        ),
    }
}

/// What the tree asks of a method beyond speed, for each shape of work.
fn simplest(kind: Kind, tasks: usize) -> &'static str {
    match kind {
        Kind::Waits if tasks >= 1000 => "async for thousands of waits",
        Kind::Waits => "the thread pool for waits",
        Kind::Sqlite | Kind::Program => "the thread pool for SQL and work on the rows",
    }
}

/// "a, b and c".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A method's highest median speedup, at whatever count.
fn peak(m: &Method) -> Option<f64> {
    m.counts
        .values()
        .filter_map(|c| c.speedup.as_ref().map(|s| s.median))
        .reduce(f64::max)
}

/// The Rust methods of the run, the sequential baseline aside.
fn rust_methods(y: &Yours) -> Vec<&Method> {
    y.methods
        .iter()
        .filter(|m| m.language == Language::Rust && m.family != "sequential")
        .collect()
}

/// The decision for a collated workload.
pub fn of(y: &Yours) -> Decision {
    decide(y.shape.kind, y.tasks, &rust_methods(y))
}

pub fn markdown(y: &Yours) -> String {
    let mut md = format!(
        "### Which method for `{}`? Decided from this run\n\n",
        y.workload
    );
    let kind = if y.mode == "quick" {
        "a quick run (one repetition: a check that everything works, not a measurement)".to_string()
    } else {
        format!(
            "{} ({})",
            "a full run",
            crate::format::how_many_runs(y.runs)
        )
    };
    let _ = writeln!(
        md,
        "From `{}`, {kind}, on {} cores ({}). Workload `{}`: {}.\n",
        y.command,
        y.machine.cores,
        y.machine.cpu,
        y.workload,
        crate::format::plural(y.tasks, "task", "tasks"),
    );
    let rust = rust_methods(y);
    let decision = &y.decision;
    let by_program = |p: &str| rust.iter().copied().find(|m| m.program == p);
    let Some((chosen, (workers, case))) = decision
        .choice
        .as_deref()
        .and_then(by_program)
        .and_then(|m| Some((m, m.best_case()?)))
    else {
        md.push_str("No Rust method has a speedup in this run, so there is nothing to decide.\n");
        return md;
    };
    let top = rust.iter().filter_map(|m| peak(m)).fold(0.0, f64::max);
    let speedup = crate::format::speedup_cell(case);
    let at = crate::format::plural(workers, "worker", "workers");
    if decision.clear {
        let _ = write!(
            md,
            "**Use {} at {at}: {speedup} over sequential",
            chosen.method
        );
    } else {
        let tied: Vec<String> = decision
            .tied
            .iter()
            .filter_map(|p| by_program(p))
            .map(|m| m.short().to_string())
            .collect();
        let _ = write!(
            md,
            "**No clear winner: {} are tied in this run. Take {} at {at}, the tree's choice \
             among them ({}): {speedup} over sequential",
            and_list(&tied),
            chosen.method,
            simplest(y.shape.kind, y.tasks),
        );
    }
    if let (Some(ideal), Some(e)) = (
        case.ideal_speedup.as_ref().map(|s| s.median),
        case.efficiency.as_ref().map(|s| s.median),
    ) {
        let _ = write!(
            md,
            ", {:.0}% of the ideal for {workers} ({ideal:.2}x)",
            100.0 * e
        );
    }
    md.push_str(".**\n\n");

    let _ = writeln!(md, "What the tasks do: {}.\n", what_they_do(&y.shape));
    md.push_str(TREE);
    let _ = writeln!(
        md,
        "\nThe branch for this workload: {}.\n",
        branch(y.shape.kind, y.tasks, y.machine.cores)
    );
    md.push_str("Why, in this run's figures (medians; the whole table is in `compare.md`):\n\n");
    let _ = writeln!(md, "- {}", verdict(y, chosen, &rust, top));
    if top < 1.0 {
        let _ = writeln!(
            md,
            "- No method beats the sequential loop here ({top:.2}x at the best): handing a task \
             this small to a worker costs more than running it. Run them one after another, or \
             give each worker a batch of them."
        );
    }
    let _ = writeln!(md, "- {}", scaling(chosen, y.machine.cores, y.shape.kind));
    let _ = writeln!(
        md,
        "- Each Rust method at its best count: {}.",
        at_best(&rust)
    );
    if let Some(line) = python(y) {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "- Whatever the work, the tree's last two questions still apply: processes (`multiprocessing_executor`, {} at its peak here) if a crash must cost one task and not the run; hand-written threads (`threading_executor`, {}) if you must decide the order and the lifecycle.",
        by_program(PROCESSES)
            .and_then(peak)
            .map_or("not measured".into(), |s| format!("{s:.2}x")),
        by_program(THREADING)
            .and_then(peak)
            .map_or("not measured".into(), |s| format!("{s:.2}x")),
    );
    md
}

fn what_they_do(shape: &Shape) -> String {
    let waiting = 100.0 * shape.wait_share;
    let doing = match shape.kind {
        Kind::Waits => "they wait",
        Kind::Sqlite => "they compute in SQLite",
        Kind::Program => "they work on rows in the program",
    };
    let mut text = format!(
        "{doing}. {waiting:.0}% of the baseline's task time is spent waiting before the SQL (the \
         tasks' `latency_ms`), {:.0}% in the SQL and the program's work on the {:.0} rows a task \
         returns on average",
        100.0 - waiting,
        shape.rows_per_task,
    );
    if shape.kind != Kind::Waits {
        let _ = write!(text, "; {}", shape.evidence);
    }
    text
}

fn branch(kind: Kind, tasks: usize, cores: usize) -> String {
    match kind {
        Kind::Waits if tasks >= 1000 => "waiting on I/O, thousands at once → async (tokio). A \
            wait costs no CPU, so workers beyond the cores still help, up to one per task, and \
            a wait on async costs a small future, not a thread"
            .to_string(),
        Kind::Waits => "waiting on I/O, a handful to a few hundred at once → a thread pool. A \
            wait costs no CPU, so workers beyond the cores still help, up to one per task"
            .to_string(),
        Kind::Sqlite | Kind::Program => format!(
            "computing → threads (no GIL). Work that computes runs at most {cores} at once on \
             this machine's {cores} cores, and the ideal counts them: past {cores} workers it \
             rises no more"
        ),
    }
}

/// The decision in this run's figures: how the winner beat the rest, or why the runs call a
/// tie, and whether the tree's first choice for the branch is the answer.
fn verdict(y: &Yours, chosen: &Method, rust: &[&Method], top: f64) -> String {
    let short = |m: &Method| m.short().to_string();
    let spread = |m: &Method| {
        let runs = runs_of(m);
        let low = runs.iter().copied().fold(f64::INFINITY, f64::min);
        let high = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!(
            "{} {:.2}x ({low:.2}–{high:.2})",
            short(m),
            peak(m).unwrap_or(0.0)
        )
    };
    let first = preference(y.shape.kind, y.tasks)[0];
    let others: Vec<String> = rust
        .iter()
        .filter(|m| m.program != chosen.program && peak(m).is_some())
        .map(|m| spread(m))
        .collect();
    let slowest = chosen
        .best_case()
        .and_then(|(_, c)| c.speedup.as_ref())
        .map_or(0.0, |s| s.min);
    if y.decision.clear {
        let mut line = format!(
            "A clear win: {}'s slowest run at its best count ({slowest:.2}x) is faster than \
             every run of the others, whose peaks are {}, and its median ({top:.2}x at its \
             peak) more than 5% ahead",
            short(chosen),
            and_list(&others)
        );
        if chosen.program != first {
            let _ = write!(
                line,
                "; so the figures overrule the tree's first choice for this branch, `{first}`"
            );
        }
        line.push('.');
        return line;
    }
    let tied: Vec<String> = y
        .decision
        .tied
        .iter()
        .filter_map(|p| rust.iter().find(|m| m.program == *p))
        .map(|m| spread(m))
        .collect();
    format!(
        "A tie, by the rule in docs/reading-a-report.md: a method is named alone only when its \
         slowest run is faster than every run of the others and its median more than 5% ahead. \
         Here the peaks (median, and the range of the runs) are {}: the runs vary more than, or \
         nearly as much as, the methods differ. More `--runs`, on a quieter machine, may \
         separate them; until then the tree's reasons beyond speed decide.",
        and_list(&tied)
    )
}

/// How the chosen method's speedup grows with its workers, and where it stops growing.
fn scaling(m: &Method, cores: usize, kind: Kind) -> String {
    let points: Vec<String> = m
        .counts
        .iter()
        .filter_map(|(w, c)| Some(format!("{w}: {:.2}x", c.speedup.as_ref()?.median)))
        .collect();
    let mut line = format!("{} by workers: {}", m.short(), points.join(", "));
    match m.best {
        Some(best) if m.counts.keys().any(|&w| w > best) => {
            let _ = write!(
                line,
                "; past {best} workers it gains less than 5%, so more would cost threads (or \
                 processes, or connections) for nothing measured"
            );
        }
        Some(best) => {
            let _ = write!(
                line,
                "; still rising at {best}, the most this run tried (there are no more tasks \
                 to run at once)"
            );
        }
        None => {}
    }
    if kind != Kind::Waits {
        let _ = write!(line, " (work that computes on {cores} cores)");
    }
    line.push('.');
    line
}

fn at_best(rust: &[&Method]) -> String {
    rust.iter()
        .map(|m| {
            let short = m.short();
            match m.best_case() {
                Some((w, c)) => format!(
                    "{short} {} at {w} ({})",
                    c.speedup.as_ref().map_or("–".into(), |s| s.show(2, "x")),
                    c.efficiency.as_ref().map_or("no ideal".into(), |e| format!(
                        "{:.0}% of the ideal",
                        100.0 * e.median
                    )),
                ),
                None => format!("{short} not measured"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Python's best, and its threads against its processes, when the run has the Python rows.
fn python(y: &Yours) -> Option<String> {
    let python: Vec<&Method> = y
        .methods
        .iter()
        .filter(|m| m.language == Language::Python && m.family != "sequential")
        .collect();
    let best = python
        .iter()
        .filter_map(|m| Some((m, peak(m)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (w, case) = best.0.best_case()?;
    Some(format!(
        "In Python (the guide's own methods on the same tasks, against Python's own sequential \
         run), the best is {} at {}: {}. {}",
        best.0.method,
        crate::format::plural(w, "worker", "workers"),
        case.speedup.as_ref().map_or("–".into(), |s| s.show(2, "x")),
        match y.shape.kind {
            Kind::Program =>
                "Only its processes get past the GIL here; Rust's threads need no \
                              processes for it.",
            Kind::Sqlite => "Its threads do well because SQLite runs without the GIL.",
            Kind::Waits => "Waiting is waiting, in both languages: the time is spent asleep.",
        }
    ))
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
        y.decision = of(&y);
        let page = markdown(&y);
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

//! `decide.md` for a workload of the reader's: which method, at how many workers, how close to
//! the ideal, and why, in the run's own figures.
//!
//! First, what the tasks spend their time on, from the sequential baseline's reports: waiting
//! (the part before each task's SQL starts, its `latency_ms`), or computing; and when they
//! compute, whether inside SQLite or in the program's own work on the rows. That picks a branch
//! of the guide's decision tree, the same tree as [`decide`](super::decide) draws for the
//! guide's workloads. Then the figures decide: the Rust method with the highest median speedup
//! (at whatever count) wins, and among methods within 5% of it (closer than a shared machine's
//! noise) the tree's choice for that branch does; it is used at its best count, the fewest
//! workers within 5% of its highest. The page says whether the figures and the tree agree, and
//! when the runs vary too much to tell the methods apart.

use std::fmt::Write as _;

use serde::Serialize;

use super::decide::TREE;
use super::yours::{Method, Yours};
use super::{Language, Reports};

/// What the tasks spend their time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Most of each task is its wait: workers beyond the cores still help, up to one per task.
    Waits,
    /// Most of each task is its SQL, computed inside SQLite.
    Sqlite,
    /// Most of each task is the program's own work on the rows its SQL returns.
    Program,
}

/// The workload's shape, from the baseline's reports.
#[derive(Debug, Serialize)]
pub struct Shape {
    pub kind: Kind,
    /// The share of the baseline's task time spent waiting (median over the runs).
    pub wait_share: f64,
    /// Rows each task returned, on average.
    pub rows_per_task: f64,
    /// How the SQL part was told apart (SQLite or the program), in one sentence.
    pub evidence: String,
}

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

/// A method's highest median speedup, at whatever count.
fn peak(m: &Method) -> Option<f64> {
    m.counts
        .values()
        .filter_map(|c| c.speedup.as_ref().map(|s| s.median))
        .reduce(f64::max)
}

pub fn markdown(y: &Yours) -> String {
    let mut md = format!(
        "### Which method for `{}`? Decided from this run\n\n",
        y.workload
    );
    let kind = if y.mode == "quick" {
        "a quick run (one repetition: a check that everything works, not a measurement)".to_string()
    } else {
        format!("{} ({})", "a full run", super::how_many_runs(y.runs))
    };
    let _ = writeln!(
        md,
        "From `{}`, {kind}, on {} cores ({}). Workload `{}`: {}.\n",
        y.command,
        y.machine.cores,
        y.machine.cpu,
        y.workload,
        super::plural(y.tasks, "task", "tasks"),
    );
    let rust: Vec<&Method> = y
        .methods
        .iter()
        .filter(|m| m.language == Language::Rust && m.family != "sequential")
        .collect();
    let Some(top) = rust.iter().filter_map(|m| peak(m)).reduce(f64::max) else {
        md.push_str("No Rust method has a speedup in this run, so there is nothing to decide.\n");
        return md;
    };
    let order = preference(y.shape.kind, y.tasks);
    let by_program = |p: &str| rust.iter().copied().find(|m| m.program == p);
    let chosen = order
        .iter()
        .filter_map(|p| by_program(p))
        .find(|m| peak(m).is_some_and(|s| s >= 0.95 * top))
        .expect("the fastest method is within 5% of itself");
    let (workers, case) = chosen.best_case().expect("a method with a best speedup");
    let speedup = case.speedup.as_ref().expect("a best case has a speedup");
    let ideal = case.ideal_speedup.as_ref().map(|s| s.median);
    let efficiency = case.efficiency.as_ref().map(|s| s.median);
    let _ = write!(
        md,
        "**Use {} at {}: {} over sequential",
        chosen.method,
        super::plural(workers, "worker", "workers"),
        speedup.show(2, "x"),
    );
    if let (Some(ideal), Some(e)) = (ideal, efficiency) {
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
    let _ = writeln!(md, "- {}", agreement(chosen, order[0], &rust, top));
    let _ = writeln!(md, "- {}", scaling(chosen, y.machine.cores, y.shape.kind));
    let _ = writeln!(
        md,
        "- Each Rust method at its best count: {}.",
        at_best(&rust)
    );
    if let Some(line) = overlap(chosen, &rust) {
        let _ = writeln!(md, "- {line}");
    }
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
             this machine's {cores} cores: the ideal, which counts no cores, is reached only \
             up to {cores} workers"
        ),
    }
}

/// Whether the figures and the tree's first choice agree.
fn agreement(chosen: &Method, first: &str, rust: &[&Method], top: f64) -> String {
    let fastest = rust
        .iter()
        .find(|m| peak(m) == Some(top))
        .expect("the top speedup is some method's");
    let close: Vec<String> = rust
        .iter()
        .filter(|m| m.program != chosen.program)
        .filter_map(|m| Some((m, peak(m)?)))
        .filter(|(_, s)| *s >= 0.95 * top)
        .map(|(m, s)| {
            format!(
                "{} {s:.2}x",
                m.method.split(' ').next().unwrap_or(&m.method)
            )
        })
        .collect();
    if chosen.program == first {
        if fastest.program == chosen.program {
            let mut line = format!(
                "The figures and the tree agree: {} is the fastest method here ({top:.2}x at \
                 its peak)",
                chosen.method
            );
            if !close.is_empty() {
                let _ = write!(
                    line,
                    "; within 5% of it, closer than a shared machine's noise: {}",
                    close.join(", ")
                );
            }
            line.push('.');
            line
        } else {
            format!(
                "The tree's choice, {}, is within 5% of the fastest, {} ({:.2}x at its peak): \
                 closer than a shared machine's noise, so the tree decides.",
                chosen.method, fastest.method, top
            )
        }
    } else {
        let tree = rust
            .iter()
            .find(|m| m.program == first)
            .and_then(|m| peak(m))
            .map_or("not measured".to_string(), |s| format!("{s:.2}x"));
        format!(
            "The figures overrule the tree: its choice for this branch, `{first}`, peaked at \
             {tree}, more than 5% below {} ({:.2}x).",
            fastest.method, top
        )
    }
}

/// How the chosen method's speedup grows with its workers, and where it stops growing.
fn scaling(m: &Method, cores: usize, kind: Kind) -> String {
    let points: Vec<String> = m
        .counts
        .iter()
        .filter_map(|(w, c)| Some(format!("{w}: {:.2}x", c.speedup.as_ref()?.median)))
        .collect();
    let mut line = format!(
        "{} by workers: {}",
        m.method.split(' ').next().unwrap_or(&m.method),
        points.join(", ")
    );
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

/// When the chosen method's slowest run at its best count is slower than another method's
/// median at its peak, the runs do not tell the two apart: say so, rather than let one median
/// decide.
fn overlap(chosen: &Method, rust: &[&Method]) -> Option<String> {
    let (_, case) = chosen.best_case()?;
    let speedup = case.speedup.as_ref().filter(|s| s.values.len() > 1)?;
    let others: Vec<String> = rust
        .iter()
        .filter(|m| m.program != chosen.program)
        .filter_map(|m| Some((m, peak(m)?)))
        .filter(|(_, p)| *p > speedup.min)
        .map(|(m, p)| {
            format!(
                "{} {p:.2}x",
                m.method.split(' ').next().unwrap_or(&m.method)
            )
        })
        .collect();
    (!others.is_empty()).then(|| {
        format!(
            "Not a clear win: {}'s slowest run here ({:.2}x) is slower than the median of {}. \
             The runs vary more than the methods differ (a busy machine?); run it again on a \
             quieter one, or with more `--runs`, before taking one of these over the other.",
            chosen.method,
            speedup.min,
            others.join(", ")
        )
    })
}

fn at_best(rust: &[&Method]) -> String {
    rust.iter()
        .map(|m| {
            let short = m.method.split(' ').next().unwrap_or(&m.method);
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
        super::plural(w, "worker", "workers"),
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
    use crate::tests::{case, spread};
    use crate::{Machine, ROWS};

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
        let best = crate::yours::tests::best_of(&counts);
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
            methods,
            python_left_out: None,
            table_markdown: String::new(),
        }
    }

    #[test]
    fn within_five_percent_the_trees_choice_for_waits_is_taken_at_its_fewest_workers() {
        let page = markdown(&yours(
            Kind::Waits,
            vec![
                method(THREADPOOL, [1.0, 2.0, 3.9, 3.95]),
                method(ASYNC, [1.0, 2.0, 3.9, 4.05]),
                method(PROCESSES, [1.0, 1.9, 3.5, 3.6]),
                method(THREADING, [1.0, 2.0, 3.8, 3.8]),
            ],
        ));
        assert!(page.contains("Which method for `shelves`?"), "{page}");
        assert!(
            page.contains("**Use threadpool (Rust, rayon pool) at 4 workers: 3.90x"),
            "{page}"
        );
        assert!(page.contains("within 5% of the fastest, async"), "{page}");
        assert!(page.contains("they wait"), "{page}");
    }

    #[test]
    fn figures_that_beat_the_tree_by_more_than_five_percent_overrule_it() {
        let page = markdown(&yours(
            Kind::Sqlite,
            vec![
                method(THREADPOOL, [1.0, 1.2, 1.2, 1.2]),
                method(ASYNC, [1.0, 1.1, 1.1, 1.1]),
                method(PROCESSES, [1.0, 1.9, 1.9, 1.9]),
                method(THREADING, [1.0, 1.3, 1.3, 1.3]),
            ],
        ));
        assert!(
            page.contains("**Use multiprocessing (Rust, fork) at 2 workers: 1.90x"),
            "{page}"
        );
        assert!(page.contains("The figures overrule the tree"), "{page}");
        assert!(page.contains("they compute in SQLite"), "{page}");
    }
}

//! `lessons.md`: what the comparison teaches, in this run's figures.
//!
//! Five lessons, in the order a reader meets them in the table: the ideal and the ceiling a
//! worker count sets; waiting against working, in both languages; the cost of a task; what a
//! process costs to start and to keep; how far each method goes in the worker sweep. Every
//! figure is read from the collated medians, and where the figures decide a lesson's wording
//! (whether Python's threads lose on `fetch` in this run, whether every method reached its
//! ideal), the wording is chosen from them, so that the page never says what the run did not
//! show. A lesson whose figures the run lacks (no Python rows, a quick run's short sweep) says
//! so instead.

use std::fmt::Write as _;

use super::figures::{Figures, NOT_MEASURED, one, span};
use crate::model::MethodFigures;

const SEQUENTIAL: &str = "sequential";
const THREADPOOL: &str = "threadpool_executor";
const ASYNC: &str = "async_executor";
const PROCESSES: &str = "multiprocessing_executor";
const THREADING: &str = "threading_executor";
const RUST: [&str; 4] = [THREADPOOL, ASYNC, PROCESSES, THREADING];
const PY_THREADPOOL: &str = "python-threadpool";
const PY_ASYNC: &str = "python-asyncio";
const PY_PROCESSES: &str = "python-multiprocessing";
const PY_THREADING: &str = "python-threading";
const PYTHON: [&str; 4] = [PY_THREADPOOL, PY_ASYNC, PY_PROCESSES, PY_THREADING];
/// Each Rust program beside its Python counterpart, for per-task cost method for method.
const PAIRS: [(&str, &str); 5] = [
    (SEQUENTIAL, "python-sequential"),
    (THREADPOOL, PY_THREADPOOL),
    (ASYNC, PY_ASYNC),
    (PROCESSES, PY_PROCESSES),
    (THREADING, PY_THREADING),
];

/// An efficiency this close to 1.0 is within the noise of the baseline's task durations (0.945
/// and above prints as 0.95 or more).
const REACHED: f64 = 0.945;
const ABOVE_NOISE: f64 = 1.03;

/// The whole page: one bullet per lesson.
pub fn markdown(methods: &[MethodFigures], cores: usize) -> String {
    let f = Figures::new(methods);
    let mut md = String::from("What the numbers teach (medians of this run):\n\n");
    for lesson in [
        ceiling(&f),
        languages(&f, cores),
        per_task(&f),
        processes(&f),
        how_far(&f),
    ] {
        let _ = writeln!(md, "- {lesson}");
    }
    md
}

fn all(f: &Figures, programs: &[&str], pick: impl Fn(&str) -> Option<f64>) -> Vec<f64> {
    programs
        .iter()
        .filter(|p| f.has(p))
        .filter_map(|p| pick(p))
        .collect()
}

fn low(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::min)
}

fn high(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

fn some(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().copied().map(Some).collect()
}

fn ceiling(f: &Figures) -> String {
    let efficiency = |programs: &[&str]| all(f, programs, |p| f.efficiency(p, "io4"));
    let (rust, python) = (efficiency(&RUST), efficiency(&PYTHON));
    let every: Vec<f64> = rust.iter().chain(&python).copied().collect();
    let title = match (low(&every), high(&every)) {
        (Some(lo), Some(hi)) if lo >= REACHED && hi <= ABOVE_NOISE => {
            "Nobody beats the ideal, and everyone reaches it.".to_string()
        }
        (Some(lo), Some(_)) if lo >= REACHED => {
            "Everyone reaches the ideal (a little above 1.00 is noise in the baseline's task \
             durations)."
                .to_string()
        }
        (Some(_), Some(_)) => {
            let short: Vec<String> = RUST
                .iter()
                .chain(&PYTHON)
                .filter(|p| f.efficiency(p, "io4").is_some_and(|e| e < REACHED))
                .map(|p| f.label(p))
                .collect();
            format!(
                "Not everyone reaches the ideal in this run: {} fell short.",
                short.join(", ")
            )
        }
        _ => "The ideal: not measured in this run.".to_string(),
    };
    let mut line = format!(
        "**{title}** On the guide's io workload the work is waiting: efficiency at 4 workers \
         {} in Rust",
        span(&some(&rust), 2, "")
    );
    if !python.is_empty() {
        let _ = write!(line, ", {} in Python", span(&some(&python), 2, ""));
    }
    let ideal = all(f, &RUST, |p| f.ideal_speedup(p, "io4"));
    let best = |programs: &[&str]| all(f, programs, |p| f.speedup(p, "iobest"));
    let pools = best(&[
        THREADPOOL,
        PROCESSES,
        THREADING,
        PY_THREADPOOL,
        PY_PROCESSES,
        PY_THREADING,
    ]);
    let unlimited = best(&[ASYNC, PY_ASYNC]);
    let _ = write!(
        line,
        ". What separates the methods is the ceiling their worker count sets: 4 workers taking \
         tasks in submission order can reach {} at best (the 300 ms task starts only when the \
         50 ms one ends), while async with no limit runs all 8 waits at once: {}. So the guide's \
         asyncio (4.13x) beat its 4-thread pools (3.00x, 3.01x) because it was allowed more \
         waits at once; ",
        span(&some(&ideal), 2, "x"),
        span(&some(&unlimited), 2, "x"),
    );
    let same = matches!(
        (low(&pools), high(&unlimited)),
        (Some(p), Some(a)) if p >= 0.95 * a
    );
    if same {
        let _ = write!(
            line,
            "with 8 workers the pools reach the same, {}, in either language.",
            span(&some(&pools), 2, "x")
        );
    } else {
        let _ = write!(
            line,
            "with 8 workers the pools reach {}.",
            span(&some(&pools), 2, "x")
        );
    }
    line
}

fn languages(f: &Figures, cores: usize) -> String {
    if !f.python() {
        return "**Both languages:** no Python rows in this run (`scripts/compare.sh` adds them \
                when python3 3.9 or newer is on the PATH)."
            .to_string();
    }
    let speedups = |programs: &[&str], case: &str| all(f, programs, |p| f.speedup(p, case));
    let (rust_io, python_io) = (speedups(&RUST, "io4"), speedups(&PYTHON, "io4"));
    let alike = matches!((low(&python_io), low(&rust_io)), (Some(p), Some(r)) if p >= 0.9 * r);
    let mut line = if alike {
        format!(
            "**Waiting is waiting, in both languages.** On io, Python's four methods reach \
             {} at 4 workers, Rust's {}: the time is spent asleep, not in the language.",
            span(&some(&python_io), 2, "x"),
            span(&some(&rust_io), 2, "x"),
        )
    } else {
        format!(
            "**Waiting costs Python more in this run.** On io at 4 workers Python's methods \
             reach {}, Rust's {}.",
            span(&some(&python_io), 2, "x"),
            span(&some(&rust_io), 2, "x"),
        )
    };
    let python_threads = speedups(&[PY_THREADPOOL, PY_THREADING, PY_ASYNC], "fetch2");
    let rust_threads = speedups(&[THREADPOOL, THREADING, ASYNC], "fetch2");
    let python_processes = f.speedup(PY_PROCESSES, "fetch2");
    let (py_hi, rust_lo) = (high(&python_threads), low(&rust_threads));
    let fetch = span(&some(&python_threads), 2, "x");
    match (py_hi, rust_lo) {
        (Some(p), _) if p < 1.0 => {
            let _ = write!(
                line,
                " The languages part where the program itself works: on `fetch`, where Python \
                 code walks the rows holding the GIL, Python's threads and asyncio are slower \
                 than sequential ({fetch})"
            );
        }
        (Some(p), Some(r)) if p < 0.8 * r => {
            let _ = write!(
                line,
                " The languages part where the program itself works: on `fetch`, where Python \
                 code walks the rows holding the GIL, Python's threads and asyncio gain little \
                 ({fetch})"
            );
        }
        (Some(_), _) => {
            let _ = write!(
                line,
                " On `fetch`, Python's threads and asyncio kept up in this run ({fetch})"
            );
        }
        (None, _) => line.push_str(" On `fetch`, Python's threads: not measured in this run"),
    }
    let processes_help =
        python_processes.is_some_and(|p| p > 1.2 && py_hi.is_none_or(|t| p > t) && cores >= 2);
    if processes_help {
        let _ = write!(
            line,
            "; only its processes speed it up ({})",
            one(python_processes, 2, "x")
        );
    } else {
        let _ = write!(line, "; its processes: {}", one(python_processes, 2, "x"));
    }
    let _ = write!(
        line,
        "; Rust's threads, with no GIL, reach {}.",
        span(&some(&rust_threads), 2, "x")
    );
    let cpu = speedups(&[PY_THREADPOOL, PY_THREADING], "cpu2");
    if low(&cpu).is_some_and(|c| c >= 1.3) {
        let _ = write!(
            line,
            " On `cpu`, where the work is inside SQLite, Python's threads do well too ({}), \
             because its sqlite3 module releases the GIL while SQLite runs.",
            span(&some(&cpu), 2, "x")
        );
    } else {
        let _ = write!(
            line,
            " On `cpu`, where the work is inside SQLite (whose sqlite3 module releases the GIL), \
             Python's threads reach {} in this run.",
            span(&some(&cpu), 2, "x")
        );
    }
    line
}

fn per_task(f: &Figures) -> String {
    let rust: Vec<&str> = PAIRS.iter().map(|(r, _)| *r).collect();
    let python: Vec<&str> = PAIRS.iter().map(|(_, p)| *p).collect();
    let rust_us = all(f, &rust, |p| f.per_task_us(p));
    let python_us = all(f, &python, |p| f.per_task_us(p));
    let costliest = |programs: &[&str]| {
        programs
            .iter()
            .filter_map(|p| Some((*p, f.per_task_us(p)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(p, _)| f.label(p))
    };
    let mut line = String::from(
        "**What a task costs.** `SELECT 1` as a task, thousands of times (the overhead row): ",
    );
    let _ = write!(
        line,
        "{} per task in Rust ({} the most)",
        span(&some(&rust_us), 1, " µs"),
        costliest(&rust).unwrap_or_else(|| NOT_MEASURED.to_string()),
    );
    let ratios: Vec<f64> = PAIRS
        .iter()
        .filter_map(|(r, p)| Some(f.per_task_us(p)? / f.per_task_us(r)?))
        .collect();
    if python_us.is_empty() {
        line.push('.');
    } else {
        let _ = write!(
            line,
            ", {} in Python ({} the most): method for method, Python's task costs {} Rust's.",
            span(&some(&python_us), 0, " µs"),
            costliest(&python).unwrap_or_else(|| NOT_MEASURED.to_string()),
            span(&some(&ratios), 0, " times"),
        );
    }
    line.push_str(
        " What a method adds per task is what it does to hand a task over and bring its outcome \
         back: a channel, a coroutine, a pipe.",
    );
    line
}

fn processes(f: &Figures) -> String {
    let startup = f.startup_ms(PROCESSES);
    let python_startup = f.startup_ms(PY_PROCESSES);
    let threads = all(f, &[THREADPOOL, THREADING], |p| f.memory_mb(p));
    let memory = f.memory_mb(PROCESSES);
    let cheap = match (startup, python_startup) {
        (Some(r), Some(p)) => r < p,
        (Some(r), None) => r < 10.0,
        _ => false,
    };
    let costly = matches!((memory, high(&threads)), (Some(m), Some(t)) if m > 2.0 * t);
    let title = match (cheap, costly) {
        (true, true) => "Processes are cheap to start in Rust, and cost memory.",
        (true, false) => "Processes are cheap to start in Rust.",
        (false, true) => "Processes cost memory.",
        (false, false) => "What processes cost.",
    };
    let mut line = format!(
        "**{title}** `fork()` copies nothing up front and there is no interpreter to start: 4 \
         Rust workers are ready {} after the first fork",
        one(startup, 2, " ms"),
    );
    if python_startup.is_some() {
        let _ = write!(
            line,
            ", Python's `Pool(4)` {}",
            one(python_startup, 2, " ms")
        );
    }
    let _ = write!(
        line,
        " (the guide says \"~100 ms per process\"). At 1,000 waits, Rust's processes take {} \
         (the parent and the children's proportional shares), its threads {} and async {}",
        one(memory, 1, " MB"),
        span(&some(&threads), 1, " MB"),
        one(f.memory_mb(ASYNC), 1, " MB"),
    );
    if f.has(PY_PROCESSES) {
        let waits = f
            .case(PY_PROCESSES, "scale")
            .map(|c| c.tasks)
            .filter(|&n| n != 1000)
            .map_or(String::new(), |n| format!(" (at {n} waits)"));
        let _ = write!(
            line,
            "; Python's processes {}{waits}, asyncio {}",
            one(f.memory_mb(PY_PROCESSES), 1, " MB"),
            one(f.memory_mb(PY_ASYNC), 1, " MB"),
        );
    }
    line.push('.');
    line
}

fn how_far(f: &Figures) -> String {
    let Some(widest) = f.widest_sweep() else {
        return "**How far each goes:** the worker sweep was not run.".to_string();
    };
    let percent = |p: &str, w: usize| f.sweep_percent(p, w);
    // The largest point of the sweep at which every Rust method is within 10% of the ideal.
    let counts: Vec<usize> = f.sweep_counts();
    let close = counts
        .iter()
        .copied()
        .take_while(|&w| {
            RUST.iter()
                .all(|p| percent(p, w).is_some_and(|x| x >= 90.0))
        })
        .last();
    let mut line = String::from(
        "**How far each goes.** Each sweep point gives every worker 4 waits of 100 ms. ",
    );
    match close {
        Some(w) if w == widest => {
            let _ = write!(
                line,
                "All four Rust methods stay within 10% of the ideal up to {widest} workers, the \
                 most this run tried"
            );
        }
        Some(w) => {
            let _ = write!(
                line,
                "Up to {w} workers all four Rust methods stay within 10% of the ideal"
            );
        }
        None => line
            .push_str("No point of this sweep has all four Rust methods within 10% of the ideal"),
    }
    let mut at_widest: Vec<(String, f64)> = RUST
        .iter()
        .filter_map(|p| Some((f.short_name(p), percent(p, widest)?)))
        .collect();
    at_widest.sort_by(|a, b| b.1.total_cmp(&a.1));
    let listed: Vec<String> = at_widest
        .iter()
        .map(|(name, x)| format!("{name} {x:.0}%"))
        .collect();
    let _ = write!(
        line,
        ". At {widest}: {} of the ideal. A waiting task costs async a small future on one \
         thread, a thread its stack and a wake-up, a process a fork and a connection of its \
         own.",
        listed.join(", ")
    );
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{method, python_method};

    /// The Rust methods and, with `python`, Python's, with the given fetch speedups for
    /// Python's threads.
    fn run(python_fetch: Option<f64>) -> Vec<MethodFigures> {
        let mut methods: Vec<MethodFigures> = [SEQUENTIAL, THREADPOOL, ASYNC, PROCESSES, THREADING]
            .iter()
            .map(|p| method(p))
            .collect();
        if let Some(fetch) = python_fetch {
            for p in [
                "python-sequential",
                PY_THREADPOOL,
                PY_ASYNC,
                PY_PROCESSES,
                PY_THREADING,
            ] {
                methods.push(python_method(p, fetch));
            }
        }
        methods
    }

    #[test]
    fn the_lessons_quote_the_runs_figures() {
        let md = markdown(&run(Some(0.6)), 2);
        // The fixture's io efficiency is 0.99 everywhere but threading's 1.01, and its
        // threadpool's overhead 1.5 µs.
        assert!(
            md.contains("efficiency at 4 workers 0.99–1.01 in Rust"),
            "{md}"
        );
        assert!(
            md.contains("Nobody beats the ideal, and everyone reaches it."),
            "{md}"
        );
        assert!(md.contains("1.5"), "{md}");
    }

    #[test]
    fn python_threads_are_called_slower_on_fetch_only_when_they_are() {
        let slow = markdown(&run(Some(0.6)), 2);
        assert!(slow.contains("slower than sequential (0.60x)"), "{slow}");
        let fast = markdown(&run(Some(1.7)), 2);
        assert!(!fast.contains("slower than sequential"), "{fast}");
        assert!(fast.contains("kept up in this run (1.70x)"), "{fast}");
    }

    #[test]
    fn without_python_rows_the_languages_lesson_says_so() {
        let md = markdown(&run(None), 2);
        assert!(md.contains("no Python rows in this run"), "{md}");
        assert!(!md.contains("GIL"), "{md}");
    }

    #[test]
    fn a_method_short_of_its_ideal_is_named() {
        let mut methods = run(None);
        let processes = methods
            .iter_mut()
            .find(|m| m.program == PROCESSES)
            .expect("the fixture has processes");
        let io4 = processes.cases.get_mut("io4").expect("and their io4");
        io4.efficiency = crate::model::Spread::of(vec![0.8]);
        let md = markdown(&methods, 2);
        assert!(
            md.contains("Not everyone reaches the ideal in this run: multiprocessing (Rust, fork) fell short."),
            "{md}"
        );
    }
}

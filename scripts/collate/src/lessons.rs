//! `lessons.md`: what the comparison teaches, in this run's figures. Where the figures decide a
//! lesson's wording (whether Python's threads lose on `fetch`, whether every method reached its
//! ideal), it is chosen from them, so that the page never says what the run did not show.

use serde_json::{Value, json};

use super::figures::Figures;
use crate::format::{NOT_MEASURED, render};
use crate::model::cases::{CPU2, FETCH2, IO4, IOBEST, SCALE};
use crate::model::programs::*;
use crate::model::{MethodFigures, high, highest, low, within};

const RUST: [&str; 4] = [THREADPOOL, ASYNC, PROCESSES, THREADING];
const PYTHON: [&str; 4] = [PY_THREADPOOL, PY_ASYNC, PY_PROCESSES, PY_THREADING];
/// Each Rust program beside its Python counterpart, for per-task cost method for method.
const PAIRS: [(&str, &str); 5] = [
    (SEQUENTIAL, PY_SEQUENTIAL),
    (THREADPOOL, PY_THREADPOOL),
    (ASYNC, PY_ASYNC),
    (PROCESSES, PY_PROCESSES),
    (THREADING, PY_THREADING),
];

/// An efficiency this close to 1.0 is within the noise of the baseline's task durations (0.945
/// and above prints as 0.95 or more).
const REACHED: f64 = 0.945;
const ABOVE_NOISE: f64 = 1.03;

pub fn markdown(methods: &[MethodFigures], cores: usize) -> Result<String, String> {
    let f = Figures(methods);
    render(
        "lessons.md",
        json!({
            "ceiling": ceiling(&f),
            "languages": languages(&f, cores),
            "per_task": per_task(&f),
            "processes": processes(&f),
            "how_far": how_far(&f),
        }),
    )
}

/// The figure `pick` of each of `programs` the run has.
fn all(programs: &[&str], pick: impl Fn(&str) -> Option<f64>) -> Vec<f64> {
    programs.iter().filter_map(|p| pick(p)).collect()
}

fn ceiling(f: &Figures) -> Value {
    let efficiency = |programs: &[&str]| all(programs, |p| f.efficiency(p, IO4));
    let (rust, python) = (efficiency(&RUST), efficiency(&PYTHON));
    let every: Vec<f64> = rust.iter().chain(&python).copied().collect();
    let reached = match (low(&every), high(&every)) {
        (Some(lo), Some(hi)) if lo >= REACHED && hi <= ABOVE_NOISE => Some("all"),
        (Some(lo), _) if lo >= REACHED => Some("noise"),
        (Some(_), _) => Some("short"),
        _ => None,
    };
    let programs = RUST.iter().chain(&PYTHON);
    let fell_short = |p: &&&str| f.efficiency(p, IO4).is_some_and(|e| e < REACHED);
    let fell_short = programs.clone().filter(fell_short);
    let short: Vec<String> = fell_short.map(|p| f.label(p)).collect();
    // Async's waits have no worker limit; the others' are pools of workers.
    let unlimited = |p: &&&str| [ASYNC, PY_ASYNC].contains(p);
    let (unlimited, pools): (Vec<&str>, Vec<&str>) = programs.partition(unlimited);
    let best = |programs: &[&str]| all(programs, |p| f.speedup(p, IOBEST));
    let (unlimited, pools) = (best(&unlimited), best(&pools));
    json!({
        "reached": reached,
        "short": short,
        "rust": rust,
        "python": python,
        "ideal": all(&RUST, |p| f.ideal_speedup(p, IO4)),
        "unlimited": unlimited,
        "same": matches!((low(&pools), high(&unlimited)), (Some(p), Some(a)) if within(p, a)),
        "pools": pools,
    })
}

fn languages(f: &Figures, cores: usize) -> Value {
    let speedups = |programs: &[&str], case: &str| all(programs, |p| f.speedup(p, case));
    let (rust_io, python_io) = (speedups(&RUST, IO4), speedups(&PYTHON, IO4));
    let python_threads = speedups(&[PY_THREADPOOL, PY_THREADING, PY_ASYNC], FETCH2);
    let rust_threads = speedups(&[THREADPOOL, THREADING, ASYNC], FETCH2);
    let python_processes = f.speedup(PY_PROCESSES, FETCH2);
    let py_hi = high(&python_threads);
    let fetch = match (py_hi, low(&rust_threads)) {
        (Some(p), _) if p < 1.0 => Some("slower"),
        (Some(p), Some(r)) if p < 0.8 * r => Some("little"),
        (Some(_), _) => Some("kept"),
        (None, _) => None,
    };
    let cpu = speedups(&[PY_THREADPOOL, PY_THREADING], CPU2);
    json!({
        "python": f.python(),
        "alike": matches!((low(&python_io), low(&rust_io)), (Some(p), Some(r)) if p >= 0.9 * r),
        "rust_io": rust_io,
        "python_io": python_io,
        "fetch": fetch,
        "python_threads": python_threads,
        "rust_threads": rust_threads,
        "python_processes": python_processes,
        "processes_help": python_processes
            .is_some_and(|p| p > 1.2 && py_hi.is_none_or(|t| p > t) && cores >= 2),
        "cpu_well": low(&cpu).is_some_and(|c| c >= 1.3),
        "cpu": cpu,
    })
}

fn per_task(f: &Figures) -> Value {
    let (rust, python): (Vec<&str>, Vec<&str>) = PAIRS.iter().copied().unzip();
    let costliest = |programs: &[&'static str]| {
        let cost = |p: &&'static str| Some((*p, f.per_task_us(p)?));
        let costliest = highest(programs.iter().filter_map(cost));
        costliest.map_or(NOT_MEASURED.to_string(), |(p, _)| f.label(p))
    };
    let ratio = |(r, p): &(&str, &str)| Some(f.per_task_us(p)? / f.per_task_us(r)?);
    json!({
        "rust": all(&rust, |p| f.per_task_us(p)),
        "python": all(&python, |p| f.per_task_us(p)),
        "costliest": { "rust": costliest(&rust), "python": costliest(&python) },
        "ratios": PAIRS.iter().filter_map(ratio).collect::<Vec<f64>>(),
    })
}

fn processes(f: &Figures) -> Value {
    let (startup, python_startup) = (f.startup_ms(PROCESSES), f.startup_ms(PY_PROCESSES));
    let threads = all(&[THREADPOOL, THREADING], |p| f.memory_mb(p));
    let memory = f.memory_mb(PROCESSES);
    // Cheaper than Python's, or without Python's, under 10 ms.
    let cheap = startup.is_some_and(|r| r < python_startup.unwrap_or(10.0));
    json!({
        "cheap": cheap,
        "costly": matches!((memory, high(&threads)), (Some(m), Some(t)) if m > 2.0 * t),
        "startup_ms": { "rust": startup, "python": python_startup },
        "memory_mb": {
            "processes": memory,
            "threads": threads,
            "async": f.memory_mb(ASYNC),
            "python_processes": f.memory_mb(PY_PROCESSES),
            "python_async": f.memory_mb(PY_ASYNC),
        },
        "python": f.has(PY_PROCESSES),
        "python_waits": f.case(PY_PROCESSES, SCALE).map(|c| c.tasks).filter(|&n| n != 1000),
    })
}

fn how_far(f: &Figures) -> Value {
    let widest = f.widest_sweep();
    // The largest point of the sweep at which every Rust method is within 10% of the ideal.
    let near = |p: &&str, w| f.sweep_percent(p, w).is_some_and(|x| x >= 90.0);
    let close_at = |&w: &usize| RUST.iter().all(|p| near(p, w));
    let close = f.sweep_counts().into_iter().take_while(close_at).last();
    let mut at_widest = widest.map_or_else(Vec::new, |w| f.sweep_at(&RUST, w));
    at_widest.sort_by(|a, b| b.1.total_cmp(&a.1));
    json!({ "widest": widest, "close": close, "at_widest": at_widest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{method, python_method};

    fn page(methods: &[MethodFigures], cores: usize) -> String {
        markdown(methods, cores).expect("lessons.md renders")
    }

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
        let md = page(&run(Some(0.6)), 2);
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
        let slow = page(&run(Some(0.6)), 2);
        assert!(slow.contains("slower than sequential (0.60x)"), "{slow}");
        let fast = page(&run(Some(1.7)), 2);
        assert!(!fast.contains("slower than sequential"), "{fast}");
        assert!(fast.contains("kept up in this run (1.70x)"), "{fast}");
    }

    #[test]
    fn without_python_rows_the_languages_lesson_says_so() {
        let md = page(&run(None), 2);
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
        let md = page(&methods, 2);
        assert!(
            md.contains("Not everyone reaches the ideal in this run: multiprocessing (Rust, fork) fell short."),
            "{md}"
        );
    }
}

//! `decide.md`: the guide's "Quick Decision Tree", answered in Rust, with this run's figures.
//!
//! The Python guide's tree reads: I/O-bound with 1000+ concurrent operations → asyncio; a
//! moderate number → ThreadPoolExecutor; fine control over workers or ordering → manual
//! threading; CPU-bound → multiprocessing. Rust keeps the first three branches and moves the
//! fourth: with no GIL, threads run CPU-bound work in parallel, which leaves processes with what
//! only they give, isolation.
//!
//! Each branch carries the figure from this run that justifies it, read from the collated
//! medians and never written in here, so that a run that contradicts a branch shows it in that
//! branch's own line. A figure the run did not measure (a quick run's sweep stops short of 1,000
//! workers) says so rather than disappearing. When the run has the Python guide's own methods
//! (guide.py's rows), the CPU-bound branch, the one Rust moves, gives Python's figures beside
//! Rust's.

use std::fmt::Write as _;

use super::figures::{Figures, NOT_MEASURED, one, span};
use crate::Args;
use crate::model::{Machine, MethodFigures};

const THREADPOOL: &str = "threadpool_executor";
const ASYNC: &str = "async_executor";
const PROCESSES: &str = "multiprocessing_executor";
const THREADING: &str = "threading_executor";
/// Both programs that run their workers on threads: where the tree says "threads", either will do,
/// so their figures are given as a range.
const THREADS: [&str; 2] = [THREADPOOL, THREADING];
/// The Python guide's threads and processes, run by guide.py, when the run has them: the branch
/// the tree moves is the one where Python's figures differ from Rust's.
const PYTHON_THREADS: [&str; 2] = ["python-threadpool", "python-threading"];
const PYTHON_PROCESSES: &str = "python-multiprocessing";

/// The tree itself: the questions and the answers, without figures. The figures follow it, one
/// line per answer, so that the tree stays readable at a glance.
pub const TREE: &str = "\
```text
What does each task spend its time on?
├── waiting on I/O (a network round trip, a remote database)
│   ├── a handful to a few hundred at once ────→ a thread pool         threadpool_executor
│   └── thousands at once ─────────────────────→ async (tokio)         async_executor
└── computing (heavy SQL, work on the rows) ───→ threads (no GIL)      threadpool_executor

Whatever the work, also ask:
├── must a crash cost one task, not the run? ──→ processes (fork)      multiprocessing_executor
└── must you decide order and lifecycle? ──────→ hand-written threads  threading_executor
```
";

/// The whole page: where the figures come from, the tree, and one "why" line per answer.
pub fn markdown(args: &Args, machine: &Machine, methods: &[MethodFigures]) -> String {
    let figures = Figures::new(methods);
    let mut md = String::from("### Which method? The guide's decision tree, answered in Rust\n\n");
    let _ = writeln!(md, "{}\n", provenance(args, machine));
    md.push_str(TREE);
    md.push_str(
        "\nWhy, in this run's figures (medians; the whole table is in `compare.md`, and the io \
         runs are drawn in `timelines.svg`):\n\n",
    );
    for line in [
        thread_pool(&figures),
        async_waits(&figures),
        cpu_bound(&figures, machine.cores),
        isolation(&figures),
        control(&figures),
    ] {
        let _ = writeln!(md, "- {line}");
    }
    md
}

/// Which run the figures are from: the command, quick or full, the machine.
fn provenance(args: &Args, machine: &Machine) -> String {
    let kind = if args.mode == "quick" {
        "a quick run (one repetition, a short sweep, fewer heavy tasks: a check that everything works, not a measurement)"
            .to_string()
    } else {
        format!(
            "a full run ({} run{} of each measurement)",
            args.runs,
            if args.runs == 1 { "" } else { "s" }
        )
    };
    format!(
        "From `{}`, {kind}, on {} cores ({}), {}, {}.",
        args.command, machine.cores, machine.cpu, machine.os, machine.rustc
    )
}

fn thread_pool(f: &Figures) -> String {
    let efficiency = f.median(THREADPOOL, "io4", |c| {
        c.efficiency.as_ref().map(|s| s.median)
    });
    let ideal = f.median(THREADPOOL, "io4", |c| {
        c.ideal_speedup.as_ref().map(|s| s.median)
    });
    format!(
        "**A thread pool, for a handful to a few hundred waits.** why: io efficiency {} at 4 workers \
         ({} against an ideal of {}), overhead {} per task.",
        one(efficiency, 2, ""),
        one(f.speedup(THREADPOOL, "io4"), 2, "x"),
        one(ideal, 2, "x"),
        one(f.per_task_us(THREADPOOL), 2, " µs"),
    )
}

fn async_waits(f: &Figures) -> String {
    let threads: Vec<Option<f64>> = THREADS.iter().map(|p| f.memory_mb(p)).collect();
    let mut line = format!(
        "**Async, for thousands of waits.** why: memory at 1,000 waits {} (async) vs {} (threads) \
         vs {} (processes, parent + children's Pss); sweep at 1,000 workers: ",
        one(f.memory_mb(ASYNC), 1, " MB"),
        span(&threads, 1, " MB"),
        one(f.memory_mb(PROCESSES), 1, " MB"),
    );
    match sweep_percents(f, 1000) {
        Some(percents) => line.push_str(&format!("{percents} of ideal.")),
        None => {
            line.push_str(NOT_MEASURED);
            // The widest point the run has still tells the reader something; say which it is.
            if let Some(w) = f
                .widest_sweep()
                .and_then(|w| Some((w, sweep_percents(f, w)?)))
            {
                line.push_str(&format!(
                    " (at {} workers, the most it tried: {} of ideal)",
                    w.0, w.1
                ));
            }
            line.push('.');
        }
    }
    line
}

/// `async 98%, threadpool 93%, ...` at one sweep point, or `None` if no method ran it.
fn sweep_percents(f: &Figures, workers: usize) -> Option<String> {
    let parts: Vec<String> = [ASYNC, THREADPOOL, THREADING, PROCESSES]
        .iter()
        .filter_map(|p| {
            Some(format!(
                "{} {:.0}%",
                f.short_name(p),
                f.sweep_percent(p, workers)?
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn cpu_bound(f: &Figures, cores: usize) -> String {
    let threads =
        |case: &str| -> Vec<Option<f64>> { THREADS.iter().map(|p| f.speedup(p, case)).collect() };
    let mut line = format!(
        "**Threads, for CPU-bound work.** why: cpu speedup at 2 workers {} (threads) vs {} \
         (processes), fetch {} vs {}: no GIL, so threads run SQLite and the program's own code \
         in parallel, and processes are not needed for parallelism.",
        span(&threads("cpu2"), 2, "x"),
        one(f.speedup(PROCESSES, "cpu2"), 2, "x"),
        span(&threads("fetch2"), 2, "x"),
        one(f.speedup(PROCESSES, "fetch2"), 2, "x"),
    );
    // Two workers can reach 2x only with two free cores. When neither threads nor processes got
    // near that, the comparison between them still holds, but not the absolute figures, and the
    // reader should not take them for Rust's ceiling.
    let best = [THREADPOOL, THREADING, PROCESSES]
        .iter()
        .flat_map(|p| [f.speedup(p, "cpu2"), f.speedup(p, "fetch2")])
        .flatten()
        .fold(f64::NAN, f64::max);
    // The Python guide's own threads and processes on the same tasks, when the run has them:
    // the figure that moved this branch.
    let python_threads: Vec<Option<f64>> = PYTHON_THREADS
        .iter()
        .map(|p| f.speedup(p, "fetch2"))
        .collect();
    if python_threads.iter().any(Option::is_some) {
        line.push_str(&format!(
            " Python's own threads, on the same fetch tasks with fewer rounds of digest per value \
             (see compare.md): {}, its processes {}; the GIL lets one thread at a time run \
             Python code.",
            span(&python_threads, 2, "x"),
            one(f.speedup(PYTHON_PROCESSES, "fetch2"), 2, "x"),
        ));
    }
    if cores < 2 {
        line.push_str(" (This machine has one core, so no method could run two tasks at once.)");
    } else if best < 1.3 {
        line.push_str(&format!(
            " (All well under the 2x two workers can reach on {cores} cores in this run, threads \
             and processes alike: compare them with each other here, and see a full run on an \
             idle machine for the ceiling.)"
        ));
    }
    line
}

fn isolation(f: &Figures) -> String {
    let threads: Vec<Option<f64>> = THREADS.iter().map(|p| f.startup_ms(p)).collect();
    format!(
        "**Processes, for isolation.** why: `cargo run --release -p multiprocessing_executor -- \
         --inject crash@3` loses task 3 and reports the other seven, while the other three \
         programs refuse `--inject crash`, since a crash would take all their tasks with it; \
         the cost is startup of 4 workers {} (threads: {}) and memory at 1,000 waits {}.",
        one(f.startup_ms(PROCESSES), 2, " ms"),
        span(&threads, 2, " ms"),
        one(f.memory_mb(PROCESSES), 1, " MB"),
    )
}

fn control(f: &Figures) -> String {
    format!(
        "**Hand-written threads, for control over order and lifecycle.** why: \
         `threading_executor --priority longest-first` hands out the longest task first, and \
         the queue and the joins are yours to change; overhead {} per task (the rayon pool: {}).",
        one(f.per_task_us(THREADING), 2, " µs"),
        one(f.per_task_us(THREADPOOL), 2, " µs"),
    )
}

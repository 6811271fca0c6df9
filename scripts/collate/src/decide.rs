//! `decide.md`: the guide's "Quick Decision Tree", answered in Rust, with this run's figures
//! (templates/decide.md).
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

use serde_json::json;

use super::figures::Figures;
use crate::Args;
use crate::format::render;
use crate::model::cases::{CPU2, FETCH2, IO4};
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
/// A speedup on 2 workers under which the machine, not the method, set the figure.
const SLOW: f64 = 1.3;

/// The whole page: where the figures come from, the tree, and one "why" line per answer.
pub fn markdown(
    args: &Args,
    machine: &Machine,
    methods: &[MethodFigures],
) -> Result<String, String> {
    let f = Figures::new(methods);
    let threads = |figure: &dyn Fn(&str) -> Option<f64>| THREADS.map(figure);
    let sweep = |workers| f.sweep_at(&[ASYNC, THREADPOOL, THREADING, PROCESSES], workers);
    // The widest point the run has still tells the reader something when 1,000 is missing.
    let widest = f.widest_sweep().map(|w| (w, sweep(w)));
    // Two workers can reach 2x only with two free cores. When neither threads nor processes got
    // near that, the comparison between them still holds, but not the absolute figures, and the
    // reader should not take them for Rust's ceiling.
    let best = [THREADPOOL, THREADING, PROCESSES]
        .iter()
        .flat_map(|p| [f.speedup(p, CPU2), f.speedup(p, FETCH2)])
        .flatten()
        .fold(f64::NAN, f64::max);
    render(
        "decide.md",
        json!({
            "command": args.command,
            "quick": args.mode == "quick",
            "runs": args.runs,
            "machine": machine,
            "io": {
                "efficiency": f.efficiency(THREADPOOL, IO4),
                "speedup": f.speedup(THREADPOOL, IO4),
                "ideal": f.ideal_speedup(THREADPOOL, IO4),
            },
            "per_task_us": {
                "threadpool": f.per_task_us(THREADPOOL),
                "threading": f.per_task_us(THREADING),
            },
            "memory_mb": {
                "async": f.memory_mb(ASYNC),
                "threads": threads(&|p| f.memory_mb(p)),
                "processes": f.memory_mb(PROCESSES),
            },
            "startup_ms": {
                "threads": threads(&|p| f.startup_ms(p)),
                "processes": f.startup_ms(PROCESSES),
            },
            "cpu2": {
                "threads": threads(&|p| f.speedup(p, CPU2)),
                "processes": f.speedup(PROCESSES, CPU2),
            },
            "fetch2": {
                "threads": threads(&|p| f.speedup(p, FETCH2)),
                "processes": f.speedup(PROCESSES, FETCH2),
                "python_threads": PYTHON_THREADS.map(|p| f.speedup(p, FETCH2)),
                "python_processes": f.speedup(PYTHON_PROCESSES, FETCH2),
            },
            "sweep": sweep(1000),
            "widest": widest.filter(|(_, points)| !points.is_empty()),
            "all_slow": best < SLOW,
        }),
    )
}

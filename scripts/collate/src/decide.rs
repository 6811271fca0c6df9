//! `decide.md`: the guide's "Quick Decision Tree", answered in Rust, with this run's figures.
//! The guide's tree ends on "CPU-bound → multiprocessing"; with no GIL, Rust's threads run that
//! work in parallel, which leaves processes what only they give, isolation. Each branch carries
//! the figure that justifies it, so that a run that contradicts a branch shows it there.

use serde_json::json;

use super::figures::Figures;
use crate::Comparison;
use crate::format::render;
use crate::model::cases::{CPU2, FETCH2, IO4};
use crate::model::programs::*;

/// Where the tree says "threads", either program will do, so their figures are given as a range.
const THREADS: [&str; 2] = [THREADPOOL, THREADING];
const PY_THREADS: [&str; 2] = [PY_THREADPOOL, PY_THREADING];
/// A speedup on 2 workers under which the machine, not the method, set the figure.
const SLOW: f64 = 1.3;

pub fn markdown(c: &Comparison) -> Result<String, String> {
    let f = Figures(&c.methods);
    let sweep = |workers| f.sweep_at(&[ASYNC, THREADPOOL, THREADING, PROCESSES], workers);
    // The widest point the run has still tells the reader something when 1,000 is missing.
    let widest = f.widest_sweep().map(|w| (w, sweep(w)));
    // Two workers can reach 2x only with two free cores. When neither threads nor processes got
    // near that, the comparison between them still holds, but not the absolute figures, and the
    // reader should not take them for Rust's ceiling.
    let speedups = |p: &&str| [f.speedup(p, CPU2), f.speedup(p, FETCH2)];
    let speedups = [THREADPOOL, THREADING, PROCESSES].iter().flat_map(speedups);
    let best = speedups.flatten().fold(f64::NAN, f64::max);
    render(
        "decide.md",
        json!({
            "command": c.command,
            "quick": c.mode == "quick",
            "runs": c.runs,
            "machine": c.machine,
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
                "threads": THREADS.map(|p| f.memory_mb(p)),
                "processes": f.memory_mb(PROCESSES),
            },
            "startup_ms": {
                "threads": THREADS.map(|p| f.startup_ms(p)),
                "processes": f.startup_ms(PROCESSES),
            },
            "cpu2": {
                "threads": THREADS.map(|p| f.speedup(p, CPU2)),
                "processes": f.speedup(PROCESSES, CPU2),
            },
            "fetch2": {
                "threads": THREADS.map(|p| f.speedup(p, FETCH2)),
                "processes": f.speedup(PROCESSES, FETCH2),
                "python_threads": PY_THREADS.map(|p| f.speedup(p, FETCH2)),
                "python_processes": f.speedup(PY_PROCESSES, FETCH2),
            },
            "sweep": sweep(1000),
            "widest": widest.filter(|(_, points)| !points.is_empty()),
            "all_slow": best < SLOW,
        }),
    )
}

//! `pitfalls.md`: the tables of PITFALLS.md (between its `pitfalls:begin` and `pitfalls:end`
//! lines), each pitfall with this run's figure. Every sentence is in `templates/pitfalls.md`;
//! this file computes the last column, each figure `None` where the run did not measure it.

use serde_json::{Value, json};

use super::faults::Faults;
use super::figures::Figures;
use super::mix::{METHODS, Mix};
use super::split::Split;
use super::start::{self, Start};
use super::writes::{Writes, WritesCase};
use super::writes_lessons::{
    TRAP_WORKERS, deferred, find, is_defaults, is_single, no_busy_timeout, rate, trap,
};
use crate::Comparison;
use crate::format::{one, render, span};
use crate::model::programs::*;

pub fn markdown(c: &Comparison) -> Result<String, String> {
    let f = Figures(&c.methods);
    let (faults, start, mix) = (c.faults.as_ref(), c.start.as_ref(), c.mix.as_ref());
    page(&f, faults, start, &c.writes, mix, c.split.as_ref())
}

fn page(
    f: &Figures,
    faults: Option<&Faults>,
    start: Option<&Start>,
    writes: &Writes,
    mix: Option<&Mix>,
    split: Option<&Split>,
) -> Result<String, String> {
    // A fault's report, with its timeout as a reader typed it: `1`, where a template writes `1.0`.
    let fault = |program, case| {
        let fault = faults?.get(program, case)?;
        let mut outcome = serde_json::to_value(fault).ok()?;
        outcome["timeout"] = fault.timeout_s.to_string().into();
        Some(outcome)
    };
    // A Python figure is left out, not "not measured", when the run has no Python program.
    let python = |program, figure: String| f.has(program).then_some(figure);
    let speedup = |program, case| one(f.speedup(program, case), 2, "x");
    let memory = |program, python_program| {
        json!({
            "mb": one(f.memory_mb(program), 1, " MB"),
            "python_mb": python(python_program, one(f.memory_mb(python_program), 1, " MB")),
            "sweep": f.widest_sweep().map(|w| json!({
                "workers": w,
                "percent": one(f.sweep_percent(program, w), 0, "%"),
            })),
        })
    };
    let per_worker = |how| start::beside_threads(start, how);
    render(
        "pitfalls.md",
        json!({
            "faults": {
                "threadpool_error": fault(THREADPOOL, "error"),
                "threadpool_panic": fault(THREADPOOL, "panic"),
                "async_all": fault(ASYNC, "all"),
                "processes_crash": fault(PROCESSES, "crash"),
                "processes_hang": fault(PROCESSES, "hang"),
                "processes_writes_crash": fault(PROCESSES, "writes-crash"),
                "threading_all": fault(THREADING, "all"),
            },
            "threadpool": {
                "cpu2": speedup(THREADPOOL, "cpu2"),
                "fetch2": speedup(THREADPOOL, "fetch2"),
                "python_fetch2": python(PY_THREADPOOL, speedup(PY_THREADPOOL, "fetch2")),
                "memory": memory(THREADPOOL, PY_THREADPOOL),
            },
            "asyncio": {
                "blocking": f.speedup(ASYNC, "blocking"),
                "iobest": speedup(ASYNC, "iobest"),
                "cpu2": speedup(ASYNC, "cpu2"),
                "fetch2": speedup(ASYNC, "fetch2"),
                "python_fetch2": python(PY_ASYNC, speedup(PY_ASYNC, "fetch2")),
            },
            "processes": {
                "startup": one(f.startup_ms(PROCESSES), 2, " ms"),
                "python_startup": python(PY_PROCESSES, one(f.startup_ms(PY_PROCESSES), 2, " ms")),
                "memory": one(f.memory_mb(PROCESSES), 1, " MB"),
                "threads_memory": span(&[THREADPOOL, ASYNC, THREADING].map(|p| f.memory_mb(p)), 1, " MB"),
                "python_memory": python(PY_PROCESSES, one(f.memory_mb(PY_PROCESSES), 1, " MB")),
                "python_waits":
                    f.case(PY_PROCESSES, "scale").map(|c| c.tasks).filter(|&n| n != 1000),
                "overhead": one(f.per_task_us(PROCESSES), 1, " µs"),
                "python_overhead": python(PY_PROCESSES, one(f.per_task_us(PY_PROCESSES), 0, " µs")),
                "start": (|| Some(json!({
                    "spawn": per_worker("spawn")?,
                    "forkserver": per_worker("forkserver")?,
                    "fork": per_worker("fork")?,
                })))(),
            },
            "threading": { "memory": memory(THREADING, PY_THREADING) },
            "writes": writes_figures(writes),
            "mix": mix_figures(mix),
            "held": split.map_or(&[][..], |s| &s.held_transaction),
            "sweep": split.map_or(&[][..], |s| &s.write_share_sweep),
        }),
    )
}

/// The write traps, on the hand-written threads: a few workers where the run has them, else
/// the most.
fn writes_figures(writes: &Writes) -> Value {
    let threads = |workers, pick: fn(&WritesCase) -> bool| find(writes, THREADING, workers, pick);
    let most = writes.cases.iter().map(|c| c.workers).max().unwrap_or(16);
    let rows_per_s = |c: &WritesCase| rate(&c.rows_per_s.values);
    let (single, shared) = (threads(most, is_single), threads(most, is_defaults));
    // `--synchronous normal` is measured with one writer, at whatever workers the run chose.
    let normal = writes.cases.iter().find(|c| {
        let s = &c.settings.0;
        c.program == THREADING && s.writer == "single" && s.synchronous == "normal"
    });
    json!({
        "tasks": writes.cases.first().map_or(0, |c| c.tasks),
        "few": TRAP_WORKERS,
        "most": most,
        "no_timeout": trap(writes, no_busy_timeout),
        "deferred": trap(writes, deferred),
        "few_rate": threads(TRAP_WORKERS, is_defaults).map(rows_per_s),
        "most_rate": shared.map(rows_per_s),
        "single_rate": single.map(rows_per_s),
        "single_times":
            single.zip(shared).map(|(s, d)| s.rows_per_s.median / d.rows_per_s.median),
        "normal_rate": normal.map(rows_per_s),
    })
}

/// The hand-written threads' tails at the most workers of the mix, each way of writing, and
/// under how many methods one writer cut the writes' tail.
fn mix_figures(mix: Option<&Mix>) -> Option<Value> {
    let mix = mix?;
    let most = mix.cases.iter().map(|c| c.workers).max()?;
    let case = |program, writer| mix.get(program, writer, most);
    let p99 = |program, writer| Some(case(program, writer)?.write_p99_s.as_ref()?.median * 1e3);
    let read_p99 = |writer| Some(case(THREADING, writer)?.read_p99_s.median * 1e3);
    let both = |&(p, _): &(&'static str, &str)| Some((p99(p, "shared")?, p99(p, "single")?));
    let methods: Vec<(f64, f64)> = METHODS.iter().filter_map(both).collect();
    Some(json!({
        "most": most,
        "write_shared": p99(THREADING, "shared")?,
        "write_single": p99(THREADING, "single")?,
        "read_shared": read_p99("shared")?,
        "read_single": read_p99("single")?,
        "cut": methods.iter().filter(|(a, b)| b < a).count(),
        "methods": methods.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page from `tests/faults` and `tests/writes` alone: no table, no mix, no start methods.
    fn page_of_the_fixtures() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let faults = crate::faults::collate(&dir.join("faults"), 1)
            .expect("the fixture collates")
            .expect("the fixture has faults");
        let writes = crate::writes::collate(&dir.join("writes"), 1).expect("the fixture collates");
        page(&Figures(&[]), Some(&faults), None, &writes, None, None).expect("the page renders")
    }

    /// The last cell of the row whose pitfall starts with `pitfall`.
    fn figure(page: &str, pitfall: &str) -> String {
        let row = page
            .lines()
            .find(|l| l.starts_with(&format!("| {pitfall}")))
            .unwrap_or_else(|| panic!("no row for {pitfall} in\n{page}"));
        row.trim_end_matches(" |")
            .rsplit(" | ")
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn an_injected_fault_is_shown_with_its_task_its_message_and_the_tasks_kept() {
        let page = page_of_the_fixtures();
        assert_eq!(
            figure(&page, "An exception raised in a task"),
            "task 1 `failed` (“no such table: injected_error_no_such_table”), 7 ok, exit 1"
        );
        let all = figure(&page, "\"Always implement timeout");
        assert!(
            all.contains("task 3 `timed_out`, 5 ok; wall 1.00 s with a 1 s timeout"),
            "{all}"
        );
    }

    #[test]
    fn a_fault_the_run_did_not_inject_names_the_command_instead() {
        let page = page_of_the_fixtures();
        for pitfall in [
            "A worker that crashes",
            "A worker stuck past",
            "A crash mid-",
        ] {
            assert_eq!(
                figure(&page, pitfall),
                "not in this comparison: run the command",
                "{pitfall}"
            );
        }
    }

    #[test]
    fn a_figure_the_run_did_not_measure_says_so() {
        let page = page_of_the_fixtures();
        assert_eq!(
            figure(&page, "Too many threads"),
            "not measured in this run at 1,000 waits"
        );
        assert!(figure(&page, "In an application").starts_with("not in this comparison"));
    }
}

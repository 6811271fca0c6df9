//! `pitfalls.md`: the tables of PITFALLS.md, each pitfall with this run's figure.
//!
//! PITFALLS.md keeps its introduction by hand and takes this page between its
//! `<!-- pitfalls:begin -->` and `<!-- pitfalls:end -->` lines. What a pitfall is, what Rust
//! does about it and how to see it does not change from run to run: it is written once, in
//! `templates/pitfalls.md`, with every other sentence of the page. This file computes the last
//! column, which does change: a figure from the table, the writes, the mix, the start methods
//! or the faults injected on purpose (`<raw>/faults`), each `None` where the run did not measure
//! it, and the template then names the command to run instead.

use serde::Serialize;
use serde_json::{Value, json};

use super::faults::{Fault, Faults};
use super::figures::{Figures, one, span};
use super::mix::{Mix, MixCase};
use super::start::{self, Start};
use super::writes::{Writes, WritesCase};
use super::writes_lessons::{count, find, is_defaults, is_single, rate};
use crate::Comparison;
use crate::format::render;

const THREADPOOL: &str = "threadpool_executor";
const ASYNC: &str = "async_executor";
const PROCESSES: &str = "multiprocessing_executor";
const THREADING: &str = "threading_executor";
const PY_PROCESSES: &str = "python-multiprocessing";

/// A fault's report, with the two figures the template cannot write the way a reader typed
/// them: the wall time with its range, and the timeout as `1`, not `1.0`.
#[derive(Serialize)]
struct Outcome<'a> {
    #[serde(flatten)]
    fault: &'a Fault,
    wall: String,
    timeout: String,
}

/// The whole page.
pub fn markdown(c: &Comparison) -> Result<String, String> {
    let f = Figures::new(&c.methods);
    page(
        &f,
        c.faults.as_ref(),
        c.start.as_ref(),
        &c.writes,
        c.mix.as_ref(),
    )
}

fn page(
    f: &Figures,
    faults: Option<&Faults>,
    start: Option<&Start>,
    writes: &Writes,
    mix: Option<&Mix>,
) -> Result<String, String> {
    let fault = |program, case| {
        let fault = faults?.get(program, case)?;
        let (wall, timeout) = (fault.wall_s.show(2, " s"), fault.timeout_s.to_string());
        Some(Outcome {
            fault,
            wall,
            timeout,
        })
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
    let threads_memory: Vec<_> = [THREADPOOL, ASYNC, THREADING]
        .map(|p| f.memory_mb(p))
        .into();
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
                "python_fetch2":
                    python("python-threadpool", speedup("python-threadpool", "fetch2")),
                "memory": memory(THREADPOOL, "python-threadpool"),
            },
            "asyncio": {
                "blocking": f.speedup(ASYNC, "blocking"),
                "iobest": speedup(ASYNC, "iobest"),
                "cpu2": speedup(ASYNC, "cpu2"),
                "fetch2": speedup(ASYNC, "fetch2"),
                "python_fetch2": python("python-asyncio", speedup("python-asyncio", "fetch2")),
            },
            "processes": {
                "startup": one(f.startup_ms(PROCESSES), 2, " ms"),
                "python_startup":
                    python(PY_PROCESSES, one(f.startup_ms(PY_PROCESSES), 2, " ms")),
                "memory": one(f.memory_mb(PROCESSES), 1, " MB"),
                "threads_memory": span(&threads_memory, 1, " MB"),
                "python_memory": python(PY_PROCESSES, one(f.memory_mb(PY_PROCESSES), 1, " MB")),
                "python_waits":
                    f.case(PY_PROCESSES, "scale").map(|c| c.tasks).filter(|&n| n != 1000),
                "overhead": one(f.per_task_us(PROCESSES), 1, " µs"),
                "python_overhead":
                    python(PY_PROCESSES, one(f.per_task_us(PY_PROCESSES), 0, " µs")),
                "start": (|| Some(json!({
                    "spawn": per_worker("spawn")?,
                    "forkserver": per_worker("forkserver")?,
                    "fork": per_worker("fork")?,
                })))(),
            },
            "threading": { "memory": memory(THREADING, "python-threading") },
            "writes": writes_figures(writes),
            "mix": mix_figures(mix),
        }),
    )
}

/// The write traps, on the hand-written threads: a few workers where the run has them, else
/// the most.
fn writes_figures(writes: &Writes) -> Value {
    let threads =
        |workers: usize, pick: &dyn Fn(&WritesCase) -> bool| find(writes, THREADING, workers, pick);
    let (few, most) = (
        4,
        writes.cases.iter().map(|c| c.workers).max().unwrap_or(16),
    );
    let failed = |pick: &dyn Fn(&WritesCase) -> bool| {
        let c = threads(few, pick).or_else(|| threads(most, pick))?;
        Some(json!({
            "failed": count(&c.failed.values),
            "tasks": c.tasks,
            "rows": count(&c.rows_in_db_after.values),
            "consistent": c.consistent,
        }))
    };
    let rows_per_s = |c: &WritesCase| rate(&c.rows_per_s.values);
    let (single, shared) = (threads(most, &is_single), threads(most, &is_defaults));
    // `--synchronous normal` is measured with one writer, at whatever workers the run chose.
    let normal = writes.cases.iter().find(|c| {
        let s = &c.settings.0;
        c.program == THREADING && s.writer == "single" && s.synchronous == "normal"
    });
    json!({
        "tasks": writes.cases.first().map_or(0, |c| c.tasks),
        "few": few,
        "most": most,
        "no_timeout": failed(&|c| c.settings.0.busy_timeout_ms == 0),
        "deferred": failed(&|c| c.settings.0.begin == "deferred"),
        "few_rate": threads(few, &is_defaults).map(rows_per_s),
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
    let p99 = |c: &MixCase| c.write_p99_s.as_ref().map(|s| s.median * 1e3);
    let (shared, single) = (
        mix.get(THREADING, "shared", most)?,
        mix.get(THREADING, "single", most)?,
    );
    let methods: Vec<(f64, f64)> = [THREADPOOL, ASYNC, PROCESSES, THREADING]
        .iter()
        .filter_map(|p| {
            Some((
                p99(mix.get(p, "shared", most)?)?,
                p99(mix.get(p, "single", most)?)?,
            ))
        })
        .collect();
    Some(json!({
        "most": most,
        "write_shared": p99(shared)?,
        "write_single": p99(single)?,
        "read_shared": shared.read_p99_s.median * 1e3,
        "read_single": single.read_p99_s.median * 1e3,
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
        page(&Figures::new(&[]), Some(&faults), None, &writes, None).expect("the page renders")
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

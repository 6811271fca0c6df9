//! An application's mix, `mix.md`: many readers and a few writers at once, with the latency
//! each sees. compare.sh runs the `app` preset (a web application's requests on the shop, 10%
//! of them short write transactions, each after a wait of a few ms) with every method at 4 and
//! 16 workers, each worker writing (`--writer shared`) or one writer for all, into `<raw>/mix`.
//!
//! A task's latency is from a worker taking it to its outcome (`shared::Latency`): what a
//! request costs the server, lock and connection waits included, not its time in a queue that
//! holds every task from the start. Where a tail comes from is read off the slowest tasks'
//! times: started, SQL started (after the wait and a pooled connection), finished.

use std::path::Path;

use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;
use shared::{RunReport, TaskReport};

use crate::format::{how_many_runs, render};
use crate::model::programs::{ASYNC, PROCESSES, THREADING, THREADPOOL};
use crate::model::{Figure, Spread};
use crate::read::{read_run_reports, writes_checked};

/// One program with one writer at one worker count, over its runs.
#[derive(Debug, Serialize)]
pub struct MixCase {
    pub program: String,
    /// "shared" or "single", as the reports say.
    pub writer: String,
    pub workers: usize,
    pub tasks: usize,
    pub writes: usize,
    pub tasks_per_s: Spread,
    pub read_p50_s: Spread,
    pub read_p99_s: Spread,
    pub write_p50_s: Option<Spread>,
    pub write_p99_s: Option<Spread>,
    /// Write tasks that did not end ok, per run.
    pub failed_writes: Spread,
    /// Whether, in every run, the tasks recorded in the database were the write tasks that
    /// ended ok.
    pub writes_checked: bool,
    /// Of the slowest 1% of writes (at least one), the median share of their latency spent in
    /// their SQL (the lock, the statements, the commit) rather than before it (the request's
    /// wait, a connection): over every run.
    pub write_tail_in_sql: Option<f64>,
    pub read_tail_in_sql: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Mix {
    pub runs: usize,
    pub cases: Vec<MixCase>,
}

impl Mix {
    pub fn get(&self, program: &str, writer: &str, workers: usize) -> Option<&MixCase> {
        self.cases
            .iter()
            .find(|c| c.program == program && c.writer == writer && c.workers == workers)
    }
}

/// The methods, in the table's order, with their names in prose.
pub const METHODS: [(&str, &str); 4] = [
    (THREADPOOL, "the thread pool"),
    (ASYNC, "async"),
    (PROCESSES, "processes"),
    (THREADING, "hand-written threads"),
];

/// Reads `<raw>/mix`, or `None` when the run has no such folder.
pub fn collate(dir: &Path, runs: usize) -> Result<Option<Mix>, String> {
    let Some(reports) = read_run_reports(dir, runs)? else {
        return Ok(None);
    };
    let mut cases = Vec::new();
    for (program, by_case) in &reports {
        for (case, runs) in by_case {
            cases.push(summarise(program, case, runs)?);
        }
    }
    // A program the table does not name (`None`) goes first.
    let place = |c: &MixCase| METHODS.iter().position(|(p, _)| *p == c.program);
    cases.sort_by_key(|c| (place(c), c.workers, c.writer == "single"));
    Ok(Some(Mix { runs, cases }))
}

fn summarise(program: &str, case: &str, runs: &[RunReport]) -> Result<MixCase, String> {
    let what = format!("mix {program} {case}");
    let first = &runs[0];
    let writer = first.writes.as_ref().map(|w| w.writer.clone());
    let writer = writer.ok_or_else(|| format!("{what}: reports no writes"))?;
    let needed = |f: Figure, name: &str| {
        Spread::each(runs, f).ok_or_else(|| format!("{what}: a run lacks {name}"))
    };
    let failed_write = |t: &&TaskReport| t.writes && t.status != "ok";
    let failed = |r: &RunReport| Some(r.tasks.iter().filter(failed_write).count() as f64);
    Ok(MixCase {
        program: program.to_string(),
        writer,
        workers: first.workers,
        tasks: first.tasks.len(),
        writes: first.latency.write.count,
        tasks_per_s: needed(&|r| Some(r.tasks.len() as f64 / r.wall_s), "wall time")?,
        read_p50_s: needed(&|r| r.latency.read.p50_s, "read p50")?,
        read_p99_s: needed(&|r| r.latency.read.p99_s, "read p99")?,
        write_p50_s: Spread::each(runs, |r| r.latency.write.p50_s),
        write_p99_s: Spread::each(runs, |r| r.latency.write.p99_s),
        failed_writes: needed(&failed, "count")?,
        writes_checked: runs.iter().all(writes_checked),
        write_tail_in_sql: tail_in_sql(runs, true),
        read_tail_in_sql: tail_in_sql(runs, false),
    })
}

/// Of the slowest 1% of one kind of task (at least one per run), the median share of their
/// latency spent from the start of their SQL to their outcome.
fn tail_in_sql(runs: &[RunReport], writes: bool) -> Option<f64> {
    // A task's latency, and the share of it from the start of its SQL.
    let timing = |t: &TaskReport| {
        let (start, sql, end) = (t.started_s?, t.sql_started_s?, t.finished_s?);
        (t.writes == writes && end > start).then_some((end - start, (end - sql) / (end - start)))
    };
    let mut shares = Vec::new();
    for run in runs {
        let mut took: Vec<(f64, f64)> = run.tasks.iter().filter_map(timing).collect();
        took.sort_by(|a, b| b.0.total_cmp(&a.0));
        let slowest = took.len().div_ceil(100);
        shares.extend(took.iter().take(slowest).map(|&(_, share)| share));
    }
    Spread::of(shares).map(|s| s.median)
}

fn name_of(program: &str) -> &str {
    let method = METHODS.iter().find(|(p, _)| *p == program);
    method.map_or(program, |(_, name)| name)
}

/// `mix.md` (templates/mix.md): the table, then what it teaches, in this run's figures.
pub fn markdown(mix: &Mix) -> Result<String, String> {
    let row = |c: &MixCase| context! { name => name_of(&c.program), ..Serde(c) };
    let rows: Vec<Value> = mix.cases.iter().map(row).collect();
    let first = mix.cases.first();
    render(
        "mix.md",
        context! {
            tasks => first.map(|c| c.tasks),
            writes => first.map(|c| c.writes),
            runs => how_many_runs(mix.runs),
            rows,
            lessons => lessons(mix),
        },
    )
}

/// The lessons' figures at the most workers, from each worker writing to one writer, on the
/// methods measured both ways; `None` when none was.
fn lessons(mix: &Mix) -> Option<Value> {
    let most = mix.cases.iter().map(|c| c.workers).max()?;
    let pair = |&(program, name): &(&'static str, &'static str)| {
        let at = |writer| mix.get(program, writer, most);
        Some((name, at("shared")?, at("single")?))
    };
    let pairs: Vec<(&str, &MixCase, &MixCase)> = METHODS.iter().filter_map(pair).collect();
    if pairs.is_empty() {
        return None;
    }
    // Each pair's change in one figure, left out where either side lacks it.
    let changes = |figure: &dyn Fn(&MixCase) -> Option<f64>| -> Vec<Value> {
        let change = |&(name, shared, single): &(&str, &MixCase, &MixCase)| {
            Some(context! { name, from => figure(shared)?, to => figure(single)? })
        };
        pairs.iter().filter_map(change).collect()
    };
    let p99 = |c: &MixCase| c.write_p99_s.as_ref().map(|s| s.median * 1e3);
    let cut = |(_, shared, single): &&(&str, &MixCase, &MixCase)| match (p99(shared), p99(single)) {
        (Some(from), Some(to)) => to < from,
        _ => false,
    };
    let best = |pick: &dyn Fn(&MixCase) -> Option<f64>| {
        let at_most = mix.cases.iter().filter(|c| c.workers == most);
        let (c, s) = at_most
            .filter_map(|c| Some((c, pick(c)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        Some(context! { name => name_of(&c.program), writer => &c.writer, ms => s * 1e3 })
    };
    let best = best(&|c| Some(c.read_p99_s.median))
        .zip(best(&|c| c.write_p99_s.as_ref().map(|s| s.median)))
        .map(|(read, write)| context! { read, write });
    Some(context! {
        most,
        methods => pairs.len(),
        fewer => pairs.iter().filter(cut).count(),
        cut => changes(&p99),
        tails => changes(&|c| Some(c.write_tail_in_sql? * 100.0)),
        reads => changes(&|c| Some(c.read_p99_s.median * 1e3)),
        throughput => changes(&|c| Some(c.tasks_per_s.median)),
        read_tails => changes(&|c| Some(c.read_tail_in_sql? * 100.0)),
        best,
        failed => mix.cases.iter().map(|c| c.failed_writes.median).sum::<f64>(),
        checked => mix.cases.iter().all(|c| c.writes_checked),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(v: f64) -> Spread {
        Spread::of(vec![v]).unwrap()
    }

    fn case(program: &str, writer: &str, write_p99: f64) -> MixCase {
        MixCase {
            program: program.to_string(),
            writer: writer.to_string(),
            workers: 16,
            tasks: 1000,
            writes: 100,
            tasks_per_s: spread(2000.0),
            read_p50_s: spread(0.004),
            read_p99_s: spread(0.02),
            write_p50_s: Some(spread(0.006)),
            write_p99_s: Some(spread(write_p99)),
            failed_writes: spread(0.0),
            writes_checked: true,
            write_tail_in_sql: Some(0.8),
            read_tail_in_sql: Some(0.5),
        }
    }

    #[test]
    fn the_lesson_counts_the_methods_whose_write_tail_one_writer_cut() {
        let mix = Mix {
            runs: 1,
            cases: vec![
                case("threadpool_executor", "shared", 0.150),
                case("threadpool_executor", "single", 0.050),
                case("async_executor", "shared", 0.020),
                case("async_executor", "single", 0.030),
            ],
        };
        let md = markdown(&mix).unwrap();
        assert!(md.contains("under 1 of the 2 methods"), "{md}");
        assert!(md.contains("the thread pool 150.0 → 50.0 ms"), "{md}");
        assert!(md.contains("| the thread pool | 16 | one writer |"), "{md}");
        assert!(md.contains("were exactly the write tasks"), "{md}");
    }

    #[test]
    fn a_run_whose_writes_do_not_agree_with_the_database_is_marked() {
        let mut bad = case("async_executor", "single", 0.030);
        bad.writes_checked = false;
        let mix = Mix {
            runs: 1,
            cases: vec![case("async_executor", "shared", 0.020), bad],
        };
        let md = markdown(&mix).unwrap();
        assert!(md.contains("✗"), "{md}");
        assert!(md.contains("**not** always"), "{md}");
    }

    #[test]
    fn the_tail_is_read_off_the_slowest_tasks() {
        let task = |id: usize, writes: bool, start: f64, sql: f64, end: f64| {
            serde_json::json!({"id": id, "name": "t", "worker": "w", "status": "ok", "rows": 1,
                "checksum": "0", "error": null, "queued_s": 0.0, "started_s": start,
                "sql_started_s": sql, "finished_s": end, "arrival": id, "writes": writes})
        };
        let mut tasks: Vec<serde_json::Value> =
            (1..=99).map(|i| task(i, true, 0.0, 0.003, 0.004)).collect();
        tasks.push(task(100, true, 0.0, 0.010, 0.110));
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "schema": 1, "method": "m", "workload": "app", "build": "release", "cores": 2,
            "workers": 16, "connections": null, "dispatch": "fifo", "timeout_s": 60.0,
            "wall_s": 1.0, "startup_s": 0.0, "baseline_wall_s": null, "speedup": null,
            "ideal_makespan_s": null, "fifo_makespan_s": null, "lower_bound_s": null,
            "ideal_speedup": null, "efficiency": null,
            "counts": {"ok": 100, "failed": 0, "timed_out": 0, "not_run": 0},
            "usage": {"user_cpu_s": 0.0, "sys_cpu_s": 0.0, "max_rss_kib": 0,
                      "children_max_rss_kib": 0, "children_pss_kib": null,
                      "voluntary_context_switches": 0, "involuntary_context_switches": 0},
            "notes": [], "tasks": tasks}))
        .expect("a report");
        let share = tail_in_sql(&[report], true).unwrap();
        assert!((share - 100.0 / 110.0).abs() < 1e-9, "{share}");
    }
}

//! An application's mix: many readers and a few writers at once, with the latency each sees.
//!
//! `scripts/compare.sh` runs the `app` preset (1,000 requests of a web application on the shop:
//! 90% reads, 10% short write transactions, each after a wait of a few ms) with every method at
//! 4 and 16 workers, each worker writing on its own connection (`--writer shared`) or one writer
//! for all (`--writer single`), into `<raw>/mix`. This file reads those reports and writes the
//! table and its lessons, `mix.md`: throughput, the reads' and the writes' p50 and p99, the
//! writes that failed, and whether the database holds exactly the writes reported done.
//!
//! A task's latency is from a worker taking it to its outcome (see `shared::Latency`): what one
//! request costs the server that serves it, lock and connection waits included, and not its
//! time in the queue, which with every task queued at the start measures only the queue.
//!
//! Where a tail comes from is read off the slowest tasks themselves: each task's report gives
//! when it started, when its SQL started (after its wait and, for the pooled methods, a
//! connection) and when it finished (after the lock, its statements and the commit).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use shared::RunReport;

use crate::model::Spread;
use crate::read::read_run_reports;

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

    /// The most workers measured.
    fn most(&self) -> Option<usize> {
        self.cases.iter().map(|c| c.workers).max()
    }
}

/// The methods, in the table's order, with their names in prose.
const METHODS: [(&str, &str); 4] = [
    ("threadpool_executor", "the thread pool"),
    ("async_executor", "async"),
    ("multiprocessing_executor", "processes"),
    ("threading_executor", "hand-written threads"),
];

/// Reads `<raw>/mix`, or `None` when the run has no such folder.
pub fn collate(dir: &Path, runs: usize) -> Result<Option<Mix>, String> {
    let Some(reports) = read_run_reports(dir, runs)? else {
        return Ok(None);
    };
    let mut cases = Vec::new();
    for (program, by_case) in reports {
        for (case, runs) in by_case {
            cases.push(summarise(&program, &case, &runs)?);
        }
    }
    let order = |c: &MixCase| {
        let place = METHODS
            .iter()
            .position(|(p, _)| *p == c.program)
            .map_or(0, |i| i + 1);
        (place, c.workers, c.writer == "single")
    };
    cases.sort_by_key(order);
    Ok(Some(Mix { runs, cases }))
}

fn summarise(program: &str, case: &str, runs: &[RunReport]) -> Result<MixCase, String> {
    let what = || format!("mix {program} {case}");
    let first = &runs[0];
    let writer = first
        .writes
        .as_ref()
        .map(|w| w.writer.clone())
        .ok_or_else(|| format!("{}: its report says no writes", what()))?;
    let spread = |values: Vec<f64>, name: &str| {
        Spread::of(values).ok_or_else(|| format!("{}: no {name} in every run", what()))
    };
    let each = |f: &dyn Fn(&RunReport) -> Option<f64>| -> Option<Vec<f64>> {
        runs.iter().map(f).collect()
    };
    let needed = |f: &dyn Fn(&RunReport) -> Option<f64>, name: &str| {
        each(f)
            .ok_or_else(|| format!("{}: no {name} in every run", what()))
            .and_then(|values| spread(values, name))
    };
    let writes = first.latency.write.count;
    let failed: Vec<f64> = runs
        .iter()
        .map(|r| {
            r.tasks
                .iter()
                .filter(|t| t.writes && t.status != "ok")
                .count() as f64
        })
        .collect();
    Ok(MixCase {
        program: program.to_string(),
        writer,
        workers: first.workers,
        tasks: first.tasks.len(),
        writes,
        tasks_per_s: needed(&|r| Some(r.tasks.len() as f64 / r.wall_s), "wall time")?,
        read_p50_s: needed(&|r| r.latency.read.p50_s, "read p50")?,
        read_p99_s: needed(&|r| r.latency.read.p99_s, "read p99")?,
        write_p50_s: each(&|r| r.latency.write.p50_s).and_then(Spread::of),
        write_p99_s: each(&|r| r.latency.write.p99_s).and_then(Spread::of),
        failed_writes: spread(failed, "count")?,
        writes_checked: runs
            .iter()
            .all(|r| r.rows_in_db_after.is_some() && r.rows_in_db_after == r.write_tasks_ok()),
        write_tail_in_sql: tail_in_sql(runs, true),
        read_tail_in_sql: tail_in_sql(runs, false),
    })
}

/// Of the slowest 1% of one kind of task (at least one per run), the median share of their
/// latency spent from the start of their SQL to their outcome.
fn tail_in_sql(runs: &[RunReport], writes: bool) -> Option<f64> {
    let mut shares = Vec::new();
    for run in runs {
        let mut took: Vec<(f64, f64)> = run
            .tasks
            .iter()
            .filter(|t| t.writes == writes)
            .filter_map(|t| {
                let (start, sql, end) = (t.started_s?, t.sql_started_s?, t.finished_s?);
                (end > start).then_some((end - start, (end - sql) / (end - start)))
            })
            .collect();
        took.sort_by(|a, b| b.0.total_cmp(&a.0));
        let slowest = took.len().div_ceil(100);
        shares.extend(took.iter().take(slowest).map(|&(_, share)| share));
    }
    Spread::of(shares).map(|s| s.median)
}

fn ms(s: &Spread) -> String {
    s.show(1, " ms")
}

fn scaled(s: &Spread, by: f64) -> Spread {
    Spread {
        median: s.median * by,
        min: s.min * by,
        max: s.max * by,
        values: s.values.iter().map(|v| v * by).collect(),
    }
}

fn name_of(program: &str) -> &str {
    METHODS
        .iter()
        .find(|(p, _)| *p == program)
        .map_or(program, |(_, name)| name)
}

fn writer_words(writer: &str) -> &'static str {
    match writer {
        "single" => "one writer",
        _ => "each worker",
    }
}

/// The way of writing, after "with".
fn with_writer(writer: &str) -> &'static str {
    match writer {
        "single" => "one writer",
        _ => "each worker writing",
    }
}

/// `mix.md`: the table, then what it teaches, in this run's figures.
pub fn markdown(mix: &Mix) -> String {
    let mut md = String::new();
    let Some(first) = mix.cases.first() else {
        return "No `app` runs in this comparison: run `scripts/compare.sh`.\n".to_string();
    };
    let _ = writeln!(
        md,
        "`--workload app`: {} requests of a web application on the shop, {} of them short \
         write transactions among the reads, each after a wait of 2–5 ms; every method at each \
         worker count, with each worker writing on its own connection (`--writer shared`, \
         BEGIN IMMEDIATE, a 5 s busy timeout) and with one writer for all (`--writer single`). \
         {}. Latency is from a worker taking a request to its answer, lock and connection waits \
         included, in ms. *Writes checked*: the tasks recorded in the run's own table, in each \
         write's own transaction, are exactly the writes that ended ok.\n",
        first.tasks,
        first.writes,
        crate::format::how_many_runs(mix.runs),
    );
    md.push_str(
        "| method | workers | who writes | requests/s | read p50 | read p99 | write p50 | write p99 | failed writes | writes checked |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for c in &mix.cases {
        let none = "–".to_string();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            name_of(&c.program),
            c.workers,
            writer_words(&c.writer),
            c.tasks_per_s.show(0, ""),
            ms(&scaled(&c.read_p50_s, 1e3)),
            ms(&scaled(&c.read_p99_s, 1e3)),
            c.write_p50_s
                .as_ref()
                .map_or(none.clone(), |s| ms(&scaled(s, 1e3))),
            c.write_p99_s.as_ref().map_or(none, |s| ms(&scaled(s, 1e3))),
            c.failed_writes.show(0, ""),
            if c.writes_checked {
                format!("✓ {}", c.writes)
            } else {
                "✗ (see the reports' notes)".to_string()
            },
        );
    }
    md.push('\n');
    lessons(&mut md, mix);
    md
}

fn lessons(md: &mut String, mix: &Mix) {
    let Some(most) = mix.most() else {
        return;
    };
    let pairs: Vec<(&str, &MixCase, &MixCase)> = METHODS
        .iter()
        .filter_map(|&(program, name)| {
            Some((
                name,
                mix.get(program, "shared", most)?,
                mix.get(program, "single", most)?,
            ))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    let p99 = |c: &MixCase| c.write_p99_s.as_ref().map(|s| s.median * 1e3);
    let cut: Vec<String> = pairs
        .iter()
        .filter_map(|(name, shared, single)| {
            let (a, b) = (p99(shared)?, p99(single)?);
            Some(format!("{name} {a:.1} → {b:.1} ms"))
        })
        .collect();
    let fewer = pairs
        .iter()
        .filter(
            |(_, shared, single)| matches!((p99(shared), p99(single)), (Some(a), Some(b)) if b < a),
        )
        .count();
    let _ = writeln!(
        md,
        "**What one writer does to the writes' tail.** At {most} workers, one writer cut the \
         writes' p99 under {fewer} of the {} methods (each worker writing → one writer: {}). \
         With each worker writing, a write that finds the lock taken sleeps in SQLite's busy \
         handler (1, 2, 5, 10, 15, 20, 25 ms and on, between tries) and pays a commit of its \
         own; with one writer it waits in a queue instead, and its commit is shared with the \
         writes queued beside it.\n",
        pairs.len(),
        cut.join(", "),
    );
    let tails: Vec<String> = pairs
        .iter()
        .filter_map(|(name, shared, single)| {
            Some(format!(
                "{name} {:.0}% → {:.0}%",
                shared.write_tail_in_sql? * 100.0,
                single.write_tail_in_sql? * 100.0
            ))
        })
        .collect();
    if !tails.is_empty() {
        let _ = writeln!(
            md,
            "**Where the writes' tail comes from.** Of the slowest 1% of writes, the share of \
             their latency spent from the start of their SQL to their answer (the lock, the \
             statements, the commit), the rest being the request's wait and, for the pooled \
             methods, a connection (each worker writing → one writer): {}. Each task's report \
             gives the times this is read from (`started_s`, `sql_started_s`, `finished_s`).\n",
            tails.join(", ")
        );
    }
    let reads: Vec<String> = pairs
        .iter()
        .map(|(name, shared, single)| {
            format!(
                "{name} {:.1} → {:.1} ms",
                shared.read_p99_s.median * 1e3,
                single.read_p99_s.median * 1e3
            )
        })
        .collect();
    let throughput: Vec<String> = pairs
        .iter()
        .map(|(name, shared, single)| {
            format!(
                "{name} {:.0} → {:.0}",
                shared.tasks_per_s.median, single.tasks_per_s.median
            )
        })
        .collect();
    let read_tails: Vec<String> = pairs
        .iter()
        .filter_map(|(name, shared, single)| {
            Some(format!(
                "{name} {:.0}% → {:.0}%",
                shared.read_tail_in_sql? * 100.0,
                single.read_tail_in_sql? * 100.0
            ))
        })
        .collect();
    let _ = writeln!(
        md,
        "**And to the reads.** Reads never wait for the write lock (the copy is in WAL mode), \
         but they wait for what a writer holds: a pooled connection, a worker. The reads' p99 \
         at {most} workers: {}; requests per second: {}. The slowest 1% of reads spent this \
         share of their latency in their SQL: {}.\n",
        reads.join(", "),
        throughput.join(", "),
        read_tails.join(", "),
    );
    let best = |pick: &dyn Fn(&MixCase) -> Option<f64>| {
        mix.cases
            .iter()
            .filter(|c| c.workers == most)
            .filter_map(|c| Some((c, pick(c)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    if let (Some((r, read)), Some((w, write))) = (
        best(&|c| Some(c.read_p99_s.median)),
        best(&|c| c.write_p99_s.as_ref().map(|s| s.median)),
    ) {
        let _ = writeln!(
            md,
            "**Which holds the tail best.** At {most} workers, the lowest read p99 in this run \
             is {}'s, with {} ({:.1} ms); the lowest write p99, {}'s, with {} ({:.1} ms).\n",
            name_of(&r.program),
            with_writer(&r.writer),
            read * 1e3,
            name_of(&w.program),
            with_writer(&w.writer),
            write * 1e3,
        );
    }
    let failed: f64 = mix.cases.iter().map(|c| c.failed_writes.median).sum();
    let checked = mix.cases.iter().all(|c| c.writes_checked);
    let _ = writeln!(
        md,
        "**Nothing lost, nothing half done.** {} In every run of every method, the tasks \
         recorded in the database {}.\n",
        if failed == 0.0 {
            "No write failed: a 5 s busy timeout outlasts every wait for the lock here.".to_string()
        } else {
            format!("{failed:.0} writes failed (median over the runs, summed over the rows).")
        },
        if checked {
            "were exactly the write tasks that ended ok"
        } else {
            "were **not** always the write tasks that ended ok (✗ above)"
        },
    );
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
        let md = markdown(&mix);
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
        let md = markdown(&mix);
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

//! The write split swept, `split.md` and `split.svg` (compare.json's `write_share_sweep` and
//! `held_transaction`): the `app` mix at 16 workers with 0 to 100% of its requests writing, each
//! worker writing, one writer, or each worker after a lock of the program's, and from what share
//! one writer or the lock cuts the writes' tail. The 10% of the first two are the mix's own
//! runs. A p99 of a few dozen writes is the slowest one or two, so each round runs a third of
//! what a p99 needs and every round's latencies are pooled, read as the reports' own `latency`
//! (a worker taking a task to its outcome, nearest rank): a p99 from 500 or more, else their
//! max, said so. The held transactions (first round only) pair `--hold-ms` with a run without.

use std::path::Path;

use minijinja::context;
use minijinja::value::Serde;
use plotters::prelude::{IntoLogRange, SeriesLabelPosition};
use serde::Serialize;
use serde_json::{Value, json};
use shared::{RunReport, TaskReport};

use crate::chart::{self, Line, LineChart, PALETTE};
use crate::format::render;
use crate::mix::METHODS;
use crate::model::{ROWS, Spread, WITHIN, either};
use crate::read::{read_run_reports, writes_checked as checked};

/// The ways of writing, in the order of the tables and the chart.
const WRITERS: [&str; 3] = ["shared", "single", "lock"];
/// The fewest latencies a p99 is read from; fewer give their max.
const FOR_A_P99: usize = 500;

/// A latency of a point over all its rounds: `stat` "p99", or "max" of fewer than
/// [`FOR_A_P99`], `of` that many latencies; `rounds`, each round's own.
#[derive(Debug, Serialize)]
pub struct Pooled {
    pub stat: &'static str,
    pub of: usize,
    pub value: f64,
    pub rounds: Spread,
}

/// One method (its family) at one share of writes with one writer, over its rounds; at 0%,
/// which writes nothing, one entry a writer from the same runs.
#[derive(Debug, Serialize)]
pub struct Point {
    pub method: String,
    pub workers: usize,
    pub write_share: usize,
    pub writer: String,
    pub requests_per_s: Spread,
    pub read_p99_s: Option<Pooled>,
    pub write_p99_s: Option<Pooled>,
    /// Over every round.
    pub failed_writes: usize,
    /// In every round, the database held exactly the writes that ended ok (`null` at 0%).
    pub writes_checked: Option<bool>,
}

/// `requests` at `write_share`, each write transaction waiting `hold_ms`, against without.
#[derive(Debug, Serialize)]
pub struct Held {
    pub method: String,
    pub writer: String,
    pub hold_ms: u64,
    pub write_share: usize,
    pub requests: usize,
    pub wall_s_without: f64,
    pub wall_s_with: f64,
    pub ratio: f64,
    pub writes_checked: bool,
}

#[derive(Debug, Serialize)]
pub struct Split {
    pub write_share_sweep: Vec<Point>,
    pub held_transaction: Vec<Held>,
}

/// The `p` latency of `seconds` by nearest rank, as `shared::Latency` reads it.
fn rank(seconds: &mut [f64], p: f64) -> Option<f64> {
    seconds.sort_by(f64::total_cmp);
    let at = ((p * seconds.len() as f64).ceil() as usize).clamp(1, seconds.len().max(1));
    seconds.get(at - 1).copied()
}

fn pooled(runs: &[RunReport], writes: bool) -> Option<Pooled> {
    let took = |t: &TaskReport| Some((t.finished_s? - t.started_s?).max(0.0));
    let kind = |r: &RunReport| -> Vec<f64> {
        let of_kind = r.tasks.iter().filter(|t| t.writes == writes);
        of_kind.filter_map(took).collect()
    };
    let mut each: Vec<Vec<f64>> = runs.iter().map(kind).collect();
    let mut all = each.concat();
    let (stat, p) = either(all.len() >= FOR_A_P99, ("p99", 0.99), ("max", 1.0));
    let rounds = Spread::of(each.iter_mut().filter_map(|l| rank(l, p)).collect())?;
    Some(Pooled {
        stat,
        of: all.len(),
        value: rank(&mut all, p)?,
        rounds,
    })
}

fn share_of(run: &RunReport) -> usize {
    let writes = run.tasks.iter().filter(|t| t.writes).count();
    (100.0 * writes as f64 / run.tasks.len().max(1) as f64).round() as usize
}

/// A program's family, and the writer and the hold its run wrote with (none if it wrote not).
fn how(program: &str, run: &RunReport) -> (&'static str, Option<(String, u64)>) {
    let row = ROWS.iter().find(|r| r.program == program);
    let writes = run.writes.as_ref().map(|w| (w.writer.clone(), w.hold_ms));
    (row.map_or("", |r| r.family), writes)
}

/// The table's order of methods, then [`WRITERS`]'.
fn order(method: &str, writer: &str) -> (Option<usize>, Option<usize>) {
    let row = ROWS.iter().position(|r| r.family == method);
    (row, WRITERS.iter().position(|w| *w == writer))
}

/// Reads `<raw>/split`, the mix's runs at its workers, and `<raw>/split/held`; `None` when the
/// run has no split.
pub fn collate(raw: &Path, runs: usize) -> Result<Option<Split>, String> {
    let Some(split) = read_run_reports(&raw.join("split"), runs)? else {
        return Ok(None);
    };
    let mix = read_run_reports(&raw.join("mix"), runs)?.unwrap_or_default();
    let first = |runs: &Vec<RunReport>| runs[0].workers;
    let workers: Vec<usize> = split.values().flat_map(|c| c.values().map(first)).collect();
    let mut write_share_sweep = Vec::new();
    for (program, cases) in split.iter().chain(&mix) {
        for runs in cases.values().filter(|r| workers.contains(&r[0].workers)) {
            let (method, writer) = how(program, &runs[0]);
            let writers = match writer {
                Some((writer, 0)) => vec![writer],
                Some(_) => continue,
                None => WRITERS.map(String::from).to_vec(),
            };
            for writer in writers {
                write_share_sweep.push(point(method, writer, runs)?);
            }
        }
    }
    write_share_sweep.sort_by_key(|p| (order(&p.method, &p.writer), p.write_share));
    let mut held_transaction = Vec::new();
    for (program, cases) in read_run_reports(&raw.join("split/held"), 1)?.unwrap_or_default() {
        let runs: Vec<&RunReport> = cases.values().map(|r| &r[0]).collect();
        for with in &runs {
            let (method, Some((writer, hold_ms))) = how(&program, with) else {
                continue;
            };
            let twin = |r: &&&RunReport| how(&program, r).1 == Some((writer.clone(), 0));
            let Some(without) = runs.iter().find(twin).filter(|_| hold_ms > 0) else {
                continue;
            };
            held_transaction.push(Held {
                method: method.to_string(),
                writer,
                hold_ms,
                write_share: share_of(with),
                requests: with.tasks.len(),
                wall_s_without: without.wall_s,
                wall_s_with: with.wall_s,
                ratio: with.wall_s / without.wall_s,
                writes_checked: checked(with) && checked(without),
            });
        }
    }
    held_transaction.sort_by_key(|h| order(&h.method, &h.writer));
    Ok(Some(Split {
        write_share_sweep,
        held_transaction,
    }))
}

fn point(method: &str, writer: String, runs: &[RunReport]) -> Result<Point, String> {
    let tasks = runs.iter().flat_map(|r| &r.tasks);
    let failed = tasks.filter(|t| t.writes && t.status != "ok").count();
    let per_s = Spread::each(runs, |r| Some(r.tasks.len() as f64 / r.wall_s));
    Ok(Point {
        method: method.to_string(),
        workers: runs[0].workers,
        write_share: share_of(&runs[0]),
        writer,
        requests_per_s: per_s.ok_or(format!("{method}: a wall time is no number"))?,
        read_p99_s: pooled(runs, false),
        write_p99_s: pooled(runs, true),
        failed_writes: failed,
        writes_checked: runs[0].writes.as_ref().map(|_| runs.iter().all(checked)),
    })
}

fn write_ms(p: &Point) -> Option<f64> {
    Some(p.write_p99_s.as_ref()?.value * 1e3)
}

/// `writer` against each worker writing under `method`, at the shares that write: `from`, the
/// lowest share from which its writes' tail is more than [`WITHIN`] below, there and at every
/// share above (none where the highest is not); and `ratios`, its requests/s over theirs.
fn against_shared(sweep: &[Point], method: &str, writer: &str) -> Value {
    let same = |a: &Point, b: &Point| a.method == b.method && a.write_share == b.write_share;
    let mine = |p: &&Point| p.method == method && p.writer == writer && p.write_share > 0;
    let shared = |b: &Point| sweep.iter().find(|a| a.writer == "shared" && same(a, b));
    let pair = |b| Some((shared(b)?, b));
    let pairs: Vec<(&Point, &Point)> = sweep.iter().filter(mine).filter_map(pair).collect();
    let cuts = |(a, b): &&(&Point, &Point)| match (write_ms(a), write_ms(b)) {
        (Some(a), Some(b)) => b < (1.0 - WITHIN) * a,
        _ => false,
    };
    let from = pairs.iter().rposition(|p| !cuts(&p)).map_or(0, |i| i + 1);
    let from = pairs.get(from).map(|(a, b)| {
        let stat = a.write_p99_s.as_ref().map(|w| w.stat);
        json!({ "share": b.write_share, "from": write_ms(a), "to": write_ms(b), "stat": stat })
    });
    let ratio = |(a, b): &(&Point, &Point)| {
        let ratio = b.requests_per_s.median / a.requests_per_s.median;
        json!({ "share": b.write_share, "ratio": ratio })
    };
    let (cut_somewhere, ratios) = (pairs.iter().any(|p| cuts(&p)), pairs.iter().map(ratio));
    json!({ "from": from, "cut_somewhere": cut_somewhere, "ratios": ratios.collect::<Vec<_>>() })
}

/// What split.md and questions.md say of each method the sweep measured: its `method`
/// (family), `name` in prose, and one writer and the lock against each worker writing.
pub fn methods(sweep: &[Point]) -> Vec<Value> {
    let method = |&(program, name): &(&str, &str)| {
        let method = ROWS.iter().find(|r| r.program == program)?.family;
        sweep.iter().find(|p| p.method == method)?;
        let [single, lock] = ["single", "lock"].map(|w| against_shared(sweep, method, w));
        Some(json!({ "method": method, "name": name, "single": single, "lock": lock }))
    };
    METHODS.iter().filter_map(method).collect()
}

/// `split.md` (templates/split.md): the tables, where one writer and the lock pay, and the
/// held transactions, in this run's figures.
pub fn markdown(split: Option<&Split>) -> Result<String, String> {
    let Some(split) = split else {
        return render("split.md", json!({ "split": false }));
    };
    let (sweep, held) = (&split.write_share_sweep, &split.held_transaction);
    let mut shares: Vec<usize> = sweep.iter().map(|p| p.write_share).collect();
    shares.sort_unstable();
    shares.dedup();
    let checked = sweep.iter().all(|p| p.writes_checked != Some(false));
    render(
        "split.md",
        context! {
            split => true,
            workers => sweep.first().map(|p| p.workers),
            shares,
            rounds => sweep.first().map_or(0, |p| p.requests_per_s.values.len()),
            for_a_p99 => FOR_A_P99,
            points => Serde(sweep),
            methods => Serde(methods(sweep)),
            held => Serde(held),
            failed => sweep.iter().map(|p| p.failed_writes).sum::<usize>(),
            checked => checked && held.iter().all(|h| h.writes_checked),
        },
    )
}

/// `split.svg`: a column per method, the writes' p99 (an open dot where it is a max) above the
/// requests per second, against the share of writes, a line per writer, both on a scale of
/// powers of 2. Its words, one a line, are templates/split-chart.md's.
pub fn draw(path: &Path, split: &Split) -> Result<(), String> {
    let sweep = &split.write_share_sweep;
    let mut methods: Vec<&str> = sweep.iter().map(|p| p.method.as_str()).collect();
    methods.dedup();
    let words = render("split-chart.md", json!({ "methods": methods }))?;
    let words: Vec<&str> = words.lines().collect();
    let word = |i: usize| words.get(i).copied().unwrap_or_default();
    let figure = |p: &Point, ms| either(ms, write_ms(p), Some(p.requests_per_s.median));
    let (n, size) = (methods.len(), (360 * methods.len().max(1) as u32, 760));
    chart::svg(path, size, |root| {
        let areas = root.split_evenly((2, n.max(1)));
        for (i, area) in areas.iter().enumerate().take(2 * n) {
            let (method, ms) = (methods[i % n], i < n);
            let line = |(k, writer): (usize, &str)| {
                let on = |p: &&Point| {
                    p.method == method && p.writer == writer && figure(p, ms).is_some()
                };
                let points: Vec<&Point> = sweep.iter().filter(on).collect();
                let max =
                    |p: &&Point| ms && p.write_p99_s.as_ref().is_some_and(|w| w.stat == "max");
                let at = |p: &&Point| Some((p.write_share as f64, figure(p, ms)?));
                Line {
                    label: word(1 + k).to_string(),
                    points: points.iter().filter_map(at).collect(),
                    open: points.iter().map(max).collect(),
                    colour: PALETTE[k],
                    dashed: false,
                }
            };
            let all = sweep.iter().filter_map(|p| figure(p, ms));
            let (low, high) = all.fold((f64::MAX, 1.0), |(l, h), y| (y.min(l), y.max(h)));
            LineChart {
                caption: word(6 + i),
                caption_size: 16,
                x: -2.0..102.0,
                x_desc: word(0),
                y: (low * 0.8..high * 1.25).log_scale().base(2.0),
                y_desc: word(if ms { 4 } else { 5 }),
                y_label_width: 50,
                whole_y: true,
                light_lines: 0,
                key: (i == n).then_some(SeriesLabelPosition::LowerLeft),
                ideal: None,
                lines: WRITERS.into_iter().enumerate().map(line).collect(),
            }
            .draw(area)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of `n` tasks, every `every`th of them a write, task `i` taking `i` ms; written
    /// by `writer` (none: a run that does not write).
    fn report(n: usize, every: usize, writer: Option<&str>, wall_s: f64) -> RunReport {
        let tasks: Vec<serde_json::Value> = (1..=n)
            .map(|i| {
                json!({"id": i, "name": "t", "worker": "w", "status": "ok", "rows": 1,
                    "checksum": "0", "error": null, "queued_s": 0.0, "started_s": 0.0,
                    "sql_started_s": 0.0, "finished_s": i as f64 / 1e3, "arrival": i,
                    "writes": i % every == 0})
            })
            .collect();
        let writes = writer.map(|w| {
            json!({"busy_timeout_ms": 5000, "begin": "immediate", "synchronous": "full",
                "writer": w, "hold_ms": 0})
        });
        let written = (1..=n).filter(|i| i % every == 0).count();
        serde_json::from_value(json!({
            "schema": 1, "method": "m", "workload": "app", "build": "release", "cores": 2,
            "workers": 16, "connections": null, "dispatch": "fifo", "timeout_s": 60.0,
            "wall_s": wall_s, "startup_s": 0.0, "baseline_wall_s": null, "speedup": null,
            "ideal_makespan_s": null, "fifo_makespan_s": null, "lower_bound_s": null,
            "ideal_speedup": null, "efficiency": null,
            "counts": {"ok": n, "failed": 0, "timed_out": 0, "not_run": 0},
            "usage": {"user_cpu_s": 0.0, "sys_cpu_s": 0.0, "max_rss_kib": 0,
                      "children_max_rss_kib": 0, "children_pss_kib": null,
                      "voluntary_context_switches": 0, "involuntary_context_switches": 0},
            "writes": writes, "rows_in_db_after": writer.map(|_| written),
            "notes": [], "tasks": tasks}))
        .expect("a report")
    }

    #[test]
    fn a_p99_is_read_from_every_rounds_latencies_pooled_and_fewer_than_500_give_their_max() {
        // Three rounds of 200 writes each (every task writes), 1 to 200 ms: 600 latencies.
        let runs = [0.1, 0.2, 0.3].map(|wall| report(200, 1, Some("shared"), wall));
        let write = pooled(&runs, true).expect("writes");
        assert_eq!((write.stat, write.of), ("p99", 600));
        // The 594th of 600 by nearest rank: the three rounds' 198 ms, the last of them.
        assert!((write.value - 0.198).abs() < 1e-12, "{}", write.value);
        // Each round's own p99, of 200: the 198th.
        assert_eq!(write.rounds.values, [0.198; 3]);
        assert!(pooled(&runs, false).is_none(), "no reads, no figure");
        // One round alone has 200: too few for a p99, and its max is said to be one.
        let alone = pooled(&runs[..1], true).expect("writes");
        assert_eq!((alone.stat, alone.of, alone.value), ("max", 200, 0.2));
    }

    #[test]
    fn one_writer_pays_from_the_lowest_share_from_which_it_cuts_the_tail_at_every_share_above() {
        let point = |writer: &str, write_share, ms: f64, per_s: f64| Point {
            method: "threadpool".into(),
            workers: 16,
            write_share,
            writer: writer.into(),
            requests_per_s: Spread::of(vec![per_s]).unwrap(),
            read_p99_s: None,
            write_p99_s: Some(Pooled {
                stat: "p99",
                of: 500,
                value: ms / 1e3,
                rounds: Spread::of(vec![ms / 1e3]).unwrap(),
            }),
            failed_writes: 0,
            writes_checked: Some(true),
        };
        // One writer is no better at 10% (within 5%), better at 25%, worse at 50%, better at
        // 100%: it pays from 100% only. The lock cuts the tail at every share.
        let sweep = [
            point("shared", 10, 100.0, 1000.0),
            point("single", 10, 98.0, 1100.0),
            point("lock", 10, 50.0, 1000.0),
            point("shared", 25, 100.0, 800.0),
            point("single", 25, 50.0, 800.0),
            point("lock", 25, 50.0, 800.0),
            point("shared", 50, 100.0, 500.0),
            point("single", 50, 120.0, 1000.0),
            point("lock", 50, 50.0, 500.0),
            point("shared", 100, 100.0, 200.0),
            point("single", 100, 40.0, 600.0),
            point("lock", 100, 50.0, 200.0),
        ];
        let single = against_shared(&sweep, "threadpool", "single");
        assert_eq!(single["from"]["share"], 100, "{single}");
        assert_eq!(single["cut_somewhere"], true);
        assert_eq!(single["ratios"][3]["ratio"], 3.0, "{single}");
        let lock = against_shared(&sweep, "threadpool", "lock");
        assert_eq!(lock["from"]["share"], 10, "{lock}");
        // Slower than each worker at the highest share: it pays at no share from there.
        let mut worse = sweep;
        worse[11] = point("lock", 100, 150.0, 200.0);
        let lock = against_shared(&worse, "threadpool", "lock");
        assert!(lock["from"].is_null(), "{lock}");
        let md = markdown(Some(&Split {
            write_share_sweep: worse.into(),
            held_transaction: Vec::new(),
        }))
        .expect("split.md renders");
        assert!(md.contains("| the thread pool | from 100% (100.0 → 40.0 ms) | at some shares, not at the highest |"), "{md}");
        assert!(
            md.contains("| the thread pool | one writer | 98.0 ms | 50.0 ms |"),
            "{md}"
        );
    }

    #[test]
    fn the_share_writer_and_hold_are_read_from_the_reports_and_zero_percent_stands_for_every_writer()
     {
        let raw = std::env::temp_dir().join(format!("collate-split-{}", std::process::id()));
        std::fs::create_dir_all(raw.join("split/held")).unwrap();
        let put = |path: &str, r: RunReport| {
            std::fs::write(raw.join(path), serde_json::to_string(&r).unwrap()).unwrap();
        };
        put(
            "split/threading_executor__none-0__r1.json",
            report(100, 1000, None, 0.1),
        );
        put(
            "split/threading_executor__a__r1.json",
            report(100, 2, Some("lock"), 0.2),
        );
        let mut held = report(100, 2, Some("single"), 0.5);
        held.summary.writes.as_mut().unwrap().hold_ms = 5;
        put("split/held/threading_executor__b__r1.json", held);
        put(
            "split/held/threading_executor__c__r1.json",
            report(100, 2, Some("single"), 0.2),
        );
        let split = collate(&raw, 1).unwrap().expect("a split");
        std::fs::remove_dir_all(&raw).unwrap();
        let seen: Vec<(usize, &str)> = split
            .write_share_sweep
            .iter()
            .map(|p| (p.write_share, p.writer.as_str()))
            .collect();
        assert_eq!(
            seen,
            [(0, "shared"), (0, "single"), (0, "lock"), (50, "lock")]
        );
        let [held] = &split.held_transaction[..] else {
            panic!("one held transaction")
        };
        assert_eq!(
            (held.writer.as_str(), held.hold_ms, held.write_share),
            ("single", 5, 50)
        );
        assert!((held.ratio - 2.5).abs() < 1e-9 && held.writes_checked);
        assert_eq!(split.write_share_sweep[3].writes_checked, Some(true));
        assert_eq!(split.write_share_sweep[0].writes_checked, None);
    }
}

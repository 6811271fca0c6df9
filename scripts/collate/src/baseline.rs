//! One sequential baseline per workload per round, shared by every program of that round.
//! Repeating the baseline inside each program's own run took about half of the whole
//! comparison, so compare.sh runs the methods with `--no-baseline` right after one sequential
//! run, and this module gives each report the figures its own baseline would have: the speedup
//! (the round's baseline wall time over the method's), the ideal (from the baseline's task
//! durations, with the method's workers, connections and dispatch order, by `shared`'s own
//! arithmetic) and the efficiency. A speedup stays a ratio within one round and one language;
//! a report that ran its own baseline keeps it.

use std::time::Duration;

use shared::{Dispatch, Durations, RunReport, TaskReport, ideal};

use crate::model::{Reports, either};

/// How compare.md says where the speedups come from, so that a reader comparing with an older
/// table knows what changed in how they are measured.
pub const HOW: &str = "baseline: one sequential run per workload per round, shared by every \
method of that round, which runs right after it";

/// Gives every report that ran without a baseline, and whose case `baseline_case` maps to a
/// case of its language's sequential program, that sequential run's figures from the same round.
/// Returns how many reports it measured so.
pub fn attach(
    reports: &mut Reports,
    baseline_case: impl Fn(&str) -> Option<&'static str>,
) -> Result<usize, String> {
    let mut attached = 0;
    let mut baselines: Vec<(String, String, Vec<RunReport>)> = Vec::new();
    for (program, cases) in reports.iter() {
        for case in cases.keys() {
            let Some(base_case) = baseline_case(case) else {
                continue;
            };
            let base_program = sequential_of(program);
            if base_program == program {
                continue;
            }
            let against = format!("{base_program} {base_case} run to measure it against");
            let runs = reports.get(base_program).and_then(|c| c.get(base_case));
            let runs = runs.ok_or_else(|| format!("{program} {case}: no {against}"))?;
            baselines.push((program.clone(), case.clone(), runs.clone()));
        }
    }
    for (program, case, bases) in baselines {
        let runs = reports.get_mut(&program).and_then(|c| c.get_mut(&case));
        let runs = runs.expect("found above");
        for (round, (report, base)) in runs.iter_mut().zip(&bases).enumerate() {
            if report.baseline_wall_s.is_some() {
                continue;
            }
            measure_against(report, base)
                .map_err(|why| format!("{program} {case}, run {}: {why}", round + 1))?;
            attached += 1;
        }
    }
    Ok(attached)
}

/// The sequential program of a program's language: Python's methods are measured against
/// Python's own loop, Rust's against Rust's.
fn sequential_of(program: &str) -> &'static str {
    let python = program.starts_with("python-");
    either(python, "python-sequential", "sequential")
}

/// Fills in `report`'s baseline figures from `base`, a sequential run of the same tasks.
/// Both have every task ok (collate refuses any other report before this).
pub fn measure_against(report: &mut RunReport, base: &RunReport) -> Result<(), String> {
    let (ours, theirs) = (&report.tasks, &base.tasks);
    let same = |(a, b): (&TaskReport, &TaskReport)| a.id == b.id && a.name == b.name;
    let same_tasks = ours.len() == theirs.len() && ours.iter().zip(theirs).all(same);
    if report.workload != base.workload || !same_tasks {
        let ran = format!("ran '{}' ({} tasks)", report.workload, ours.len());
        let base = format!("its baseline '{}' ({} tasks)", base.workload, theirs.len());
        return Err(format!("{ran}, and {base}: not the same tasks"));
    }
    let mut durations = durations(&base.tasks);
    if let Some(work) = base.baseline_work_s {
        durations.work = work;
    }
    let longest_first = report.dispatch == "longest-first";
    let dispatch = either(longest_first, Dispatch::LongestFirst, Dispatch::Fifo);
    let (workers, connections, cores) = (report.workers, report.connections, report.cores);
    let ideal = ideal(&durations, workers, connections, cores, dispatch);
    let (wall, base_wall) = (report.wall_s, base.wall_s);
    let summary = &mut report.summary;
    summary.set_ideal(base_wall, &ideal, durations.work);
    summary.not_compared = None;
    summary.speedup = (wall > 0.0).then(|| base_wall / wall);
    summary.efficiency = (wall > 0.0).then(|| ideal.makespan / wall);
    Ok(())
}

/// Each baseline task's whole time and its SQL's, from its report line, and their work as the
/// SQL's time (the baseline's report gives what it measured instead, where it did). A priority
/// queue would sort on the tasks' expected durations, which a report does not give: their
/// measured ones stand in.
fn durations(tasks: &[TaskReport]) -> Durations {
    let since = |from: Option<f64>, to: Option<f64>| {
        from.zip(to).map_or(0.0, |(from, to)| (to - from).max(0.0))
    };
    let whole = |t: &TaskReport| since(t.started_s, t.finished_s);
    let sql = |t: &TaskReport| since(t.sql_started_s, t.finished_s);
    let whole: Vec<f64> = tasks.iter().map(whole).collect();
    let sql: Vec<f64> = tasks.iter().map(sql).collect();
    Durations {
        expected: whole.iter().map(|&s| Duration::from_secs_f64(s)).collect(),
        work: sql.iter().sum(),
        sql,
        tasks: whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: usize, started: f64, sql: f64, finished: f64) -> TaskReport {
        TaskReport {
            id,
            name: format!("t{id}"),
            worker: Some("w".into()),
            status: "ok".into(),
            rows: Some(1),
            checksum: Some("0".into()),
            error: None,
            queued_s: Some(0.0),
            started_s: Some(started),
            sql_started_s: Some(sql),
            finished_s: Some(finished),
            arrival: Some(id),
            writes: false,
        }
    }

    /// A report whose tasks are the guide's io waits, run one after another (the baseline) or
    /// on 4 workers in `wall` seconds without a baseline (the method).
    fn report(workers: usize, wall: f64) -> RunReport {
        let waits = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.1, 0.15];
        let mut at = 0.0;
        let tasks = waits
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let t = line(i + 1, at, at + w, at + w + 0.01);
                at += w + 0.01;
                t
            })
            .collect();
        let json = serde_json::json!({
            "schema": 1, "method": "m", "workload": "io", "build": "release", "cores": 2,
            "workers": workers, "connections": null, "dispatch": "fifo", "timeout_s": 10.0,
            "wall_s": wall, "startup_s": 0.0, "baseline_wall_s": null, "speedup": null,
            "ideal_makespan_s": null, "fifo_makespan_s": null, "lower_bound_s": null,
            "ideal_speedup": null, "efficiency": null,
            "not_compared": "no sequential baseline ran (--no-baseline)",
            "counts": {"ok": 8, "failed": 0, "timed_out": 0, "not_run": 0},
            "usage": {"user_cpu_s": 0.0, "sys_cpu_s": 0.0, "max_rss_kib": 0,
                      "children_max_rss_kib": 0, "children_pss_kib": null,
                      "voluntary_context_switches": 0, "involuntary_context_switches": 0},
            "notes": [], "tasks": []
        });
        let mut r: RunReport = serde_json::from_value(json).expect("a report");
        r.tasks = tasks;
        r
    }

    #[test]
    fn a_method_is_measured_against_the_rounds_baseline_with_its_own_workers() {
        let base = report(1, 1.38);
        let mut run = report(4, 0.46);
        measure_against(&mut run, &base).expect("the same tasks");
        let speedup = run.speedup.expect("a speedup");
        assert!((speedup - 3.0).abs() < 1e-9, "{speedup}");
        // 4 workers in FIFO order: the 310 ms task starts when the 110 ms one ends.
        let ideal = run.ideal_makespan_s.expect("an ideal");
        assert!((ideal - 0.42).abs() < 1e-6, "{ideal}");
        assert!(run.not_compared.is_none());
        assert!(run.efficiency.expect("an efficiency") < 1.0);
    }

    #[test]
    fn a_baseline_of_other_tasks_is_refused() {
        let mut base = report(1, 1.38);
        base.tasks.pop();
        let mut run = report(4, 0.46);
        let err = measure_against(&mut run, &base).expect_err("not the same tasks");
        assert!(err.contains("not the same tasks"), "{err}");
    }

    #[test]
    fn each_round_is_divided_by_its_own_baseline() {
        let mut reports = Reports::new();
        let seq = vec![report(1, 1.0), report(1, 2.0)];
        let runs = vec![report(4, 0.5), report(4, 0.5)];
        reports
            .entry("sequential".into())
            .or_default()
            .insert("io".into(), seq);
        reports
            .entry("threading_executor".into())
            .or_default()
            .insert("io4".into(), runs);
        attach(&mut reports, |case| (case == "io4").then_some("io")).expect("attached");
        let speedups: Vec<f64> = reports["threading_executor"]["io4"]
            .iter()
            .map(|r| r.speedup.expect("a speedup"))
            .collect();
        assert_eq!(speedups, vec![2.0, 4.0]);
        // The baseline's own report is not touched.
        assert!(reports["sequential"]["io"][0].speedup.is_none());
    }
}

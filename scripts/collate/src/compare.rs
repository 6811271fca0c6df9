//! compare.md: the table, one row per method and language, its legend, the guide's quoted
//! figures, and the worker sweep.

use std::fmt::Write as _;

use crate::Args;
use crate::format::{how_many_runs, mib, ms, plural, speedup_cell, thousands, times};
use crate::model::{
    GUIDE_QUOTED, Language, Machine, MethodFigures, Rounds, SWEEP_WAIT_S, executors, sweep,
    tasks_in,
};

pub fn markdown(
    args: &Args,
    machine: &Machine,
    methods: &[MethodFigures],
    rounds: Rounds,
    shared_baseline: bool,
) -> Result<String, String> {
    let mut md = String::new();
    let python = methods.iter().find(|m| m.language == Language::Python);
    let _ = write!(
        md,
        "Measured with `{}` ({}) on {} cores ({}), {}, {}",
        args.command,
        how_many_runs(args.runs),
        machine.cores,
        machine.cpu,
        machine.os,
        machine.rustc
    );
    match python {
        Some(m) => {
            let _ = writeln!(
                md,
                "; the Python rows with {} running `scripts/python/guide.py`, the guide's own \
                 mechanisms, on the same fixture and tasks.\n",
                m.interpreter.as_deref().unwrap_or("an unnamed interpreter")
            );
        }
        None => md.push_str(".\n\n"),
    }
    if args.mode == "quick" {
        md.push_str(
            "**A quick run: one repetition, a short sweep, fewer heavy tasks and fewer writes (on \
             16 workers only), to check that everything works; not a measurement.**\n\n",
        );
    }
    md.push_str(
        "| method | io, 4 workers | ideal, 4 workers | efficiency | io, best setting | cpu, 2 workers | fetch, 2 workers \
         | overhead per task | best concurrency | memory at 1,000 waits | startup, 4 workers |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut fewer_waits = false;
    for m in methods {
        let case = |name: &str| {
            m.cases
                .get(name)
                .ok_or_else(|| format!("{}: no '{name}' measurement", m.program))
        };
        let speedup = |name: &str| -> Result<String, String> { Ok(speedup_cell(case(name)?)) };
        let row = if m.family == "sequential" {
            let overhead = case("overhead")?.per_task_us.show(2, " µs");
            format!(
                "| {} | 1.00x | 1.00x | 1.00 | 1.00x | 1.00x | 1.00x | {overhead} | 1 | – | {} |",
                m.method,
                ms(&case("io")?.startup_s),
            )
        } else {
            let io4 = case("io4")?;
            let best = case("iobest")?;
            let setting = if best.workers == best.tasks && m.family == "async" {
                "unlimited".to_string()
            } else {
                plural(best.workers, "worker", "workers")
            };
            let scale = case("scale")?;
            let mut memory = match &scale.children_pss_kib {
                Some(pss) => format!(
                    "{} + {} in worker processes",
                    mib(scale.max_rss_kib.median),
                    mib(pss.median)
                ),
                None => mib(scale.max_rss_kib.median),
            };
            if scale.tasks != 1000 {
                fewer_waits = true;
                let _ = write!(memory, " (at {} waits)", scale.tasks);
            }
            // Still rising at the largest count tried: say so, and how close to the ideal it got.
            let best_concurrency = match (m.best_concurrency, sweep(&m.cases).last()) {
                (Some(w), Some((last, case))) if w == *last => format!(
                    "≥ {w} ({:.0}% of ideal there)",
                    100.0 * case.tasks_per_s.median / (*last as f64 / SWEEP_WAIT_S)
                ),
                (Some(w), _) => w.to_string(),
                _ => "not swept".to_string(),
            };
            format!(
                "| {} | {} | {} | {} | {} {} | {} | {} | {} | {} | {} | {} |",
                m.method,
                speedup("io4")?,
                io4.ideal_speedup
                    .as_ref()
                    .map_or("–".into(), |s| format!("{:.2}x", s.median)),
                io4.efficiency
                    .as_ref()
                    .map_or("–".into(), |s| s.show(2, "")),
                speedup("iobest")?,
                setting,
                speedup("cpu2")?,
                speedup("fetch2")?,
                case("overhead")?.per_task_us.show(2, " µs"),
                best_concurrency,
                memory,
                ms(&io4.startup_s),
            )
        };
        md.push_str(&row);
        md.push('\n');
    }
    md.push('\n');
    md.push_str(&legend(methods, rounds, fewer_waits, shared_baseline));
    md.push('\n');
    if python.is_none() {
        let _ = writeln!(
            md,
            "\nNo Python rows in this run: {}.",
            args.python_left_out.as_deref().unwrap_or("not asked for")
        );
    }
    md.push_str(
        "\nQuoted from the guide, not measured here: on its own io benchmark (\"8 SQLite queries \
         with artificial delays (0.05 s to 0.3 s)\", on a machine and with worker counts it does \
         not give) the guide reported ",
    );
    let quoted: Vec<String> = GUIDE_QUOTED
        .iter()
        .map(|(method, speedup)| format!("{method} {speedup}"))
        .collect();
    let _ = writeln!(md, "{}.", quoted.join(", "));

    let swept: Vec<&MethodFigures> = executors(methods)
        .filter(|m| !sweep(&m.cases).is_empty())
        .collect();
    let _ = writeln!(
        md,
        "\nWorker sweep (`scale`, 4 waits of 100 ms per worker): tasks per second, median{}.\n",
        if python.is_some() {
            "; the Rust methods only (Python's processes would cost seconds and GBs per point at \
             the top of it)"
        } else {
            ""
        }
    );
    let counts: Vec<usize> = swept
        .first()
        .map(|m| sweep(&m.cases).iter().map(|(w, _)| *w).collect())
        .unwrap_or_default();
    md.push_str("| method |");
    counts.iter().for_each(|w| {
        let _ = write!(md, " {w} |");
    });
    md.push_str("\n|---|");
    counts.iter().for_each(|_| md.push_str("---|"));
    md.push_str("\n| ideal (workers / 0.1 s) |");
    counts.iter().for_each(|w| {
        let _ = write!(md, " {:.0} |", *w as f64 / SWEEP_WAIT_S);
    });
    md.push('\n');
    for m in swept {
        let _ = write!(md, "| {} |", m.method);
        for (_, case) in sweep(&m.cases) {
            let _ = write!(md, " {:.0} |", case.tasks_per_s.median);
        }
        md.push('\n');
    }
    Ok(md)
}

/// What each column measures, with the task counts and rounds this run used, where the two
/// languages were given different work.
pub fn legend(
    methods: &[MethodFigures],
    rounds: Rounds,
    fewer_waits: bool,
    shared_baseline: bool,
) -> String {
    let tasks = |language, case| tasks_in(methods, language, case);
    let python = methods.iter().any(|m| m.language == Language::Python);
    let mut text = String::from(
        "io: the guide's 8 tasks (waits of 50–300 ms, each followed by a light query), speedup over \
         the sequential baseline",
    );
    if !shared_baseline {
        text.push_str(" run in the same process");
    }
    if python {
        text.push_str(
            " (for a Python row, Python's own sequential run: each language is measured against \
             itself)",
        );
    }
    if shared_baseline {
        let _ = write!(
            text,
            "; {}, and each speedup divides that round's baseline time by the method's (cpu and \
             fetch too)",
            crate::baseline::HOW
        );
    }
    text.push_str(
        "; ideal: the best 4 workers can do in FIFO order on this machine's cores, from the \
         baseline's task times; efficiency: ideal time / wall time; †: above its ideal, which \
         no method beats: a slow baseline (noise). ",
    );
    let rust_cpu = tasks(Language::Rust, "cpu2").unwrap_or(8);
    let _ = write!(
        text,
        "cpu: {} inside SQLite",
        plural(rust_cpu, "heavy query", "heavy queries")
    );
    match tasks(Language::Python, "cpu2") {
        Some(n) if n != rust_cpu => {
            let _ = write!(text, " ({n} in the Python rows). ");
        }
        _ => text.push_str(". "),
    }
    let rust_fetch = tasks(Language::Rust, "fetch2").unwrap_or(8);
    let _ = write!(
        text,
        "fetch: {} walking ~75,000 rows each in the program, digesting every value {}",
        plural(rust_fetch, "task", "tasks"),
        times(rounds.rust_fetch),
    );
    match (tasks(Language::Python, "fetch2"), rounds.python_fetch) {
        (Some(n), Some(r)) => {
            let which = if n == rust_fetch {
                "tasks".to_string()
            } else {
                plural(n, "task", "tasks")
            };
            let _ = write!(
                text,
                "; the Python rows' {which} digest each value {} ({} would take minutes in \
                 Python): compare the two languages' fetch speedups, each over its own sequential \
                 run, not their times. ",
                times(r),
                times(rounds.rust_fetch),
            );
        }
        _ => text.push_str(". "),
    }
    let rust_overhead = tasks(Language::Rust, "overhead").unwrap_or(10_000);
    let _ = write!(
        text,
        "overhead: {} × `SELECT 1`, wall time per task",
        thousands(rust_overhead as f64)
    );
    match tasks(Language::Python, "overhead") {
        Some(n) if n != rust_overhead => {
            let _ = write!(text, " ({} in the Python rows)", thousands(n as f64));
        }
        _ => {}
    }
    text.push_str(
        ". best concurrency: the fewest workers \
         within 5% of the highest throughput in the sweep below. memory: peak resident memory \
         during 1,000 concurrent waits of 100 ms (`scale`); for processes, the parent's peak plus \
         the children's proportional shares (`Pss`, which counts pages shared copy-on-write \
         once, not once per child)",
    );
    if fewer_waits {
        text.push_str(
            "; a cell that names another number of waits was measured at that many (Python's \
             multiprocessing gets 100 waits on 100 processes: 1,000 of its processes take \
             seconds and GBs to start, and 100 show what each one costs)",
        );
    }
    text.push_str(
        ". startup: before the first task can start (threads, processes, runtime, connections).",
    );
    text
}

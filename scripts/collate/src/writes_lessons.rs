//! `writes-lessons.md`: what the writes table teaches, in this run's figures.
//!
//! Five lessons: more writers do not write faster; one writer that batches does; batching wins
//! more when a commit costs a sync to disk; a busy timeout and `BEGIN IMMEDIATE`, and that no
//! failed write was lost; readers beside a writer in WAL. Each figure is read from the collated
//! writes (see [`crate::writes`]), and each lesson's wording follows them: a run in which more
//! writers did write faster, or in which the readers were slowed, says that instead.

use std::fmt::Write as _;

use super::writes::{Writes, WritesCase};
use crate::format::thousands;

const THREADING: &str = "threading_executor";
const PROCESSES: &str = "multiprocessing_executor";

/// Readers whose SQL took less than this many times as long beside a writer are within the
/// noise of a few milliseconds of SQL.
const NOT_SLOWED: f64 = 1.25;

/// `2,252–2,392 rows/s` over the medians given, or one figure.
pub fn rate(values: &[f64]) -> String {
    let (Some(lo), Some(hi)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return "not measured in this run".to_string();
    };
    if thousands(lo) == thousands(hi) {
        format!("{} rows/s", thousands(lo))
    } else {
        format!("{}–{} rows/s", thousands(lo), thousands(hi))
    }
}

/// `1,951–1,999`, the counts given, or one.
pub fn count(values: &[f64]) -> String {
    let lo = values.iter().copied().reduce(f64::min).unwrap_or(0.0);
    let hi = values.iter().copied().reduce(f64::max).unwrap_or(0.0);
    if thousands(lo) == thousands(hi) {
        thousands(lo)
    } else {
        format!("{}–{}", thousands(lo), thousands(hi))
    }
}

pub fn is_defaults(c: &WritesCase) -> bool {
    let s = &c.settings.0;
    s.writer == "shared"
        && s.begin == "immediate"
        && s.busy_timeout_ms > 0
        && s.synchronous == "full"
}

pub fn is_single(c: &WritesCase) -> bool {
    c.settings.0.writer == "single" && c.settings.0.synchronous == "full"
}

/// The medians of rows per second of the cases that `pick` keeps, on `workers` workers, the
/// sequential baseline left out.
fn rates(writes: &Writes, workers: usize, pick: fn(&WritesCase) -> bool) -> Vec<f64> {
    writes
        .cases
        .iter()
        .filter(|c| c.program != "sequential" && c.workers == workers && pick(c))
        .map(|c| c.rows_per_s.median)
        .collect()
}

pub fn find<'a>(
    writes: &'a Writes,
    program: &str,
    workers: usize,
    pick: impl Fn(&WritesCase) -> bool,
) -> Option<&'a WritesCase> {
    writes
        .cases
        .iter()
        .find(|c| c.program == program && c.workers == workers && pick(c))
}

/// The whole page: one bullet per lesson, then the commands to try.
pub fn markdown(writes: &Writes) -> String {
    let mut md = String::from("What the writes table teaches (medians of this run):\n\n");
    for lesson in [
        more_writers(writes),
        one_writer(writes),
        dearer_commits(writes),
        traps(writes),
        readers(writes),
    ] {
        let _ = writeln!(md, "- {lesson}");
    }
    md
}

/// The most workers the run wrote with (16 in a full run and a quick one).
fn most_workers(writes: &Writes) -> usize {
    writes.cases.iter().map(|c| c.workers).max().unwrap_or(0)
}

/// The fewest workers, the sequential baseline's one aside (4 in a full run).
fn fewest_workers(writes: &Writes) -> Option<usize> {
    writes
        .cases
        .iter()
        .filter(|c| c.program != "sequential")
        .map(|c| c.workers)
        .min()
}

fn more_writers(writes: &Writes) -> String {
    let alone = find(writes, "sequential", 1, is_defaults).map(|c| c.rows_per_s.median);
    let most = most_workers(writes);
    let many = rates(writes, most, is_defaults);
    let few_workers = fewest_workers(writes).filter(|&w| w != most);
    let few = few_workers.map_or_else(Vec::new, |w| rates(writes, w, is_defaults));
    let top = many.iter().chain(&few).copied().fold(f64::NAN, f64::max);
    let slower = !few.is_empty()
        && many.iter().copied().fold(f64::NAN, f64::max)
            < few.iter().copied().fold(f64::NAN, f64::min);
    let title = match alone {
        Some(a) if top <= 1.1 * a && slower => {
            "Concurrency does not make SQLite write faster, and more writers make it slower."
        }
        Some(a) if top <= 1.1 * a => "Concurrency does not make SQLite write faster.",
        _ => "Concurrent writers take turns at one lock.",
    };
    let mut line = format!(
        "**{title}** One writer at a time holds the lock, and each commit waits for its own sync \
         to disk. One connection alone writes {}",
        rate(&alone.into_iter().collect::<Vec<_>>())
    );
    if let Some(w) = few_workers {
        let _ = write!(
            line,
            "; {w} workers on their own connections, {}",
            rate(&few)
        );
    }
    let _ = write!(line, "; {most} workers, {}.", rate(&many));
    line
}

fn one_writer(writes: &Writes) -> String {
    let most = most_workers(writes);
    let single = rates(writes, most, is_single);
    let ratios: Vec<f64> = writes
        .cases
        .iter()
        .filter(|c| c.workers == most && is_single(c))
        .filter_map(|s| {
            let shared = find(writes, &s.program, most, is_defaults)?;
            Some(s.rows_per_s.median / shared.rows_per_s.median)
        })
        .collect();
    let title = if !ratios.is_empty() && ratios.iter().all(|&r| r > 1.2) {
        "One writer that batches writes faster."
    } else {
        "One writer that batches, in this run."
    };
    let mut line = format!(
        "**{title}** With `--writer single` the workers hand \
         their rows to one connection, which commits everything queued in one transaction: at \
         {most} workers, {}, {} times the {most} shared writers",
        rate(&single),
        count(&ratios),
    );
    let threads = |w| find(writes, THREADING, w, is_single).map(|c| c.rows_per_s.median);
    if let Some(few) = fewest_workers(writes).filter(|&w| w != most)
        && let (Some(at_few), Some(at_most)) = (threads(few), threads(most))
    {
        let grows = at_most > 1.2 * at_few;
        let _ = write!(
            line,
            "; on the hand-written threads, {:.1} times its own figure at {few} workers ({}){}",
            at_most / at_few,
            rate(&[at_few]),
            if grows {
                ", because more rows wait for each commit (the report's notes count them)"
            } else {
                ""
            }
        );
    }
    let slowest = writes
        .cases
        .iter()
        .filter(|c| c.workers == most && is_single(c))
        .min_by(|a, b| a.rows_per_s.median.total_cmp(&b.rows_per_s.median));
    if let Some(s) = slowest {
        let _ = write!(line, ". Slowest of the single writers: {}", s.method);
        if s.program == PROCESSES {
            line.push_str(", as each row crosses two sockets");
        }
    }
    line.push('.');
    line
}

fn dearer_commits(writes: &Writes) -> String {
    let normal = |single: bool| {
        writes.cases.iter().find(|c| {
            c.settings.0.synchronous == "normal" && (c.settings.0.writer == "single") == single
        })
    };
    let (Some(shared_normal), Some(single_normal)) = (normal(false), normal(true)) else {
        return "**Batching wins more as commits get dearer.** `--synchronous normal` makes a WAL \
                commit skip its sync; this run did not measure it: compare `threading_executor \
                --workload writes --workers 16 --writer single` with and without \
                `--synchronous normal`, and the same without `--writer single`."
            .to_string();
    };
    let workers = shared_normal.workers;
    let program = &shared_normal.program;
    let full = |pick: fn(&WritesCase) -> bool| {
        find(writes, program, workers, pick).map(|c| c.rows_per_s.median)
    };
    let (Some(shared_full), Some(single_full)) = (full(is_defaults), full(is_single)) else {
        return "**Batching and the sync:** the `--synchronous full` cells to compare with are \
                not in this run."
            .to_string();
    };
    let (shared_normal, single_normal) = (
        shared_normal.rows_per_s.median,
        single_normal.rows_per_s.median,
    );
    let (win_full, win_normal) = (single_full / shared_full, single_normal / shared_normal);
    let title = if win_full > win_normal {
        "And more so as commits get dearer."
    } else {
        "Batching and the cost of a commit."
    };
    format!(
        "**{title}** `--synchronous normal` makes a WAL commit skip its sync. On {} at \
         {workers} workers the shared writers go from {} to {} and the single writer from {} \
         to {}: batching wins {win_full:.1}x when each commit costs a sync, {win_normal:.1}x \
         when it does not.",
        shared_full_method(writes, program),
        rate(&[shared_full]),
        rate(&[shared_normal]),
        rate(&[single_full]),
        rate(&[single_normal]),
    )
}

fn shared_full_method(writes: &Writes, program: &str) -> String {
    writes
        .cases
        .iter()
        .find(|c| c.program == program)
        .map_or_else(|| program.to_string(), |c| c.method.clone())
}

fn traps(writes: &Writes) -> String {
    let failed = |pick: fn(&WritesCase) -> bool| -> Vec<f64> {
        writes
            .cases
            .iter()
            .filter(|c| pick(c))
            .map(|c| c.failed.median)
            .collect()
    };
    let no_timeout = failed(|c| c.settings.0.busy_timeout_ms == 0);
    let deferred = failed(|c| c.settings.0.begin == "deferred");
    let tasks = writes.cases.first().map_or(0, |c| c.tasks);
    let mut line = format!(
        "**Always set `busy_timeout`, and start write transactions with `BEGIN IMMEDIATE`.** \
         With a busy timeout of 0, {} of the {} writes failed with \"database is locked\". With \
         `BEGIN DEFERRED` and a transaction that reads before it writes, {} failed *despite* a \
         busy timeout: a read transaction that tries to become a write transaction after another \
         writer has committed gets `SQLITE_BUSY` at once, without waiting.",
        count(&no_timeout),
        thousands(tasks as f64),
        count(&deferred),
    );
    let wrong: Vec<String> = writes
        .cases
        .iter()
        .filter(|c| !c.consistent)
        .map(|c| {
            format!(
                "{} on {} workers ({})",
                c.method,
                c.workers,
                c.settings.title()
            )
        })
        .collect();
    if wrong.is_empty() {
        line.push_str(
            " Every failure was reported, and none was lost: every cell's rows in the database \
             equal the rows its ok tasks reported (✓).",
        );
    } else {
        let _ = write!(
            line,
            " The database disagrees with the rows the ok tasks reported in {} (✗ in the table): \
             that is a bug, and the table gives both counts.",
            wrong.join(", ")
        );
    }
    line
}

fn readers(writes: &Writes) -> String {
    let r = &writes.reads_during_writes;
    let ms = |v: f64| format!("{v:.1} ms");
    let title = if r.ratio < NOT_SLOWED {
        "In WAL mode, readers are not blocked by the writer."
    } else {
        "Readers beside a writer took longer in this run."
    };
    let overlap = if r.overlapped == r.queries {
        "each query read its snapshot while a write was in flight".to_string()
    } else {
        format!(
            "only {} of the {} queries overlapped a write",
            r.overlapped, r.queries
        )
    };
    format!(
        "**{title}** The `io` workload's {} queries spent {} in SQL beside {} writes on the same \
         pool, against {} alone ({:.2}x): {overlap}.",
        r.queries,
        ms(r.during_writes_sql_ms.median),
        thousands(r.writes as f64),
        ms(r.alone_sql_ms.median),
        r.ratio,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-made reports of `tests/writes` (see the writes module's tests): 4 workers on
    /// the hand-written threads, 8 rows/s with the defaults, 40 with a single writer, 4 rows/s
    /// alone; no `--synchronous normal` runs.
    fn fixture() -> Writes {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writes");
        crate::writes::collate(&dir, 1).expect("the fixture collates")
    }

    #[test]
    fn the_lessons_quote_the_writes_figures() {
        let md = markdown(&fixture());
        assert!(md.contains("One connection alone writes 4 rows/s"), "{md}");
        assert!(
            md.contains("at 4 workers, 40 rows/s, 5 times the 4 shared writers"),
            "{md}"
        );
        assert!(
            md.contains("With a busy timeout of 0, 2 of the 4 writes failed"),
            "{md}"
        );
        assert!(md.contains("spent 45.0 ms in SQL beside 2 writes"), "{md}");
    }

    #[test]
    fn the_wording_follows_the_figures() {
        let md = markdown(&fixture());
        // 4 workers write 8 rows/s where one connection writes 4: faster, so the page must not
        // say that concurrency does not make SQLite write faster.
        assert!(!md.contains("does not make SQLite write faster"), "{md}");
        assert!(
            md.contains("Concurrent writers take turns at one lock."),
            "{md}"
        );
        // The fixture's reads took 1.5 times as long beside the writes.
        assert!(
            md.contains("Readers beside a writer took longer in this run."),
            "{md}"
        );
        // Its busy-timeout-0 cell disagrees with its ok tasks.
        assert!(md.contains("(✗ in the table)"), "{md}");
        // No `--synchronous normal` runs: the lesson gives the command instead of figures.
        assert!(md.contains("this run did not measure it"), "{md}");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(2252.4), "2,252");
        assert_eq!(thousands(19692.0), "19,692");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(rate(&[2252.0, 2392.0]), "2,252–2,392 rows/s");
    }
}

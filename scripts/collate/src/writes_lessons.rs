//! `writes-lessons.md`: what the writes table teaches, in this run's figures: more writers do
//! not write faster; one writer that batches does, the more when a commit costs a sync to disk;
//! a busy timeout and `BEGIN IMMEDIATE`, and no failed write lost; readers beside a writer in
//! WAL. Each lesson's wording follows the figures: a run that shows otherwise says so.

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::writes::{Settings, Writes, WritesCase};
use crate::format::{NOT_MEASURED, render, thousands};
use crate::model::programs::{PROCESSES, SEQUENTIAL, THREADING};
use crate::model::{either, high, low};

/// Readers whose SQL took less than this many times as long beside a writer are within the
/// noise of a few milliseconds of SQL.
const NOT_SLOWED: f64 = 1.25;

/// `1,951–1,999`, the counts given, or one (`0` for none).
pub fn count(values: &[f64]) -> String {
    let [lo, hi] = [low(values), high(values)].map(|v| thousands(v.unwrap_or(0.0)));
    if lo == hi { lo } else { format!("{lo}–{hi}") }
}

/// `2,252–2,392 rows/s` over the medians given, or one figure.
pub fn rate(values: &[f64]) -> String {
    let rate = format!("{} rows/s", count(values));
    either(values.is_empty(), NOT_MEASURED.to_string(), rate)
}

pub fn is_defaults(c: &WritesCase) -> bool {
    let s = &c.settings.0;
    let named = (s.writer.as_str(), s.begin.as_str(), s.synchronous.as_str());
    named == ("shared", "immediate", "full") && s.busy_timeout_ms > 0
}

pub fn is_single(c: &WritesCase) -> bool {
    c.settings.0.writer == "single" && c.settings.0.synchronous == "full"
}

/// The write traps' settings: no busy timeout, and `BEGIN DEFERRED`.
pub fn no_busy_timeout(c: &WritesCase) -> bool {
    c.settings.0.busy_timeout_ms == 0
}

pub fn deferred(c: &WritesCase) -> bool {
    c.settings.0.begin == "deferred"
}

/// A write trap as the docs show it: the hand-written threads with `pick`'s setting, on a few
/// workers (4) where the run has them, else on the most it ran; its figures as questions.md and
/// pitfalls.md quote them.
pub fn trap(writes: &Writes, pick: fn(&WritesCase) -> bool) -> Option<Value> {
    let most = writes.cases.iter().map(|c| c.workers).max()?;
    let at = |workers| find(writes, THREADING, workers, pick);
    let c = at(TRAP_WORKERS).or_else(|| at(most))?;
    let (failed, rows) = (count(&c.failed.values), count(&c.rows_in_db_after.values));
    let (tasks, workers, consistent) = (c.tasks, c.workers, c.consistent);
    Some(context! { failed, rows, tasks, workers, consistent })
}

/// The few workers a write trap is shown on.
pub const TRAP_WORKERS: usize = 4;

pub fn find<'a>(
    writes: &'a Writes,
    program: &str,
    workers: usize,
    pick: impl Fn(&WritesCase) -> bool,
) -> Option<&'a WritesCase> {
    let found = |c: &&WritesCase| c.program == program && c.workers == workers && pick(c);
    writes.cases.iter().find(found)
}

/// The medians of rows per second of the cases that `pick` keeps, on `workers` workers, the
/// sequential baseline left out.
fn rates(writes: &Writes, workers: usize, pick: fn(&WritesCase) -> bool) -> Vec<f64> {
    let kept = |c: &&WritesCase| c.program != SEQUENTIAL && c.workers == workers && pick(c);
    let cases = writes.cases.iter().filter(kept);
    cases.map(|c| c.rows_per_s.median).collect()
}

/// The fewest workers the run wrote with, the sequential baseline's one aside, where that is
/// fewer than the most; and the most (4 and 16 in a full run).
fn few_and_most(writes: &Writes) -> (Option<usize>, usize) {
    let most = writes.cases.iter().map(|c| c.workers).max().unwrap_or(0);
    let concurrent = writes.cases.iter().filter(|c| c.program != SEQUENTIAL);
    let few = concurrent.map(|c| c.workers).min();
    (few.filter(|&w| w != most), most)
}

/// The whole page (templates/writes-lessons.md): one bullet per lesson.
pub fn markdown(writes: &Writes) -> Result<String, String> {
    let reads = &writes.reads_during_writes;
    render(
        "writes-lessons.md",
        context! {
            more => more_writers(writes),
            one => one_writer(writes),
            sync => dearer_commits(writes),
            traps => traps(writes),
            reads => Serde(reads),
            within_noise => reads.ratio < NOT_SLOWED,
        },
    )
}

fn more_writers(writes: &Writes) -> Value {
    let alone = find(writes, SEQUENTIAL, 1, is_defaults).map(|c| c.rows_per_s.median);
    let (few_workers, most) = few_and_most(writes);
    let many = rates(writes, most, is_defaults);
    let few = few_workers.map_or_else(Vec::new, |w| rates(writes, w, is_defaults));
    let top = many.iter().chain(&few).copied().fold(f64::NAN, f64::max);
    // "Not faster" allows 10% for noise; NaN, with no concurrent figure, is never so.
    let not_faster = alone.is_some_and(|a| top <= 1.1 * a);
    let slower = matches!((high(&many), low(&few)), (Some(h), Some(l)) if h < l);
    context! {
        not_faster,
        slower,
        alone => rate(&alone.into_iter().collect::<Vec<_>>()),
        few => few_workers.map(|workers| context! { workers, rate => rate(&few) }),
        most,
        many => rate(&many),
    }
}

fn one_writer(writes: &Writes) -> Value {
    let (few, most) = few_and_most(writes);
    let single_at_most = |c: &&WritesCase| c.workers == most && is_single(c);
    let singles = writes.cases.iter().filter(single_at_most);
    let over_shared = |s: &WritesCase| {
        let shared = find(writes, &s.program, most, is_defaults)?;
        Some(s.rows_per_s.median / shared.rows_per_s.median)
    };
    let ratios: Vec<f64> = singles.clone().filter_map(over_shared).collect();
    let threads = |w| find(writes, THREADING, w, is_single).map(|c| c.rows_per_s.median);
    let threads = few.and_then(|few| {
        let (at_few, at_most) = (threads(few)?, threads(most)?);
        Some(context! {
            few,
            times => at_most / at_few,
            at_few => rate(&[at_few]),
            grows => at_most > 1.2 * at_few,
        })
    });
    let slowest = singles.min_by(|a, b| a.rows_per_s.median.total_cmp(&b.rows_per_s.median));
    context! {
        most,
        single => rate(&rates(writes, most, is_single)),
        ratios => count(&ratios),
        faster => !ratios.is_empty() && ratios.iter().all(|&r| r > 1.2),
        threads,
        slowest => slowest.map(|s| {
            context! { method => &s.method, sockets => s.program == PROCESSES }
        }),
    }
}

/// The `--synchronous normal` runs' rows per second, and the `full` ones' of the same program
/// and workers (none where not run); `None` when the run has no `normal` runs.
fn dearer_commits(writes: &Writes) -> Option<Value> {
    let normal = |writer: &str| {
        let is = |s: &Settings| s.0.synchronous == "normal" && s.0.writer == writer;
        writes.cases.iter().find(|c| is(&c.settings))
    };
    let (shared, single) = (normal("shared")?, normal("single")?);
    let full = |pick: fn(&WritesCase) -> bool| {
        find(writes, &shared.program, shared.workers, pick).map(|c| c.rows_per_s.median)
    };
    Some(context! {
        method => &shared.method,
        workers => shared.workers,
        shared_full => full(is_defaults),
        shared_normal => shared.rows_per_s.median,
        single_full => full(is_single),
        single_normal => single.rows_per_s.median,
    })
}

fn traps(writes: &Writes) -> Value {
    let failed = |pick: fn(&WritesCase) -> bool| {
        let cases = writes.cases.iter().filter(|c| pick(c));
        count(&cases.map(|c| c.failed.median).collect::<Vec<_>>())
    };
    let wrong: Vec<&WritesCase> = writes.cases.iter().filter(|c| !c.consistent).collect();
    context! {
        no_timeout => failed(no_busy_timeout),
        deferred => failed(deferred),
        tasks => writes.cases.first().map_or(0, |c| c.tasks),
        wrong => Serde(wrong),
    }
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
        let md = markdown(&fixture()).unwrap();
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
        let md = markdown(&fixture()).unwrap();
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

//! What a task costs: each method's `run`, timed beside the bare mechanism it is built on.
//!
//! The README's "overhead per task" column comes from one run of each program. These benchmarks
//! keep that figure measurable between changes (`cargo bench -p bench`), and put beside each
//! method its floor: the same `SELECT 1` per task, run with the primitive the method is built
//! on and nothing of ours around it. No outcomes, no deadlines, no caught panics, no connection
//! pool, no report. What a method costs above its floor is what its own machinery costs per
//! task; what the floor costs is what the mechanism itself does, and no method built on it can
//! go under that.
//!
//! Every benchmark runs the `overhead` workload: [`TASKS`] × `SELECT 1` on the fixture, with each
//! method's default worker count (the count the README's table was measured with). One sample is
//! one whole run, start-up and shut-down included, as a caller pays for them; divan prints each
//! run's time and, below it, tasks per second. With 10,000 tasks, a run's time in milliseconds
//! divided by 10 is the cost of one task in microseconds.
//!
//! There are two benchmark programs, because one of the methods forks: `benches/threads.rs`
//! (sequential, threadpool, threading, async) and `benches/processes.rs` (multiprocessing).

use std::sync::OnceLock;
use std::time::Duration;

use rusqlite::Connection;
use shared::{Database, Plan, Preset, Run, Workload};

/// Tasks in one run: the `overhead` preset's own count, so that the figures compare with the
/// README's. Fewer would let the start-up (threads, processes, connections) weigh on each task.
pub const TASKS: usize = 10_000;

/// Runs timed per benchmark. One run takes from a few to a few tens of milliseconds, so fifty
/// give a steady median and keep the whole of `cargo bench -p bench` (ten benchmarks) to about
/// fifteen seconds once built. `--sample-count N` on the command line overrides it.
pub const SAMPLES: u32 = 200;

/// The `overhead` workload on the fixture, with no worker count: each method uses its default.
pub fn plan() -> Plan {
    Plan {
        workload: Workload::preset(Preset::Overhead, Some(TASKS)),
        database: fixture(),
        workers: None,
        timeout: Duration::from_secs(10),
    }
}

/// The fixture, built on first use (about 2 s, once per machine) and found after that.
pub fn fixture() -> Database {
    static FIXTURE: OnceLock<Database> = OnceLock::new();
    FIXTURE
        .get_or_init(|| Database::prepare(None, false).unwrap_or_else(|e| panic!("fixture: {e}")))
        .clone()
}

/// One task of a bare mechanism: the `SELECT 1` every method runs, and its answer.
///
/// The statement is prepared once per connection and cached, as the methods' statements are
/// (`Database::open` sets the cache up). A failure panics: a benchmark whose query fails has
/// nothing to measure, and should stop and say why.
pub fn select_1(conn: &Connection) -> u64 {
    conn.prepare_cached("SELECT 1")
        .and_then(|mut statement| statement.query_row([], |row| row.get::<_, u32>(0)))
        .map(u64::from)
        .unwrap_or_else(|e| panic!("SELECT 1: {e}"))
}

/// Checks a method's run: every task there, and ok. A run that failed some of its tasks would
/// time the failures, not the method. (The check is a pass over 10,000 outcomes: microseconds,
/// in a run of milliseconds.)
pub fn assert_all_ok(run: shared::Result<Run>) -> Run {
    let run = run.unwrap_or_else(|e| panic!("the method failed to run: {e}"));
    let ok = run.outcomes.iter().filter(|o| o.status.is_ok()).count();
    assert_eq!(ok, TASKS, "tasks ok, of {TASKS}");
    run
}

/// Checks a bare mechanism's run: each task answered `1` exactly once, so the answers add up to
/// the number of tasks.
pub fn assert_all_answered(answers: u64) {
    assert_eq!(answers, TASKS as u64, "SELECT 1 answers, added up");
}

/// The cores this machine has: the worker count of the methods whose default is one per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

//! `pitfalls.md`: the tables of PITFALLS.md, each pitfall with this run's figure.
//!
//! PITFALLS.md keeps its introduction by hand and takes this page between its
//! `<!-- pitfalls:begin -->` and `<!-- pitfalls:end -->` lines. What a pitfall is, what Rust
//! does about it and how to see it does not change from run to run, and is written here once;
//! the last column does change, and is read from the run: a figure from the table, the writes
//! or the faults injected on purpose (`<raw>/faults`), or, where the run did not measure it,
//! the command to run instead. An outcome that is the same on every machine (a compile error,
//! "every worker leaves") is written as it is.

use std::fmt::Write as _;

use super::faults::{Fault, Faults};
use super::figures::{Figures, one, span};
use super::mix::Mix;
use super::start::{self, Start};
use super::writes::{Writes, WritesCase};
use super::writes_lessons::{count, find, is_defaults, is_single, rate};
use crate::Comparison;
use crate::format::thousands;

const THREADPOOL: &str = "threadpool_executor";
const ASYNC: &str = "async_executor";
const PROCESSES: &str = "multiprocessing_executor";
const THREADING: &str = "threading_executor";

/// Where the run did not measure a figure: the command in the row's "shown by" gives it.
const RUN_IT: &str = "not in this comparison: run the command";

/// A row: the pitfall, what Rust does, how to see it, and the figure.
struct Row(&'static str, &'static str, &'static str, String);

fn table(md: &mut String, heading: &str, intro: Option<&str>, rows: Vec<Row>) {
    let _ = writeln!(md, "### {heading}\n");
    if let Some(intro) = intro {
        let _ = writeln!(md, "{intro}\n");
    }
    md.push_str("| pitfall | in Rust | shown by | figure in this run |\n|---|---|---|---|\n");
    for Row(pitfall, rust, shown, figure) in rows {
        let _ = writeln!(md, "| {pitfall} | {rust} | {shown} | {figure} |");
    }
    md.push('\n');
}

/// `task 1 failed (“no such table: …”), task 3 timed_out; 7 ok`, with the wall time when asked.
fn outcome(fault: Option<&Fault>, wall: bool) -> String {
    let Some(fault) = fault else {
        return RUN_IT.to_string();
    };
    let mut parts: Vec<String> = fault
        .not_ok
        .iter()
        .map(|t| match &t.error {
            Some(e) if t.status == "failed" => format!("task {} `failed` (“{e}”)", t.id),
            _ => format!("task {} `{}`", t.id, t.status),
        })
        .collect();
    parts.push(format!("{} ok", thousands(fault.counts.ok as f64)));
    let mut text = parts.join(", ");
    if wall {
        let _ = write!(
            text,
            "; wall {} with a {} s timeout",
            fault.wall_s.show(2, " s"),
            fault.timeout_s
        );
    }
    if fault.wall_s.values.len() > 1 {
        text.push_str(if fault.same_in_every_run {
            " (the same in every run)"
        } else {
            " (the counts differed between runs: see compare.json)"
        });
    }
    text
}

fn fault<'a>(faults: Option<&'a Faults>, program: &str, case: &str) -> Option<&'a Fault> {
    faults?.get(program, case)
}

/// The whole page.
pub fn markdown(c: &Comparison) -> String {
    let f = Figures::new(&c.methods);
    let faults = c.faults.as_ref();
    let mut md = String::new();
    threadpool(&mut md, &f, faults);
    asyncio(&mut md, &f, faults);
    processes(&mut md, &f, faults, c.start.as_ref());
    threading(&mut md, &f);
    writes(&mut md, &c.writes, c.mix.as_ref(), faults);
    every(&mut md, faults);
    md
}

/// `1.73x; Python's ThreadPoolExecutor: 0.60x`, or Rust's alone.
fn with_python(rust: String, python: &str, name: &str, value: Option<String>) -> String {
    match value {
        Some(v) if !python.is_empty() => format!("{rust}; {name}: {v}"),
        _ => rust,
    }
}

fn python_speedup(f: &Figures, program: &str, case: &str) -> Option<String> {
    f.has(program)
        .then(|| one(f.speedup(program, case), 2, "x"))
}

fn memory_and_sweep(f: &Figures, program: &str, python: &str, python_name: &str) -> String {
    let mut text = format!("{} at 1,000 waits", one(f.memory_mb(program), 1, " MB"));
    if f.has(python) {
        let _ = write!(
            text,
            " ({python_name}: {})",
            one(f.memory_mb(python), 1, " MB")
        );
    }
    if let Some(w) = f.widest_sweep() {
        let _ = write!(
            text,
            "; {} of the ideal at {w} workers",
            one(f.sweep_percent(program, w), 0, "%")
        );
    }
    text
}

fn threadpool(md: &mut String, f: &Figures, faults: Option<&Faults>) {
    let panic = fault(faults, THREADPOOL, "panic").map_or(RUN_IT.to_string(), |p| {
        format!(
            "a bare job: SIGABRT; with `catch_panic`: {}",
            outcome(Some(p), false)
        )
    });
    table(
        md,
        "ThreadPoolExecutor (`threadpool_executor`)",
        None,
        vec![
            Row(
                "An exception raised in a task is lost unless someone calls `future.result()`",
                "shown: a task's error is data in its outcome, never lost or raised",
                "`cargo run --release -p threadpool_executor -- --inject error@1`",
                outcome(fault(faults, THREADPOOL, "error"), false) + ", exit 1",
            ),
            Row(
                "A crash in a worker brings the pool down",
                "shown, and worse than Python: a panic escaping a job `spawn`ed into a rayon pool *aborts the whole process*, so every task runs under `catch_panic`",
                "test `a_panic_in_a_bare_rayon_job_aborts_the_whole_process`; `--inject panic@2`",
                panic,
            ),
            Row(
                "CPU-bound work does not speed up: the GIL lets one thread run Python at a time",
                "prevented by design: there is no GIL, threads run in parallel",
                "`threadpool_executor --workload cpu --workers 2`, `--workload fetch`",
                with_python(
                    format!(
                        "cpu {}, fetch {} on 2 workers",
                        one(f.speedup(THREADPOOL, "cpu2"), 2, "x"),
                        one(f.speedup(THREADPOOL, "fetch2"), 2, "x")
                    ),
                    "python-threadpool",
                    "Python's ThreadPoolExecutor on the same fetch tasks",
                    python_speedup(f, "python-threadpool", "fetch2"),
                ),
            ),
            Row(
                "Too many threads cost memory and switching",
                "measured",
                "`threadpool_executor --workload scale --workers 1000`",
                memory_and_sweep(f, THREADPOOL, "python-threadpool", "Python's pool"),
            ),
            Row(
                "Submitting every task at once (`executor.submit` in a loop) keeps every task waiting in memory",
                "shown, and avoided: the pool is handed tasks a window at a time, not all at once",
                "`command time -f %M target/release/threadpool_executor --workload overhead --tasks 1000000 --no-baseline --json > /dev/null`",
                format!("{RUN_IT} (peak memory in KiB)"),
            ),
            Row(
                "Sharing one SQLite connection between threads (`check_same_thread=False` and hope)",
                "prevented: `Connection` is `Send` but not `Sync`",
                "`compile_fail` doc-test in `shared/src/pitfalls.rs`",
                "E0277 \"`RefCell<InnerConnection>` cannot be shared between threads safely\""
                    .to_string(),
            ),
        ],
    );
}

fn asyncio(md: &mut String, f: &Figures, faults: Option<&Faults>) {
    let blocking = match f.speedup(ASYNC, "blocking") {
        Some(b) => format!(
            "io {b:.2}x with `--blocking`, {} without",
            one(f.speedup(ASYNC, "iobest"), 2, "x")
        ),
        None => RUN_IT.to_string(),
    };
    let hang = fault(faults, ASYNC, "all").map_or(RUN_IT.to_string(), |a| {
        format!(
            "the hang is `timed_out` and the run ends after {} with a {} s timeout",
            a.wall_s.show(2, " s"),
            a.timeout_s
        )
    });
    table(
        md,
        "asyncio (`async_executor`)",
        None,
        vec![
            Row(
                "\"Blocking calls will freeze the entire event loop\"",
                "shown: the same mistake compiles and freezes the loop",
                "`cargo run --release -p async_executor -- --blocking`, test `blocking_calls_make_the_waits_run_one_after_another`",
                blocking,
            ),
            Row(
                "`sqlite3` is blocking: it must go to a thread (`run_in_executor`)",
                "shown: SQL runs on tokio-rusqlite connections, each a thread of its own; the event loop only waits",
                "`async_executor --workload cpu --workers 2 --connections 1` against `--connections 2`",
                format!(
                    "the connection threads, not the loop, set the CPU parallelism: cpu {} on 2 workers with the default connections",
                    one(f.speedup(ASYNC, "cpu2"), 2, "x")
                ),
            ),
            Row(
                "A coroutine called but never awaited never runs",
                "prevented: futures are `#[must_use]`, and `-D warnings` makes a dropped one an error",
                "`compile_fail` doc-test in `shared/src/pitfalls.rs`",
                "\"unused implementer of `Future` that must be used\"".to_string(),
            ),
            Row(
                "`gather` without `return_exceptions=True`: the first exception loses the other results",
                "shown: the `JoinSet` gathers every outcome, failures included",
                "`async_executor --timeout 1 --inject error@1 --inject panic@2 --inject hang@3`",
                outcome(fault(faults, ASYNC, "all"), false) + "; every task reported",
            ),
            Row(
                "`wait_for` cancels the waiting, not the query running in a thread",
                "shown: `tokio::time::timeout` only stops the waiting; SQLite's progress handler stops the query at the same deadline, on its own thread",
                "test `a_hang_is_stopped_at_its_timeout` (every program); the command above",
                hang,
            ),
            Row(
                "Not ideal for CPU-bound work",
                "measured: true of the event loop (one thread), not of the program, whose SQL and row work run on the connections' threads",
                "`async_executor --workload fetch --workers 2`",
                with_python(
                    format!("fetch {}", one(f.speedup(ASYNC, "fetch2"), 2, "x")),
                    "python-asyncio",
                    "Python's asyncio, whose row work runs on the loop",
                    python_speedup(f, "python-asyncio", "fetch2"),
                ),
            ),
            Row(
                "`gather` of a million coroutines keeps a million tasks in memory at once",
                "shown, and bounded: a limited number of tasks is in flight at once unless `--workers` says otherwise",
                "`command time -f %M target/release/async_executor --workload overhead --tasks 1000000 --no-baseline --json > /dev/null`",
                format!("{RUN_IT} (peak memory in KiB)"),
            ),
        ],
    );
}

/// Python's `multiprocessing` in the comparison's rows.
const PY_PROCESSES: &str = "python-multiprocessing";

/// Adds "; LABEL: FIGURE" to a cell when the run measured Python's processes beside Rust's.
fn python_processes_too(cell: &mut String, f: &Figures, label: &str, figure: String) {
    if f.has(PY_PROCESSES) {
        let _ = write!(cell, "; {label}: {figure}");
    }
}

fn processes(md: &mut String, f: &Figures, faults: Option<&Faults>, start: Option<&Start>) {
    let mut startup = format!(
        "4 workers ready in {}, each opening its connection at its first query",
        one(f.startup_ms(PROCESSES), 2, " ms")
    );
    python_processes_too(
        &mut startup,
        f,
        "Python's `Pool(4)` on the same machine",
        one(f.startup_ms(PY_PROCESSES), 2, " ms"),
    );
    let threads: Vec<Option<f64>> = [THREADPOOL, ASYNC, THREADING]
        .iter()
        .map(|p| f.memory_mb(p))
        .collect();
    let mut memory = format!(
        "{} for 1,000 waits (the parent and the children's `Pss`), against {} in one process",
        one(f.memory_mb(PROCESSES), 1, " MB"),
        span(&threads, 1, " MB"),
    );
    let waits = f
        .case(PY_PROCESSES, "scale")
        .map(|c| c.tasks)
        .filter(|&n| n != 1000)
        .map_or(String::new(), |n| format!(" (at {n} waits)"));
    python_processes_too(
        &mut memory,
        f,
        "Python's processes",
        format!("{}{waits}", one(f.memory_mb(PY_PROCESSES), 1, " MB")),
    );
    let mut overhead = format!(
        "{} per task (10,000 × `SELECT 1`)",
        one(f.per_task_us(PROCESSES), 1, " µs")
    );
    python_processes_too(
        &mut overhead,
        f,
        "Python's `Pool`",
        one(f.per_task_us(PY_PROCESSES), 0, " µs"),
    );
    let hang = fault(faults, PROCESSES, "hang").map_or(RUN_IT.to_string(), |h| {
        format!(
            "{}; its worker killed and a new one forked",
            outcome(Some(h), false)
        )
    });
    table(
        md,
        "multiprocessing.Pool (`multiprocessing_executor`)",
        None,
        vec![
            Row(
                "\"Data must be picklable\"",
                "prevented: a job or result that crosses a pipe must implement `Serialize`, or the frame is not built",
                "`compile_fail` doc-test in `multiprocessing_executor`",
                "E0277 \"the trait bound `…: Serialize` is not satisfied\"".to_string(),
            ),
            Row(
                "Process startup is slow (\"~100 ms per process\")",
                "measured: `fork()` copies page tables, not memory",
                "`multiprocessing_executor --workload io` (its report's notes)",
                startup,
            ),
            Row(
                "Each process has its own memory",
                "measured: copy-on-write pages are shared, so the children's proportional share (`Pss`) is what they add",
                "`multiprocessing_executor --workload scale --workers 1000`",
                memory,
            ),
            Row(
                "A SQLite connection must not cross a `fork()`, and `fork()` with threads can deadlock the child",
                "shown: the parent forks while it has one thread and no connection, and refuses otherwise; each child opens its own connection",
                "test `a_process_with_other_threads_is_refused_rather_than_forked`",
                "the run is refused with \"… only safe in a process with one thread, and this one has 2\"".to_string(),
            ),
            Row(
                "Forking a program that already has threads or open connections (Python 3.12 warns that it may deadlock; 3.14 made `forkserver` Linux's default)",
                "shown: `--start spawn` runs the program again as each worker, and `--start forkserver` forks each from a server forked first thing: neither copies the busy program",
                "test `a_process_with_threads_cannot_fork_but_can_spawn_or_use_an_earlier_fork_server`; `multiprocessing_executor --start forkserver`",
                start::beside_threads(start).unwrap_or_else(|| RUN_IT.to_string()),
            ),
            Row(
                "A worker that crashes breaks the pool",
                "shown: the crash costs its task; the child is reaped, reported with its signal, and replaced",
                "`cargo run --release -p multiprocessing_executor -- --inject crash@3`; test `a_crashed_worker_is_replaced_and_no_task_is_lost`",
                outcome(fault(faults, PROCESSES, "crash"), false),
            ),
            Row(
                "A worker stuck past its timeout keeps its slot",
                "shown: the parent kills it (`SIGKILL` stops anything) and forks a replacement",
                "test `a_task_past_its_timeout_has_its_worker_killed_and_replaced`; `multiprocessing_executor --timeout 1 --inject hang@3`",
                hang,
            ),
            Row(
                "Not ideal for small tasks: the per-task cost of pickling and pipes",
                "measured",
                "`multiprocessing_executor --workload overhead --no-baseline`",
                overhead,
            ),
        ],
    );
}

fn threading(md: &mut String, f: &Figures) {
    table(
        md,
        "Manual threading with `queue.Queue` (`threading_executor`)",
        None,
        vec![
            Row(
                "Race conditions: shared state changed without a lock",
                "prevented: two threads cannot hold a mutable borrow of one value",
                "`compile_fail` doc-test in `shared/src/pitfalls.rs`",
                "E0499 \"cannot borrow `done` as mutable more than once at a time\"".to_string(),
            ),
            Row(
                "Deadlocks",
                "**not prevented**: two locks taken in opposite orders compile and hang, in Rust as in Python. Avoided by design: no code holds two locks, and a worker releases the queue's lock before it runs its job",
                "test `the_queue_lock_is_not_held_while_a_job_runs`",
                "fails if a worker runs a job holding the lock".to_string(),
            ),
            Row(
                "Workers blocked on `queue.get()` forever when nobody tells them to stop (no sentinel, no `join`)",
                "shown: the producer closes the queue; a worker that finds it closed and empty returns; then each is joined",
                "test `more_workers_than_tasks_wait_on_the_queue_and_leave_when_it_closes` (bounded: it fails rather than hangs)",
                "every worker leaves".to_string(),
            ),
            Row(
                "Forgetting to handle a failure inside a worker kills the thread and its queue share",
                "shown: a panic costs its task, not its worker",
                "test `a_panic_in_every_task_of_a_one_worker_pool_loses_no_task`",
                "8 panics on 1 worker: 8 `failed` outcomes".to_string(),
            ),
            Row(
                "Not ideal for thousands of threads",
                "measured",
                "`threading_executor --workload scale --workers 1000`",
                memory_and_sweep(f, THREADING, "python-threading", "Python's 1,000 threads"),
            ),
        ],
    );
}

fn writes(md: &mut String, writes: &Writes, mix: Option<&Mix>, faults: Option<&Faults>) {
    let threads =
        |workers: usize, pick: fn(&WritesCase) -> bool| find(writes, THREADING, workers, pick);
    let few = 4;
    let most = writes.cases.iter().map(|c| c.workers).max().unwrap_or(16);
    let tasks = writes.cases.first().map_or(0, |c| c.tasks);
    let failed = |case: Option<&WritesCase>| {
        case.map_or(RUN_IT.to_string(), |c| {
            format!(
                "{} of {} writes failed; {} rows in the database, as reported{}",
                count(&c.failed.values),
                thousands(c.tasks as f64),
                count(&c.rows_in_db_after.values),
                if c.consistent {
                    ""
                } else {
                    " **not** (✗: see the writes table)"
                }
            )
        })
    };
    let no_timeout = failed(
        threads(few, |c| c.settings.0.busy_timeout_ms == 0)
            .or_else(|| threads(most, |c| c.settings.0.busy_timeout_ms == 0)),
    );
    let deferred = failed(
        threads(few, |c| c.settings.0.begin == "deferred")
            .or_else(|| threads(most, |c| c.settings.0.begin == "deferred")),
    );
    let rates =
        |case: Option<&WritesCase>| case.map_or(RUN_IT.to_string(), |c| rate(&c.rows_per_s.values));
    let more = format!(
        "{few} workers: {}; {most} workers: {}",
        rates(threads(few, is_defaults)),
        rates(threads(most, is_defaults))
    );
    let single = threads(most, is_single);
    let normal = writes.cases.iter().find(|c| {
        c.program == THREADING
            && c.settings.0.writer == "single"
            && c.settings.0.synchronous == "normal"
    });
    let mut batched = format!("{} workers: {}", most, rates(single));
    if let (Some(s), Some(shared)) = (single, threads(most, is_defaults)) {
        let _ = write!(
            batched,
            ", {:.1} times the shared writers",
            s.rows_per_s.median / shared.rows_per_s.median
        );
    }
    if let Some(n) = normal {
        let _ = write!(
            batched,
            "; {} with `--synchronous normal`",
            rate(&n.rows_per_s.values)
        );
    }
    let crash = fault(faults, PROCESSES, "writes-crash").map_or(RUN_IT.to_string(), |c| {
        let rows = match (c.rows_in_db_after, c.rows_reported) {
            (Some(db), Some(reported)) if db == reported => {
                format!(
                    "; {} rows in the database, as reported",
                    thousands(db as f64)
                )
            }
            (Some(db), Some(reported)) => format!(
                "; {} rows in the database, where the ok tasks reported {}",
                thousands(db as f64),
                thousands(reported as f64)
            ),
            _ => String::new(),
        };
        format!("{}{rows}", outcome(Some(c), false))
    });
    let intro = format!(
        "SQLite lets one connection write at a time, whatever the method. These are the traps \
         that lose writes or make them slow, on `--workload writes` ({} one-row inserts in this \
         run, each in its own transaction, on a scratch copy of the fixture). Figures from \
         `threading_executor` in this run; the writes table has every method.",
        thousands(tasks as f64)
    );
    table(
        md,
        "Writes (every method; the guide's examples only read)",
        Some(&intro),
        vec![
            Row(
                "Writers with no busy timeout fail at once with \"database is locked\"",
                "shown: each is a failed task with SQLite's message, and the report counts the rows in the database on a fresh connection: they equal the rows the ok tasks report",
                "`threading_executor --workload writes --workers 4 --busy-timeout 0`; test `the_write_traps_fail_tasks_on_the_lock_and_lose_nothing`",
                no_timeout,
            ),
            Row(
                "A transaction that reads, then writes (`BEGIN DEFERRED`, SQLite's default) fails *despite* a busy timeout: once another writer has committed, its snapshot is stale, and SQLite answers `SQLITE_BUSY` without waiting",
                "shown, the same way",
                "`threading_executor --workload writes --workers 4 --begin deferred`",
                deferred,
            ),
            Row(
                "A write whose failure nobody looks at: the row is silently missing",
                "prevented: a `Result` is `#[must_use]`, and `-D warnings` makes dropping one an error",
                "`compile_fail` doc-test in `shared/src/pitfalls.rs`",
                "\"unused `Result` that must be used\"".to_string(),
            ),
            Row(
                "More threads to write faster",
                "measured: they take turns at the one write lock, and each commit pays its own sync to disk",
                "`threading_executor --workload writes --workers 4`, then `--workers 16`",
                more,
            ),
            Row(
                "(the pattern that works) one writer, fed through a channel, committing what is queued in one transaction",
                "shown: `--writer single`, in every program (in `multiprocessing_executor`, a writer process); the report notes how many rows each commit carried",
                "`threading_executor --workload writes --workers 16 --writer single`; test `one_writer_commits_the_writes_of_many_threads_in_groups`",
                batched,
            ),
            Row(
                "In an application, every worker writing on its own connection: a worker asleep in SQLite's busy handler is a worker not serving requests, and the slowest writes wait longest",
                "measured: `--workload app` (90% reads, 10% write transactions) with each worker writing, and with one writer; every report gives each kind's p50 and p99 latency",
                "`threading_executor --workload app --workers 16`, then with `--writer single`; [docs/mix.md](docs/mix.md); test `an_application_mix_records_each_write_it_reports`",
                mix_figure(mix),
            ),
            Row(
                "A crash mid-transaction leaves half a write",
                "shown not to: SQLite ignores a transaction that never committed",
                "`multiprocessing_executor --workload writes --inject crash@5` (the crash strikes after the insert, before the commit); test `with_shared_writers_a_crash_an_error_and_a_panic_cost_their_own_rows`",
                crash,
            ),
        ],
    );
}

/// The hand-written threads' tails at the most workers of the mix, each way of writing, and how
/// many methods one writer helped.
fn mix_figure(mix: Option<&Mix>) -> String {
    let Some(mix) = mix else {
        return RUN_IT.to_string();
    };
    let most = mix.cases.iter().map(|c| c.workers).max().unwrap_or(16);
    let (Some(shared), Some(single)) = (
        mix.get(THREADING, "shared", most),
        mix.get(THREADING, "single", most),
    ) else {
        return RUN_IT.to_string();
    };
    let p99 = |c: &super::mix::MixCase| c.write_p99_s.as_ref().map(|s| s.median * 1e3);
    let (Some(a), Some(b)) = (p99(shared), p99(single)) else {
        return RUN_IT.to_string();
    };
    let methods: Vec<_> = [THREADPOOL, ASYNC, PROCESSES, THREADING]
        .iter()
        .filter_map(|p| {
            Some((
                p99(mix.get(p, "shared", most)?)?,
                p99(mix.get(p, "single", most)?)?,
            ))
        })
        .collect();
    let cut = methods.iter().filter(|(a, b)| b < a).count();
    format!(
        "threading, {most} workers: the writes' p99 {a:.1} ms each writing, {b:.1} ms with one \
         writer; the reads' p99 {:.1} / {:.1} ms; one writer cut the writes' p99 under {cut} of \
         {} methods",
        shared.read_p99_s.median * 1e3,
        single.read_p99_s.median * 1e3,
        methods.len()
    )
}

fn every(md: &mut String, faults: Option<&Faults>) {
    table(
        md,
        "Every method",
        None,
        vec![
            Row(
                "\"Always implement timeout and exception handling\"",
                "shown: every program runs every task to an outcome (`ok`, `failed`, `timed_out`, or `not_run`), and exits 1 when one is not ok",
                "`--timeout 1 --inject error@1 --inject panic@2 --inject hang@3` on any program",
                fault(faults, THREADING, "all").map_or(RUN_IT.to_string(), |t| {
                    format!("threading: {}", outcome(Some(t), true))
                }),
            ),
            Row(
                "`busy_timeout` set, and opening a connection still fails with \"database is locked\": its first pragmas ran before the busy timeout was set",
                "shown, and avoided: a connection's pragmas run under rusqlite's 5 s busy timeout; the run's own `--busy-timeout` (0 allowed) is set after them",
                "test `a_connection_opens_while_another_holds_the_lock_even_with_no_busy_timeout` (it fails with the busy timeout set first); [docs/questions.md](docs/questions.md)",
                "a test: with another connection holding the lock for 300 ms, a pragma with no busy timeout fails at once, and opening waits and succeeds".to_string(),
            ),
            Row(
                "`:memory:` behind a pool: each connection opens its own empty database, and a table made on one is missing on the next (\"no such table\")",
                "shown, and refused: `--db :memory:` exits 2 and says why; a file (in /dev/shm or a tmpfs to stay in memory) is one database for every connection",
                "`threading_executor --db :memory:`; test `an_in_memory_database_is_refused_since_each_connection_would_get_its_own`",
                "exit 2, \"an in-memory database is private to the connection that opens it\" (the same on every machine)".to_string(),
            ),
            Row(
                "\"Use logging: track what's happening across workers\"",
                "shown: structured `tracing` events, with a `worker` and a `task` field, off unless asked",
                "`RUST_LOG=debug cargo run --release -p threading_executor`",
                "one event per task taken and per task finished, on stderr".to_string(),
            ),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> Faults {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults");
        crate::faults::collate(&dir, 1)
            .expect("the fixture collates")
            .expect("the fixture has faults")
    }

    #[test]
    fn an_injected_fault_is_shown_with_its_task_its_message_and_the_tasks_kept() {
        let faults = faults();
        let text = outcome(faults.get(THREADPOOL, "error"), false);
        assert_eq!(
            text,
            "task 1 `failed` (“no such table: injected_error_no_such_table”), 7 ok"
        );
        let all = outcome(faults.get(THREADING, "all"), true);
        assert!(
            all.contains("task 3 `timed_out`, 5 ok; wall 1.00 s with a 1 s timeout"),
            "{all}"
        );
    }

    #[test]
    fn a_fault_the_run_did_not_inject_names_the_command_instead() {
        assert_eq!(outcome(faults().get(PROCESSES, "crash"), false), RUN_IT);
        assert_eq!(outcome(None, false), RUN_IT);
    }
}

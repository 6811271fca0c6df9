//! What one task costs, piece by piece: the `SELECT 1` every benchmark runs, and each thing the
//! harness or a method adds around it, timed alone on one thread.
//!
//! `threads.rs` and `processes.rs` time whole runs; this program says where a run's time per
//! task goes. Each row is one piece, timed per call (divan picks how many calls make a sample):
//!
//! - `select_1`: the floor, a cached statement's `SELECT 1` and its answer;
//! - `task_sql`: the same `SELECT 1` as every method runs a task's SQL (`shared::execute`: its
//!   parameters bound, its deadline set, its rows walked and digested into the checksum);
//! - `harness`: a whole task as a worker runs it (`shared::catch_panic` around
//!   `shared::run_blocking`: the task's two readings of the clock, the caught panic, the
//!   attempt; the baseline's loop reads the clock once, since a task starts when the one
//!   before it ends);
//! - `outcome`: the outcome of a task recorded, as every method records each one;
//! - and the pieces alone: a reading of the clock, `catch_unwind`, the deadline set and cleared
//!   (as the harness does it) against the progress handler installed and removed (as it did it
//!   before: a boxed closure and two calls into SQLite), the `:task` slot looked for in a
//!   statement that has none (as the harness did before for every task), a message through an `mpsc` channel, and a few bytes
//!   written into a pipe and read back (what a process pays per answer when it writes each one
//!   at once).
//!
//! ```sh
//! cargo bench -p bench --bench task
//! ```
//!
//! docs/benchmarks.md puts one run's figures side by side.

use std::cell::Cell;
use std::hint::black_box;
use std::io::{Read, Write};
use std::panic;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bench::{fixture, select_1};
use divan::Bencher;
use rusqlite::Connection;
use shared::{Clock, Outcome, Outcomes, Plan, Preset, Workload};

fn main() {
    divan::main();
}

/// A connection to the fixture, opened as every method opens one.
fn connection() -> Connection {
    fixture().open().expect("a connection to the fixture")
}

/// A plan of tasks of the `overhead` preset: a `SELECT 1` each.
fn overhead(tasks: usize) -> Plan {
    Plan {
        workload: Workload::preset(Preset::Overhead, Some(tasks)),
        database: fixture(),
        workers: None,
        timeout: Duration::from_secs(10),
    }
}

#[divan::bench(sample_size = 1_000)]
fn select_1_floor(bencher: Bencher) {
    let conn = connection();
    bencher.bench_local(|| select_1(&conn));
}

#[divan::bench(sample_size = 1_000)]
fn task_sql(bencher: Bencher) {
    let (conn, plan) = (connection(), overhead(1));
    let task = &plan.workload.tasks[0];
    let deadline = Instant::now() + plan.timeout;
    bencher.bench_local(|| shared::execute(&conn, task, deadline));
}

#[divan::bench(sample_size = 1_000)]
fn harness(bencher: Bencher) {
    let (conn, plan, clock) = (connection(), overhead(1), Clock::start());
    let task = &plan.workload.tasks[0];
    bencher.bench_local(|| {
        let started = clock.now();
        shared::catch_panic(&clock, started, || {
            shared::run_blocking(&conn, task, plan.timeout, &clock, started)
        })
    });
}

#[divan::bench]
fn outcome(bencher: Bencher) {
    const TASKS: usize = 10_000;
    let (plan, clock, worker) = (overhead(TASKS), Clock::start(), Arc::from("main"));
    let attempt = shared::Attempt {
        started: clock.now(),
        sql_started: Some(clock.now()),
        finished: clock.now(),
        status: shared::Status::Ok {
            rows: 1,
            checksum: 1,
        },
    };
    // A sample records every task of a run once, as a run does; the figure is per task.
    bencher
        .counter(divan::counter::ItemsCount::new(TASKS))
        .bench_local(|| {
            let mut outcomes = Outcomes::new(&plan);
            for task in &plan.workload.tasks {
                outcomes.record(Outcome::new(task, &worker, attempt.clone()));
            }
            outcomes.finish()
        });
}

#[divan::bench]
fn clock_read() -> Instant {
    Instant::now()
}

#[divan::bench]
fn catch_unwind() -> std::thread::Result<u64> {
    panic::catch_unwind(|| black_box(1u64))
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline as the harness sets it now: a thread-local, read by the progress handler the
/// connection was given once, when it opened.
#[divan::bench]
fn deadline_set_and_cleared(bencher: Bencher) {
    let deadline = Instant::now() + Duration::from_secs(10);
    bencher.bench_local(|| {
        let outer = DEADLINE.replace(black_box(Some(deadline)));
        DEADLINE.set(black_box(outer));
    });
}

/// The deadline as the harness set it before: the progress handler installed around each task
/// with the deadline in its closure, and removed after.
#[divan::bench]
fn progress_handler_per_task(bencher: Bencher) {
    let conn = connection();
    let deadline = Instant::now() + Duration::from_secs(10);
    bencher.bench_local(|| {
        conn.progress_handler(2_000, Some(move || Instant::now() >= deadline))
            .expect("installed");
        conn.progress_handler(0, None::<fn() -> bool>)
            .expect("removed");
    });
}

/// How the harness looked for a `:task` slot in every statement before: rusqlite's
/// `parameter_index`, which on a statement with no slots (a `SELECT 1`) caches nothing and asks
/// SQLite again each time. Now a statement with no slots is not asked at all.
#[divan::bench]
fn task_slot_in_select_1(bencher: Bencher) {
    let conn = connection();
    let statement = conn.prepare("SELECT 1").expect("prepared");
    bencher.bench_local(|| statement.parameter_index(":task"));
}

#[divan::bench]
fn channel_send_and_receive(bencher: Bencher) {
    let (sender, receiver) = mpsc::channel::<u64>();
    bencher.bench_local(|| {
        sender.send(black_box(1)).expect("sent");
        receiver.recv().expect("received")
    });
}

#[divan::bench]
fn pipe_write_and_read(bencher: Bencher) {
    let (output, input) = std::io::pipe().expect("a pipe");
    let (mut output, mut input) = (output, input);
    let mut answer = [0u8; 24];
    bencher.bench_local(|| {
        input.write_all(black_box(&[7u8; 24])).expect("written");
        output.read_exact(&mut answer).expect("read");
    });
}

//! `--writer lock` and `--hold-ms` under async: writes take their turn at a tokio lock, and a
//! held transaction awaits on the loop between two steps on one connection. Every write that
//! ends ok is in the database and no other, faults and timeouts included; a hold keeps every
//! other writer waiting; and a hold on the only connection still lets the run finish.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use async_executor::{Options, SqlOn};
use shared::conformance::{BOUND, json_report, within, writing_plan};
use shared::{
    Fault, Plan, Run, Status, Workload, WriteSettings, WriterKind, quiet_injected_panics,
};

/// The write settings for `writer`, each transaction waiting `hold_ms` inside itself.
fn settings(writer: WriterKind, hold_ms: u64) -> WriteSettings {
    WriteSettings {
        writer,
        hold: Duration::from_millis(hold_ms),
        ..WriteSettings::default()
    }
}

/// The `app` preset with half its requests writing, `tasks` long, 8 in flight, with these
/// faults, on a scratch copy.
fn app_plan(tasks: usize, settings: WriteSettings, faults: &[(Fault, usize)]) -> Plan {
    writing_plan(Workload::app(50, Some(tasks)), 8, settings, faults)
}

/// Every task of the run ended ok.
fn assert_all_ok(run: &Run, case: &str) {
    for o in &run.outcomes {
        assert!(
            o.status.is_ok(),
            "{case}: task {} is {:?}",
            o.task,
            o.status
        );
    }
}

/// The ids of the plan's tasks that write, in order.
fn write_tasks(plan: &Plan) -> Vec<usize> {
    let tasks = plan.workload.tasks.iter();
    tasks.filter(|t| t.query.writes).map(|t| t.id).collect()
}

fn run(plan: &Plan, sql_on: SqlOn, connections: usize) -> Run {
    quiet_injected_panics();
    let options = Options {
        sql_on,
        connections,
        ..Options::default()
    };
    within(BOUND, "async_executor::run", || {
        async_executor::run(plan, &options).unwrap_or_else(|e| panic!("the run failed: {e}"))
    })
}

fn status(run: &Run, task: usize) -> &Status {
    let outcome = run.outcomes.iter().find(|o| o.task == task);
    &outcome
        .unwrap_or_else(|| panic!("no outcome for task {task}"))
        .status
}

/// The write tasks recorded in the database are exactly those that ended ok, and no order was
/// left half placed: every new order is one an ok task placed. Returns how many ended ok.
fn assert_the_database_agrees(plan: &Plan, run: &Run, case: &str) -> usize {
    let writes = write_tasks(plan);
    let ok: Vec<usize> = run
        .outcomes
        .iter()
        .filter(|o| o.status.is_ok() && writes.contains(&o.task))
        .map(|o| o.task)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let recorded = plan.database.tasks_recorded().expect("the table is read");
    assert_eq!(recorded, ok, "{case}: recorded against ended ok");
    let placed = ok
        .iter()
        .filter(|&&id| plan.workload.tasks[id - 1].name() == "write_place_order")
        .count();
    let orders: usize = plan
        .database
        .open()
        .and_then(|c| {
            c.query_row(
                "SELECT count(*) FROM orders WHERE status = 'new'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| shared::Error::system(e.to_string()))
        })
        .expect("the orders are counted") as usize;
    assert_eq!(
        orders, placed,
        "{case}: new orders against orders placed ok"
    );
    ok.len()
}

/// The writers and holds under test, each on both ways of running the SQL.
const CASES: [(WriterKind, u64); 3] = [
    (WriterKind::Lock, 0),
    (WriterKind::Lock, 5),
    (WriterKind::Shared, 5),
];
const SQL_ON: [SqlOn; 2] = [SqlOn::Connections, SqlOn::SpawnBlocking];

#[test]
fn every_write_that_ends_ok_is_recorded_and_no_other() {
    for (writer, hold) in CASES {
        for sql_on in SQL_ON {
            let case = format!("{writer:?}, hold {hold} ms, {sql_on:?}");
            let plan = app_plan(60, settings(writer, hold), &[]);
            let run = run(&plan, sql_on, 4);
            assert_all_ok(&run, &case);
            assert_eq!(
                assert_the_database_agrees(&plan, &run, &case),
                write_tasks(&plan).len()
            );
        }
    }
}

#[test]
fn an_error_and_a_panic_in_a_write_fail_their_own_task_and_leave_nothing_half_written() {
    for (writer, hold) in CASES {
        for sql_on in SQL_ON {
            let case = format!("{writer:?}, hold {hold} ms, {sql_on:?}");
            // The first write places an order, the second changes a price: one fails on its
            // first statement, the other panics after its last, before the commit.
            let probe = app_plan(60, settings(writer, hold), &[]);
            let writes = write_tasks(&probe);
            let (error, panic) = (writes[0], writes[1]);
            let plan = app_plan(
                60,
                settings(writer, hold),
                &[(Fault::Error, error), (Fault::Panic, panic)],
            );
            let run = run(&plan, sql_on, 4);
            assert!(
                matches!(status(&run, error), Status::Failed(m) if m.contains("no such table")),
                "{case}: task {error} is {:?}",
                status(&run, error)
            );
            assert!(
                matches!(status(&run, panic), Status::Failed(m) if m.contains("panic")),
                "{case}: task {panic} is {:?}",
                status(&run, panic)
            );
            for o in run
                .outcomes
                .iter()
                .filter(|o| ![error, panic].contains(&o.task))
            {
                assert!(
                    o.status.is_ok(),
                    "{case}: task {} is {:?}",
                    o.task,
                    o.status
                );
            }
            let ok = assert_the_database_agrees(&plan, &run, &case);
            assert_eq!(ok, writes.len() - 2, "{case}");
        }
    }
}

#[test]
fn a_write_that_hangs_is_stopped_at_its_timeout_and_the_database_agrees() {
    for (writer, hold) in CASES {
        for sql_on in SQL_ON {
            let case = format!("{writer:?}, hold {hold} ms, {sql_on:?}");
            let probe = app_plan(60, settings(writer, hold), &[]);
            let hang = write_tasks(&probe)[2];
            let mut plan = app_plan(60, settings(writer, hold), &[(Fault::Hang, hang)]);
            plan.timeout = Duration::from_secs(1);
            let run = run(&plan, sql_on, 4);
            assert_eq!(status(&run, hang), &Status::TimedOut, "{case}");
            // The hang holds the write lock until its timeout: a write waiting behind it may
            // reach its own timeout first (and, with `shared`, a read may wait behind the
            // writers asleep on the connections). Nothing else may go wrong.
            for o in &run.outcomes {
                assert!(
                    o.status.is_ok() || o.status == Status::TimedOut,
                    "{case}: task {} is {:?}",
                    o.task,
                    o.status
                );
            }
            assert_the_database_agrees(&plan, &run, &case);
        }
    }
}

#[test]
fn a_hold_on_the_only_connection_still_lets_every_task_finish() {
    // With one connection, the write holding it keeps it from every other task for its hold;
    // tasks waiting for the lock hold no connection, so the holder always gets its second step
    // through.
    for (writer, hold) in CASES {
        for sql_on in SQL_ON {
            let case = format!("{writer:?}, hold {hold} ms, {sql_on:?}, one connection");
            let plan = app_plan(40, settings(writer, hold), &[]);
            let run = run(&plan, sql_on, 1);
            assert_all_ok(&run, &case);
            assert_the_database_agrees(&plan, &run, &case);
        }
    }
}

#[test]
fn the_program_with_the_lock_and_a_hold_reports_what_the_database_holds() {
    let out = within(BOUND, "async_executor --writer lock --hold-ms 5", || {
        Command::new(env!("CARGO_BIN_EXE_async_executor"))
            .args(["--workload", "app", "--write-share", "50"])
            .args(["--writer", "lock", "--hold-ms", "5"])
            .args(["--tasks", "60", "--workers", "8", "--json", "--no-baseline"])
            .env("NO_COLOR", "1")
            .output()
            .expect("the program runs")
    });
    let report = json_report(&out);
    let tasks = report["tasks"].as_array().expect("tasks");
    let writes_ok = tasks
        .iter()
        .filter(|t| t["writes"] == true && t["status"] == "ok")
        .count() as u64;
    assert_eq!(
        writes_ok, 30,
        "half of 60 requests write, and all of them end ok"
    );
    assert_eq!(report["rows_in_db_after"].as_u64(), Some(writes_ok));
}

//! The report's notes: where each part of an async run ran, in words.
//!
//! A reader of the report sees lanes named `conn-0` and `event-loop`; these notes say why the
//! waits and the SQL ran in different places. They change nothing in the run.

use shared::cli::counted;
use shared::{Plan, WriterKind};

use crate::{Options, Runtime, SqlOn};

/// The notes for a run made with these options, on this runtime, with this many connections.
pub(crate) fn of(
    plan: &Plan,
    options: &Options,
    runtime: &tokio::runtime::Runtime,
    connections: usize,
    most_threads: usize,
) -> Vec<String> {
    if options.blocking {
        return vec![
            "--blocking: every task waited with std::thread::sleep and ran its SQL on the \
             event-loop thread, as a Python coroutine calling time.sleep and sqlite3 would; the \
             loop could run nothing else meanwhile, so the waits ran one after another instead \
             of overlapping"
                .to_string(),
        ];
    }
    let loop_threads = match options.runtime {
        Runtime::Current => "1 event-loop thread (tokio current-thread, like asyncio)".to_string(),
        Runtime::Multi => counted(
            runtime.metrics().num_workers() as u64,
            "tokio worker thread",
            "tokio worker threads",
        ),
    };
    let connection_threads = counted(
        connections as u64,
        "connection thread",
        "connection threads",
    );
    let mut notes = vec![match options.sql_on {
        SqlOn::Connections => format!(
            "the waits ran on {loop_threads}; the SQL and the work on its rows on \
             {connection_threads}, because SQLite blocks the thread that runs it"
        ),
        SqlOn::SpawnBlocking => format!(
            "the waits ran on {loop_threads}; the SQL and the work on its rows on tokio's \
             blocking threads (spawn_blocking, at most {} of the runtime alive at once), each \
             query with {} lent from a pool",
            counted(most_threads as u64, "thread", "threads"),
            match connections {
                1 => "the one connection".to_string(),
                n => format!("one of {n} connections"),
            }
        ),
    }];
    let Some(writes) = plan.writes() else {
        return notes;
    };
    if writes.is_single() {
        notes.push(
            "--writer single: each write went straight to the writer's thread and was awaited \
             on the event loop, holding no connection, so every task in flight could wait at \
             the writer and a group commit could carry as many rows"
                .to_string(),
        );
    }
    if writes.settings.writer == WriterKind::Lock {
        notes.push(
            "--writer lock: each write awaited one tokio Mutex on the event loop, holding no \
             connection, and let it go once its commit was answered"
                .to_string(),
        );
    }
    if !writes.settings.hold.is_zero() && !writes.is_single() {
        notes.push(
            "--hold-ms: each write transaction awaited its hold on the event loop between its \
             first statement and the rest, on a connection kept for it, SQLite's write lock held"
                .to_string(),
        );
    }
    notes
}

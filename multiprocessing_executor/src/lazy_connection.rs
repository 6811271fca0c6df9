//! A child's connection, opened at its first query rather than at the fork: a speed-up for a
//! thousand children, which a reader learning the method can skip. A child that opened its
//! connection at once, before saying it is ready, would be just as correct.
//!
//! **What it buys, measured.** With a thousand children (`multiprocessing_executor
//! --workload scale --tasks 4000 --workers 1000 --no-baseline`), on this project's 2-core
//! machine while other programs shared it, in 9 runs alternating with a build whose children
//! open their connection before they say they are ready: every one of the 1,000 children ran a
//! task in each run opened lazily; opened at once, only 951 and 958 did in two runs of the
//! nine, the others' tasks taken by siblings ready sooner. Wall and CPU did not tell the two
//! apart: wall medians 1.29 s (1.13–2.08) lazily, 1.25 s (0.79–1.77) at once; CPU 1.43 s both.
//!
//! **Why.** Opening a connection and reading the schema costs a fresh process several times
//! what its fork costs the parent (its first page faults, the files opened and mapped, the
//! schema parsed). Opened at the fork, a thousand children spend it while the parent is still
//! forking their siblings on the same cores, so the last children are ready later, and by then
//! the first ones, done with a task, have taken the tasks meant for them. Opened at the first
//! query, after the task's wait, it is spent once most of the forking is done. The report's
//! startup per child therefore leaves the connection out, and each child's first task carries
//! it. A task whose write goes to the writer process (`--writer single`) needs no connection,
//! and a child that only ever runs those never opens one.

use std::cell::OnceCell;
use std::fs::File;
use std::io::Write;
use std::ops::Deref;

use rusqlite::Connection;
use shared::{Plan, TaskConnection};

use crate::frames::{ChildMessage, frame};

pub(crate) struct LazyConnection<'a> {
    plan: &'a Plan,
    /// Where to say why the connection cannot be opened: the child's result pipe.
    results: &'a File,
    opened: OnceCell<Connection>,
}

impl<'a> LazyConnection<'a> {
    pub fn new(plan: &'a Plan, results: &'a File) -> LazyConnection<'a> {
        LazyConnection {
            plan,
            results,
            opened: OnceCell::new(),
        }
    }

    /// The child's connection, opened on the first call (which counts as the task's wait).
    pub fn get(&self) -> Opened<'_> {
        let opened_now = self.opened.get().is_none();
        let conn = self.opened.get_or_init(|| match self.plan.database.open() {
            Ok(conn) => conn,
            Err(e) => {
                // Without a connection a child is of no use: it tells the parent why (the
                // message names the database), and the parent ends the run with that one error.
                // So the child ends here, in the middle of the task, instead of failing this
                // task and every later one the same way.
                let mut results = self.results;
                let _ = results.write_all(&frame(&ChildMessage::Unavailable(e.to_string())));
                // SAFETY: as in `child::exit_after`; the parent reaps the child and reads its
                // message.
                unsafe { libc::_exit(1) }
            }
        });
        Opened { conn, opened_now }
    }
}

/// The child's connection, and whether this task's call opened it.
pub(crate) struct Opened<'c> {
    conn: &'c Connection,
    opened_now: bool,
}

impl Deref for Opened<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl TaskConnection for Opened<'_> {
    fn waited(&self) -> bool {
        self.opened_now
    }
}

//! What the four executors share, so that each of them is its method and nothing else.
//!
//! The four programs of this workspace run the same SQLite workload with four concurrency
//! methods. Everything that is not the method lives here, one responsibility per file:
//!
//! - `fixture`: the demo database, a small shop, built once and reused ([`Database`]).
//! - `workload`: the tasks (a named query, its parameters, a simulated I/O latency) and the
//!   presets `io`, `cpu`, `fetch`, `mixed`, `overhead` and `scale`, plus injected faults.
//! - `task`: runs one task on a connection and returns its row count and checksum, stopping
//!   its query at the task's deadline ([`execute`], [`run_blocking`]). The *latency* is waited
//!   by the caller, with its own primitive: that wait is exactly where the methods differ.
//! - `pool`: a few connections shared by many threads, lent out only for a task's SQL
//!   ([`ConnectionPool`]).
//! - `outcome`: what happened to each task, and the [`Run`] an executor hands back.
//! - `report`: the run report (one JSON schema for every program, [`RunReport`]), with the
//!   ideal makespan from `ideal` and resource usage from `usage`; `render` prints it for
//!   people.
//! - `writes`: tasks that write, on a scratch copy: each in its own transaction, or all through
//!   one writer that commits them in groups ([`Writes`]).
//! - `pitfalls`: the guide's pitfalls that Rust rejects at compile time, as `compile_fail`
//!   doc-tests.
//! - [`cli`]: the common flags and the `main` every program shares.
//! - [`sequential`]: the one-task-at-a-time baseline every speedup is measured against.
//! - `conformance` (with the `conformance` feature, for tests only): the behavioural checks
//!   every executor's tests run.
//!
//! Only [`cli`] and [`sequential`] are public modules: an executor needs the rest only through
//! the names re-exported here.

pub mod cli;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod fixture;
mod ideal;
mod method;
mod outcome;
mod pitfalls;
mod pool;
mod progress;
mod render;
mod report;
pub mod sequential;
mod task;
mod usage;
mod workload;
mod writes;

pub use cli::CommonArgs;
pub use error::{Error, Result};
pub use fixture::Database;
pub use method::Method;
pub use outcome::{Dispatch, Lanes, Outcome, Outcomes, Run};
pub use pool::{ConnectionPool, Lease};
pub use report::{Report, RunReport, Summary, WritesReport};
pub use task::{
    Attempt, Clock, Status, catch_panic, execute, panic_message, quiet_injected_panics,
    run_blocking, run_blocking_with,
};
pub use workload::{Fault, Injection, Plan, Preset, Query, Task, Workload};
pub use writes::{
    Answer, Begin, GroupCommits, SingleWriter, Synchronous, TABLE, WriteSettings, WriterKind,
    Writes, commit_together,
};

//! What the four executors share, so that each of them is its method and nothing else.
//!
//! The four programs of this workspace run the same SQLite workload with four concurrency
//! methods. Everything that is not the method lives here, one responsibility per file, in
//! layers: plain data at the bottom, the code that acts on it above, and no file uses one
//! above it.
//!
//! - Plain data. `status`: how a task ended and when ([`Status`], [`Attempt`], on a
//!   [`Clock`]). `write_settings`: the write flags and the run's own table ([`WriteSettings`],
//!   [`TABLE`]). `error`, `method`, `progress`.
//! - `shop`: the demo database, a small shop, generated the same way on every machine, built
//!   once and reused.
//! - `database`: the database a run reads, the shop or the user's own file, found and opened
//!   ([`Database`]).
//! - `scratch`: the copy of it a writing run works on, and what the run's SQL wrote there.
//! - `workload`: the tasks (a named query, its parameters, a simulated I/O latency), injected
//!   faults, and the JSON a workload is read from and written to. A task that writes carries
//!   its run's [`Writes`].
//! - `presets`: the preset workloads `io`, `cpu`, `fetch`, `mixed`, `overhead`, `scale`,
//!   `writes` and `app` ([`Preset`]).
//! - `sql`: a task's SQL on a connection, its rows counted and digested, stopped at its
//!   deadline (`deadline`: SQLite's progress handler, installed once per connection).
//! - `writes`: tasks that write, on a scratch copy: each in its own transaction, or all through
//!   one writer that commits them in groups.
//! - `task`: runs one task, the same way in every method ([`execute`], [`run_blocking`]). The
//!   *latency* is waited by the caller, with its own primitive: that wait is exactly where the
//!   methods differ.
//! - `plan`: everything an executor is given ([`Plan`]).
//! - `pool`: a few connections shared by many threads, lent out only for a task's SQL
//!   ([`ConnectionPool`]).
//! - `outcome`: what happened to each task, and the [`Run`] an executor hands back.
//! - `report`: the run report's schema (one JSON schema for every program, [`RunReport`]).
//!   `report_builder` puts a run's [`Report`] together, with the ideal makespan from `ideal`
//!   and resource usage from `usage`; `render` prints it for people.
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
mod database;
mod deadline;
mod error;
mod ideal;
mod method;
mod outcome;
mod pitfalls;
mod plan;
mod pool;
mod presets;
mod progress;
mod render;
mod report;
mod report_builder;
mod room;
mod scratch;
pub mod sequential;
mod shop;
mod sql;
mod status;
mod task;
mod usage;
mod workload;
mod write_settings;
mod writes;

pub use cli::CommonArgs;
pub use database::Database;
pub use error::{Error, Result};
pub use ideal::{Bound, Durations, Ideal, ideal};
pub use method::Method;
pub use outcome::{Dispatch, Lanes, Outcome, Outcomes, Run};
pub use plan::Plan;
pub use pool::{ConnectionPool, Lease};
pub use presets::Preset;
pub use report::{Counts, Latency, Percentiles, RunReport, Summary, TaskReport, WritesReport};
pub use report_builder::Report;
pub use status::{Attempt, Clock, GroupCommits, Status, panic_message};
pub use task::{
    TaskConnection, catch_panic, execute, quiet_injected_panics, run_blocking, run_blocking_with,
};
pub use workload::{Answer, Fault, Injection, Query, SingleWriter, Task, Workload, Writes};
pub use write_settings::{Begin, Synchronous, TABLE, WriteSettings, WriterKind};
pub use writes::commit_together;

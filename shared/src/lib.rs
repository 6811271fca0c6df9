//! What the four executors share, so that each of them is its method and nothing else.
//!
//! The four programs of this workspace run the same SQLite workload with four concurrency
//! methods. Everything that is not the method lives here:
//!
//! - [`fixture`]: the demo database, a small shop, built once and reused.
//! - [`workload`]: the tasks (a named query, its parameters, a simulated I/O latency) and the
//!   presets `io`, `cpu`, `fetch`, `mixed`, `overhead` and `scale`, plus injected faults.
//! - [`task`]: runs one task on a connection and returns its row count and checksum, stopping
//!   its query at the task's deadline. The *latency* is waited by the caller, with its own
//!   primitive: that wait is exactly where the methods differ.
//! - [`pool`]: a few connections shared by many threads, lent out only for a task's SQL.
//! - [`outcome`]: what happened to each task, and the [`Run`] an executor hands back.
//! - [`report`]: the run report (one JSON schema for every program), with the ideal makespan
//!   from [`ideal`] and resource usage from [`usage`]; [`render`] prints it for people.
//! - [`cli`]: the common flags and the `main` every program shares.
//! - [`sequential`]: the one-task-at-a-time baseline every speedup is measured against.
//! - [`conformance`]: the behavioural checks every executor's tests run.

pub mod cli;
pub mod conformance;
pub mod error;
pub mod fixture;
pub mod ideal;
pub mod outcome;
pub mod pool;
pub mod progress;
pub mod render;
pub mod report;
pub mod sequential;
pub mod task;
pub mod usage;
pub mod workload;

pub use cli::{CommonArgs, Method};
pub use error::{Error, Result};
pub use fixture::Database;
pub use outcome::{Dispatch, Outcome, Outcomes, Run};
pub use pool::{ConnectionPool, Lease};
pub use report::RunReport;
pub use task::{Attempt, Clock, Status, catch_panic, execute, run_blocking, run_blocking_with};
pub use workload::{Fault, Plan, Task, Workload};

//! Tasks, workloads and the faults that can be injected into them: the model every executor
//! runs, and the JSON form a workload is read from and written to.
//!
//! A task is a named query with its SQL, its parameters and a simulated I/O latency: the time a
//! remote database round trip would keep the caller waiting before the query runs. The preset
//! workloads built from such tasks are in `presets`.
//!
//! `--dump-workload` prints a workload as JSON, and `--workload-file` reads the same JSON back,
//! so that users can run their own queries on their own database.
//!
//! A task whose query writes also carries its run's [`Writes`]: how it reaches the database
//! (its own transaction, or a single writer). That type is defined here, beside [`Task`], and
//! its code is in `writes`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::ToSql;
use rusqlite::types::ToSqlOutput;
use serde::{Deserialize, Serialize};

use crate::database::Database;
use crate::error::{Error, Result};
use crate::status::{GroupCommits, Status};
use crate::write_settings::WriteSettings;

/// One SQL parameter, as JSON writes it: `null`, a number or a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

/// A task's parameters, as JSON writes them: a list, bound in order (`?`, `?1`, ...), or an
/// object, bound by name (`{":city": "Paris"}` for `:city`; a name without its `:`, `@` or `$`
/// is taken to mean `:name`). Either way, `:task` in the SQL is the task's id unless given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Params {
    Positional(Vec<Param>),
    Named(std::collections::BTreeMap<String, Param>),
}

impl Default for Params {
    fn default() -> Params {
        Params::Positional(Vec::new())
    }
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Null => rusqlite::types::Null.to_sql(),
            Param::Integer(i) => i.to_sql(),
            Param::Real(f) => f.to_sql(),
            Param::Text(s) => s.to_sql(),
        }
    }
}

/// What a task does, as the workload JSON spells it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    pub name: String,
    pub sql: String,
    #[serde(default)]
    pub params: Params,
    /// The simulated round trip the caller waits before running the SQL; none when a workload
    /// file leaves it out, as a user's own queries usually have none to simulate.
    #[serde(default)]
    pub latency_ms: u64,
    /// How many rounds of digest the program computes over every fetched value: 1 is just the
    /// checksum. The `fetch` preset sets it high, so that the program's own work on the rows,
    /// not SQLite, takes most of the time, as Python code walking rows would.
    #[serde(default = "one_round")]
    pub rounds: u32,
    /// Whether the SQL changes the database. A run with a task that writes works on a scratch
    /// copy (see `writes`). Found by SQLite when a workload file leaves it out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub writes: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn one_round() -> u32 {
    1
}

/// A fault injected with `--inject KIND@TASK`, to show (and test) what each method does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The task's SQL fails with a SQLite error.
    Error,
    /// The code running the task panics.
    Panic,
    /// The task's query never ends on its own; only its timeout stops it.
    Hang,
    /// The process running the task aborts; only a method with worker processes survives it.
    Crash,
}

impl Fault {
    const NAMES: &'static str = "error, panic, hang, crash";

    fn parse(kind: &str) -> Option<Fault> {
        Some(match kind {
            "error" => Fault::Error,
            "panic" => Fault::Panic,
            "hang" => Fault::Hang,
            "crash" => Fault::Crash,
            _ => return None,
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::Error => "error",
            Fault::Panic => "panic",
            Fault::Hang => "hang",
            Fault::Crash => "crash",
        })
    }
}

/// `--inject KIND@TASK`: which fault, on which task (numbered from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    pub fault: Fault,
    pub task: usize,
}

impl std::str::FromStr for Injection {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, task) = s.split_once('@').ok_or_else(|| {
            format!(
                "expected KIND@TASK, for example error@3 (kinds: {})",
                Fault::NAMES
            )
        })?;
        let fault = Fault::parse(kind)
            .ok_or_else(|| format!("unknown fault '{kind}' (kinds: {})", Fault::NAMES))?;
        let task =
            task.parse().ok().filter(|&t| t >= 1).ok_or_else(|| {
                format!("'{task}' is not a task number (tasks are numbered from 1)")
            })?;
        Ok(Injection { fault, task })
    }
}

/// One task of a run: a query, its place in the workload, and the fault injected into it.
///
/// The query sits behind an `Arc` because a workload repeats its pattern: 100,000 `scale`
/// tasks share one query, and handing a task to a worker copies a pointer, not the SQL.
#[derive(Debug, Clone)]
pub struct Task {
    /// Numbered from 1, in submission order.
    pub id: usize,
    pub query: Arc<Query>,
    pub fault: Option<Fault>,
    /// How the task writes, when its query does: the run's write settings and writer.
    pub writes: Option<Arc<Writes>>,
}

impl Task {
    pub fn name(&self) -> &str {
        &self.query.name
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.query.latency_ms)
    }
}

/// How the writing tasks of a run write: the settings, and the single writer when there is one.
/// Every writing task holds one (`Task::writes`), so that whichever method runs it,
/// [`execute`](crate::execute) finds its way to the database.
///
/// It is defined here, beside [`Task`], because each holds the other's kind: a task carries
/// its run's `Writes`, and a single writer takes tasks. What it does is in `writes`.
pub struct Writes {
    pub settings: WriteSettings,
    /// `None` with `--writer shared`: each worker writes on the connection it runs the task on.
    pub(crate) single: Option<Box<dyn SingleWriter>>,
    /// `--writer lock`: the lock each write transaction takes first (see `writes`); `None`
    /// otherwise, and where the method takes a lock of its own (async awaits one).
    pub(crate) lock: Option<WriteLock>,
}

/// `--writer lock`'s lock: taken before `BEGIN IMMEDIATE`, given back after `COMMIT` (what
/// taking it does is in `writes`).
pub(crate) enum WriteLock {
    /// Threads of one process. A thread waiting on a `Mutex` sleeps in the kernel and is woken
    /// when the lock is given back, where SQLite's busy handler would sleep a fixed while and
    /// try again.
    Threads(Mutex<()>),
    /// Processes: `flock` on this file, opened anew for each write. A descriptor opened before
    /// `fork` is one lock shared by the parent and every child, which would exclude nobody.
    Processes(PathBuf),
}

/// How a task is answered by a single writer: called once, with its status, after the commit.
pub type Answer = Box<dyn FnOnce(Status) + Send>;

/// The one writer of `--writer single`: a thread of this process (in `writes`), or the
/// multiprocessing program's writer process. `submit` hands it a task and returns; `answer` is
/// called once it is written.
pub trait SingleWriter: Send + Sync {
    fn submit(&self, task: &Task, deadline: Instant, answer: Answer);

    /// What it has committed so far, when it keeps count in this process (the writer thread
    /// does; a writer process reports its own count).
    fn group_commits(&self) -> Option<GroupCommits> {
        None
    }
}

/// The tasks of one run, in submission order.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub tasks: Vec<Task>,
}

/// The JSON form of a workload, written by `--dump-workload` and read by `--workload-file`.
/// A file may also be just the list of tasks, and may leave out the name: the file's stem.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workload: Option<String>,
    tasks: Vec<Query>,
}

/// What a task looks like in a workload file, for the error that says what was expected.
const TASK_FORM: &str =
    r#"{"name": ..., "sql": ..., "params": [...] or {":name": ...}, "latency_ms": ...}"#;

impl Workload {
    /// Builds a workload from its pattern: `tasks` repeats it (or cuts it short) to that many.
    pub fn from_pattern(
        name: impl Into<String>,
        pattern: Vec<Query>,
        tasks: Option<usize>,
    ) -> Workload {
        let count = tasks.unwrap_or(pattern.len());
        let pattern: Vec<Arc<Query>> = pattern.into_iter().map(Arc::new).collect();
        let tasks = (0..count)
            .map(|i| Task {
                id: i + 1,
                query: Arc::clone(&pattern[i % pattern.len()]),
                fault: None,
                writes: None,
            })
            .collect();
        Workload {
            name: name.into(),
            tasks,
        }
    }

    /// Reads a workload written by `--dump-workload` (or by hand in the same form).
    pub fn from_file(path: &Path, tasks: Option<usize>) -> Result<Workload> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(format!("--workload-file {shown}: {e}")))?;
        // The first character says which of the two forms the file means, so that an error
        // can say where the file departs from that form rather than from either.
        let file = match text.trim_start().chars().next() {
            Some('[') => serde_json::from_str(&text)
                .map(|tasks| WorkloadFile {
                    workload: None,
                    tasks,
                })
                .map_err(|e| format!("expected a list of tasks, each {TASK_FORM}: {e}")),
            Some('{') => serde_json::from_str::<WorkloadFile>(&text).map_err(|e| {
                format!(
                    "expected {{\"workload\": NAME, \"tasks\": [...]}} (the form \
                     --dump-workload prints), each task {TASK_FORM}: {e}"
                )
            }),
            _ => Err(format!(
                "expected a JSON list of tasks, or {{\"workload\": NAME, \"tasks\": [...]}} as \
                 --dump-workload prints; each task {TASK_FORM}"
            )),
        }
        .map_err(|why| Error::input(format!("--workload-file {shown}: {why}")))?;
        if file.tasks.is_empty() && tasks.is_some_and(|n| n > 0) {
            return Err(Error::input(format!(
                "--workload-file {shown}: no tasks to repeat"
            )));
        }
        let name = file.workload.unwrap_or_else(|| {
            path.file_stem().map_or_else(
                || "workload".to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        });
        Ok(Workload::from_pattern(name, file.tasks, tasks))
    }

    /// The workload as JSON, in the form `--workload-file` reads (faults are not part of it).
    pub fn to_json(&self) -> String {
        let file = WorkloadFile {
            workload: Some(self.name.clone()),
            tasks: self.tasks.iter().map(|t| (*t.query).clone()).collect(),
        };
        // Serialising plain strings and numbers to a String cannot fail.
        serde_json::to_string_pretty(&file).expect("a workload serialises to JSON")
    }

    /// Marks the injected tasks; a task number past the end is the user's mistake.
    pub fn inject(&mut self, injections: &[Injection]) -> Result<()> {
        for injection in injections {
            let count = self.tasks.len();
            let task = self.tasks.get_mut(injection.task - 1).ok_or_else(|| {
                let has = match count {
                    0 => "no tasks".to_string(),
                    1 => "1 task (numbered 1)".to_string(),
                    n => format!("{n} tasks (numbered 1 to {n})"),
                };
                Error::input(format!(
                    "--inject {}@{}: the workload has {has}",
                    injection.fault, injection.task
                ))
            })?;
            task.fault = Some(injection.fault);
        }
        Ok(())
    }

    pub fn has_fault(&self, fault: Fault) -> bool {
        self.tasks.iter().any(|t| t.fault == Some(fault))
    }

    /// Whether any task changes the database.
    pub fn writes(&self) -> bool {
        self.tasks.iter().any(|t| t.query.writes)
    }

    /// Marks the queries that write, which a workload file need not say: SQLite knows, once
    /// their statements are prepared on the database (`sqlite3_stmt_readonly`). A query that does
    /// not prepare is left as it is, to fail in its task with SQLite's message.
    pub fn find_writes(&mut self, database: &Database) -> Result<()> {
        let conn = database.open()?;
        let mut seen: Vec<(*const Query, Arc<Query>)> = Vec::new();
        for task in &mut self.tasks {
            let known = seen
                .iter()
                .find(|(was, _)| *was == Arc::as_ptr(&task.query));
            let query = match known {
                Some((_, query)) => Arc::clone(query),
                None => {
                    let writes =
                        task.query.writes || crate::scratch::sql_writes(&conn, &task.query.sql);
                    let query = if writes == task.query.writes {
                        Arc::clone(&task.query)
                    } else {
                        Arc::new(Query {
                            writes,
                            ..(*task.query).clone()
                        })
                    };
                    seen.push((Arc::as_ptr(&task.query), Arc::clone(&query)));
                    query
                }
            };
            task.query = query;
        }
        Ok(())
    }
}

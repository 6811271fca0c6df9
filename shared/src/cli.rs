//! The flags every program shares, and the `main` they all run.
//!
//! Each program flattens [`CommonArgs`] into its own clap parser, adds its own flags, and hands
//! its method to [`main`], which does the rest the same way everywhere: builds the plan (and the
//! fixture, the first time), runs the method, runs the sequential baseline, prints the report,
//! and exits 0 when every task is ok, 1 when the run completed but some task did not, 2 when the
//! run could not be made (bad flags or input, with a one-line message; clap's usage errors also
//! exit 2). [`parse`] reads a program's flags, with the help of the common ones made to its
//! method.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::method::Method;
use crate::outcome::Run;
use crate::plan::Plan;
use crate::presets::Preset;
use crate::render;
use crate::report_builder::Report;
use crate::sequential;
use crate::task::quiet_injected_panics;
use crate::usage::Snapshot;
use crate::workload::{Fault, Injection, Workload};
use crate::write_settings::{Begin, Synchronous, WriteSettings, WriterKind};

/// A count with its noun, as the reports print them: the methods' notes use it too.
pub use crate::render::counted;

/// The flags common to every program.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// The preset workload to run.
    #[arg(long, value_enum, default_value_t = Preset::Io)]
    pub workload: Preset,

    /// Repeat the workload's pattern to N tasks (0 runs nothing).
    #[arg(long, value_name = "N")]
    pub tasks: Option<usize>,

    /// For the app preset: the share of its requests that write, in percent (0 to 100),
    /// spread evenly among its reads [default: 10].
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub write_share: Option<u8>,

    /// How many tasks may run at once, never more than there are tasks [default: the method's
    /// own, which [`parse`] writes into each program's help].
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub workers: Option<usize>,

    /// How long each task may take from its start, latency included, before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,

    /// The SQLite database to query [default: the fixture, built on first use in a cache folder
    /// under the temp dir]. A database that is not the fixture is opened read-only.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Run the tasks in this JSON file instead of a preset: the form --dump-workload prints, or
    /// just the list of its tasks (the workload is then named after the file).
    #[arg(long, value_name = "FILE", conflicts_with = "workload")]
    pub workload_file: Option<PathBuf>,

    /// Inject a fault into a task: error, panic, hang or crash, at a task number (from 1).
    /// Repeatable.
    #[arg(long = "inject", value_name = "KIND@TASK")]
    pub inject: Vec<Injection>,

    /// Print the report as JSON (the schema is documented in `shared::report`).
    #[arg(long)]
    pub json: bool,

    /// Skip the sequential baseline (and with it the speedup and the ideal).
    #[arg(long)]
    pub no_baseline: bool,

    /// Print the workload as JSON, in the form --workload-file reads, and exit.
    #[arg(long)]
    pub dump_workload: bool,

    /// For tasks that write: how long a writer waits for SQLite's write lock before "database
    /// is locked" (0: not at all).
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 5_000,
        help_heading = "Writes"
    )]
    pub busy_timeout: u64,

    /// For tasks that write: how a write transaction starts. `deferred` tasks read first, as
    /// code that reads before it updates does.
    #[arg(long, value_enum, default_value_t = Begin::Immediate, help_heading = "Writes")]
    pub begin: Begin,

    /// For tasks that write: whether each commit waits for the disk (full) or only WAL
    /// checkpoints do (normal).
    #[arg(long, value_enum, default_value_t = Synchronous::Full, help_heading = "Writes")]
    pub synchronous: Synchronous,

    /// For tasks that write: each worker on its own connection (shared), one writer that
    /// commits what is queued in one transaction (single), or each worker on its own
    /// connection after taking one lock of the program's (lock).
    #[arg(long, value_enum, default_value_t = WriterKind::Shared, help_heading = "Writes")]
    pub writer: WriterKind,

    /// For tasks that write: how long each write transaction waits after its first statement,
    /// holding SQLite's write lock, as code that awaits something else inside a transaction
    /// does.
    #[arg(long, value_name = "MS", default_value_t = 0, help_heading = "Writes")]
    pub hold_ms: u64,
}

/// Parses a program's flags (`A` flattens [`CommonArgs`]), as `A::parse()` would, with the help
/// of two common flags written for `method`. `--workers` gives the method's default as a number,
/// `workers`, and the rule it follows (`rule`: "one per core on this machine"), since "the
/// method's own" tells a reader nothing. `--inject` offers only the faults the method accepts:
/// a crash only where a worker is a process; typed anyway, it is refused with the reason (see
/// [`CommonArgs::workload`]).
pub fn parse<A: clap::Parser>(method: &Method, workers: usize, rule: Option<&str>) -> A {
    let default = match rule {
        Some(rule) => format!("{workers}, {rule}"),
        None => workers.to_string(),
    };
    let faults = if method.survives_crash {
        "error, panic, hang or crash"
    } else {
        "error, panic or hang"
    };
    // Both arguments are in every program's parser, flattened from `CommonArgs`: `mut_arg`,
    // which panics on an unknown name, finds them.
    let mut command = A::command()
        .mut_arg("workers", |arg| {
            arg.help(format!(
                "How many tasks may run at once, never more than there are tasks \
                 [default: {default}]"
            ))
        })
        .mut_arg("inject", |arg| {
            arg.help(format!(
                "Inject a fault into a task: {faults}, at a task number (from 1). Repeatable."
            ))
        });
    let matches = command.get_matches_mut();
    // clap's own errors: one usage message, and exit 2 (help and version exit 0).
    A::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit())
}

/// A count of at least one, for `--workers` and any flag like it (`--connections`).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let seconds: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    // A timeout of 0 would time every task out before it starts: more than 0 is asked for,
    // and the message says so rather than "between 0 and …", which 0 itself seems to satisfy.
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!(
            "{s} is not a timeout: give more than 0 and at most 86400 seconds (one day)"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl CommonArgs {
    /// The workload the flags ask for, with its faults injected.
    pub fn workload(&self, method: &Method) -> Result<Workload> {
        let mut workload = match (&self.workload_file, self.write_share) {
            (Some(path), None) => Workload::from_file(path, self.tasks)?,
            (None, None) => Workload::preset(self.workload, self.tasks),
            (None, Some(share)) if self.workload == Preset::App => Workload::app(share, self.tasks),
            _ => {
                return Err(Error::input(
                    "--write-share sets how many of the app preset's requests write: use it \
                     with --workload app",
                ));
            }
        };
        workload.inject(&self.inject)?;
        if workload.has_fault(Fault::Crash) && !method.survives_crash {
            return Err(Error::input(format!(
                "--inject crash: a crash aborts the process running the task, and {} runs every \
                 task in this one process, so nothing would be left to report it; only \
                 multiprocessing survives a crash",
                method.name
            )));
        }
        Ok(workload)
    }

    /// The whole plan: the workload, and the database (built the first time it is needed).
    pub fn plan(&self, method: &Method) -> Result<Plan> {
        let mut workload = self.workload(method)?;
        let database = Database::prepare(self.db.as_deref(), self.workload_file.is_some())?;
        if self.workload_file.is_some() {
            workload.find_writes(&database)?;
        }
        // The `writes` preset writes only its own table, which every scratch copy has.
        let own_tables = self.workload_file.is_some() || self.workload == Preset::Writes;
        if !database.is_fixture() && !own_tables {
            return Err(Error::input(format!(
                "--db {}: is not this project's fixture, and the preset workloads query the \
                 fixture's tables; give your own queries with --workload-file (see --dump-workload)",
                database.path().display()
            )));
        }
        let settings = WriteSettings {
            busy_timeout: Duration::from_millis(self.busy_timeout),
            begin: self.begin,
            synchronous: self.synchronous,
            writer: self.writer,
            hold: Duration::from_millis(self.hold_ms),
        };
        if !workload.writes() && settings != WriteSettings::default() {
            return Err(Error::input(
                "--busy-timeout, --begin, --synchronous, --writer and --hold-ms are for tasks \
                 that write, and this workload has none: try --workload writes",
            ));
        }
        let plan = Plan {
            workload,
            database,
            workers: self.workers,
            timeout: self.timeout,
        }
        .writing_on_a_copy(settings)?;
        Ok(plan)
    }
}

/// Everything a program does after parsing its flags. `run` is the method.
pub fn main(
    method: &Method,
    args: &CommonArgs,
    run: impl FnOnce(&Plan) -> Result<Run>,
) -> ExitCode {
    quiet_injected_panics();
    log_when_asked(method);
    match run_program(method, args, run) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}: error: {e}", method.name);
            ExitCode::from(2)
        }
    }
}

/// Prints what each worker does, as structured events on stderr (which worker took which task,
/// how it ended), when `RUST_LOG` asks for them: `RUST_LOG=debug`. Without it no subscriber is
/// installed, and each event in the methods costs a check of one atomic.
fn log_when_asked(method: &Method) {
    let Some(directives) = std::env::var_os("RUST_LOG") else {
        return;
    };
    match tracing_subscriber::EnvFilter::try_new(directives.to_string_lossy()) {
        Ok(filter) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init();
        }
        Err(e) => eprintln!("{}: warning: RUST_LOG ignored: {e}", method.name),
    }
}

fn run_program(
    method: &Method,
    args: &CommonArgs,
    run: impl FnOnce(&Plan) -> Result<Run>,
) -> Result<u8> {
    if args.dump_workload {
        print(&args.workload(method)?.to_json());
        return Ok(0);
    }
    let plan = args.plan(method)?;
    let before = Snapshot::now();
    let result = run(&plan)?;
    let usage = before.usage_since(&result);
    // Read on the copy the method wrote (the baseline writes on a fresh copy of its own; see
    // `Plan::for_the_baseline`).
    let recorded = recorded_writes(&plan, &result)?;
    // After the method, not before: the baseline's own peak memory must not count as the
    // method's (a process's peak can only grow). The baseline's run is its own baseline.
    let own_baseline;
    let baseline = if args.no_baseline {
        None
    } else if method.name == sequential::METHOD.name {
        Some(&result)
    } else {
        own_baseline = sequential::run(&plan.for_the_baseline()?)?;
        Some(&own_baseline)
    };
    let mut report = Report::new(method.name, &plan, &result, usage, baseline);
    if let Some((found, note)) = recorded {
        report.summary.rows_in_db_after = Some(found);
        report.summary.notes.extend(note);
    }
    if let Some(commits) = plan.writes().and_then(|w| w.group_commits()) {
        report
            .summary
            .notes
            .push(commits.sentence("one writer thread"));
    }
    if args.json {
        // Written as it is made, a task at a time: the report of a million tasks is hundreds of
        // megabytes of text that never needs to be in memory at once. An error can only mean
        // that the reader has gone (`| head`): there is nobody left to tell.
        let mut out = BufWriter::new(std::io::stdout().lock());
        if report.write_json(&mut out).is_ok() {
            let _ = writeln!(out);
        }
    } else {
        print(&render::human(&report));
    }
    Ok(report.summary.exit_code())
}

/// When every writing task records its id in the run's own table (see
/// `Database::records_tasks`): how many tasks are recorded there after the run, and, if they
/// are not exactly the write tasks that ended ok, a note that says which differ. A write
/// reported done that is not there was lost; one there that was reported failed was not undone.
fn recorded_writes(plan: &Plan, run: &Run) -> Result<Option<(u64, Option<String>)>> {
    if !plan.database.records_tasks() {
        return Ok(None);
    }
    let found = plan.database.tasks_recorded()?;
    let mut ok: Vec<usize> = run
        .outcomes
        .iter()
        .filter(|o| o.status.is_ok() && plan.workload.tasks[o.task - 1].query.writes)
        .map(|o| o.task)
        .collect();
    ok.sort_unstable();
    let lost: Vec<&usize> = ok
        .iter()
        .filter(|id| found.binary_search(id).is_err())
        .collect();
    let kept: Vec<&usize> = found
        .iter()
        .filter(|id| ok.binary_search(id).is_err())
        .collect();
    let note = (!lost.is_empty() || !kept.is_empty()).then(|| {
        let lost_are = if lost.len() == 1 { "is" } else { "are" };
        let kept_are = if kept.len() == 1 { "is" } else { "are" };
        format!(
            "the run's own table does not agree with the outcomes: {} ended ok and {lost_are} \
             not recorded there {lost:?}, {} {kept_are} recorded there and did not end ok \
             {kept:?}",
            counted(lost.len() as u64, "write task", "write tasks"),
            kept.len(),
        )
    });
    Ok(Some((found.len() as u64, note)))
}

/// Prints to stdout, quietly giving up if the reader has gone (`| head`), instead of panicking.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end());
}

//! The multiprocessing demo: the common flags, the method, the report.

use clap::Parser;
use clap::builder::RangedU64ValueParser;
use multiprocessing_executor::{METHOD, Options};

/// Runs SQLite queries on fork()ed worker processes, tasks and results over pipes.
#[derive(Parser)]
#[command(name = "multiprocessing_executor", version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// How many short jobs a busy child may hold (1: one job per child, a round trip per task;
    /// at most 1024, so that they fit in its pipe).
    #[arg(long, value_name = "N", default_value_t = Options::default().pipeline,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=Options::MOST_PIPELINE as u64))]
    pipeline: usize,

    /// For the tests only: children do not ask Linux to kill them when this process dies, so
    /// that only their job pipe's end of file ends them, as on every other platform.
    #[arg(long, hide = true)]
    no_parent_death_signal: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let options = Options {
        pipeline: args.pipeline,
        parent_death_signal: !args.no_parent_death_signal,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        multiprocessing_executor::run(plan, &options)
    })
}

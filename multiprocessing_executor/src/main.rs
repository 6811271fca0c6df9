//! The multiprocessing demo: the common flags, the method, the report.

use clap::Parser;
use multiprocessing_executor::{METHOD, Options};

/// Runs SQLite queries on fork()ed worker processes, tasks and results over pipes.
#[derive(Parser)]
#[command(name = "multiprocessing_executor", version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// How many short jobs a busy child may hold (1: one job per child, a round trip per task).
    #[arg(long, value_name = "N", default_value_t = Options::default().pipeline)]
    pipeline: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let options = Options {
        pipeline: args.pipeline,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        multiprocessing_executor::run(plan, &options)
    })
}

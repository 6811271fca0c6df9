//! The threadpool demo: runs a workload on a dedicated rayon pool and prints the report, with
//! the tasks in the order they completed.

use std::process::ExitCode;

use threadpool_executor::{DEFAULT_WORKERS, METHOD, Options};

/// Runs SQLite queries on a dedicated rayon thread pool, taking results as they complete
/// (Python's ThreadPoolExecutor.submit + as_completed).
#[derive(clap::Parser)]
#[command(name = "threadpool_executor", version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// The most SQLite connections the pool's threads share [default: the smaller of --workers
    /// and twice the cores].
    #[arg(long, value_name = "N", value_parser = shared::cli::at_least_one)]
    connections: Option<usize>,
}

fn main() -> ExitCode {
    let args: Args = shared::cli::parse(&METHOD, DEFAULT_WORKERS, None);
    let options = Options {
        connections: args.connections,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        threadpool_executor::run(plan, &options)
    })
}

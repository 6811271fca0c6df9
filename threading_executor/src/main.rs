//! `threading_executor`: the workload on hand-written worker threads pulling from one queue.

use std::process::ExitCode;

use threading_executor::{DEFAULT_WORKERS, METHOD, Options, Priority};

/// Run SQLite queries on N named worker threads that pull tasks from one shared queue.
#[derive(clap::Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// The order in which workers take tasks: as submitted, or the longest expected first.
    #[arg(long, value_enum, default_value_t = Priority::Fifo)]
    priority: Priority,
}

fn main() -> ExitCode {
    let args: Args = shared::cli::parse(&METHOD, DEFAULT_WORKERS, None);
    let options = Options {
        priority: args.priority,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        threading_executor::run(plan, &options)
    })
}

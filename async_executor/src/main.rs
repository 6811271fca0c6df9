//! `async_executor`: the workload as tokio tasks gathered in a JoinSet, with the SQL on a few
//! tokio-rusqlite connection threads.

use std::process::ExitCode;

use async_executor::{METHOD, Options, Runtime};
use clap::Parser;

/// Run SQLite queries as tokio tasks on one event loop and gather every outcome, as
/// asyncio.gather(..., return_exceptions=True) does. For this program, --workers N is how many
/// tasks may be in flight at once; without it, all of them.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// The tokio scheduler: one thread, like asyncio's event loop, or one thread per core.
    #[arg(long, value_enum, default_value_t = Runtime::Current)]
    runtime: Runtime,

    /// How many SQLite connections run the SQL, each on a thread of its own.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    connections: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        runtime: args.runtime,
        connections: usize::from(args.connections),
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        async_executor::run(plan, &options)
    })
}

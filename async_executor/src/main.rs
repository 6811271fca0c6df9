//! `async_executor`: the workload as tokio tasks gathered in a JoinSet, with the SQL on a few
//! tokio-rusqlite connection threads.

use std::process::ExitCode;

use async_executor::{DEFAULT_CONNECTIONS, METHOD, MOST_IN_FLIGHT, Options, Runtime, SqlOn};

/// Run SQLite queries as tokio tasks on one event loop and gather every outcome, as
/// asyncio.gather(..., return_exceptions=True) does. For this program, --workers N is how many
/// tasks may be in flight at once; without it, all of them, up to 50,000.
#[derive(clap::Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// The tokio scheduler: one thread, like asyncio's event loop, or one thread per core.
    #[arg(long, value_enum, default_value_t = Runtime::Current)]
    runtime: Runtime,

    /// Where each query runs: on a few connections with a thread each (tokio-rusqlite), or on
    /// tokio's blocking threads with a connection lent from a pool (spawn_blocking, as
    /// deadpool-sqlite does).
    #[arg(long, value_enum, default_value_t = SqlOn::Connections)]
    sql_on: SqlOn,

    /// How many SQLite connections run the SQL.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONNECTIONS, value_parser = shared::cli::at_least_one)]
    connections: usize,

    /// Block the event loop on purpose, as the guide's pitfall warns: each task waits with a
    /// blocking sleep and runs its SQL on the loop's own thread, so the waits no longer overlap.
    #[arg(long)]
    blocking: bool,
}

fn main() -> ExitCode {
    let every_task = "every task at once, as gather does, up to that many";
    let args: Args = shared::cli::parse(&METHOD, MOST_IN_FLIGHT, Some(every_task));
    let options = Options {
        runtime: args.runtime,
        sql_on: args.sql_on,
        connections: args.connections,
        blocking: args.blocking,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        async_executor::run(plan, &options)
    })
}

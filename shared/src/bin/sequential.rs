//! The sequential baseline as a program: `cargo run --release -p shared --bin sequential`.
//!
//! Runs the chosen workload one task at a time on one connection, and prints the same report
//! as the four executors. Its wall time is what every speedup divides.

use std::process::ExitCode;

use shared::{CommonArgs, Error, sequential};

/// Runs the workload one task at a time: the baseline every speedup is measured against.
#[derive(clap::Parser)]
#[command(name = "sequential", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let one = "the only number the baseline accepts";
    let args: Args = shared::cli::parse(&sequential::METHOD, 1, Some(one));
    if args.common.workers.is_some_and(|n| n != 1) {
        eprintln!(
            "sequential: error: {}",
            Error::input("--workers: the baseline runs one task at a time")
        );
        return ExitCode::from(2);
    }
    shared::cli::main(&sequential::METHOD, &args.common, sequential::run)
}

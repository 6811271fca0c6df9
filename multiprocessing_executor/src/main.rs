//! The multiprocessing demo: the common flags, the method, the report.

use clap::builder::RangedU64ValueParser;
use multiprocessing_executor::{ForkServer, METHOD, Options, Start};

/// Runs SQLite queries on fork()ed worker processes, tasks and results over pipes.
#[derive(clap::Parser)]
#[command(name = "multiprocessing_executor", version)]
struct Args {
    #[command(flatten)]
    common: shared::CommonArgs,

    /// How many short jobs a busy child may hold (1: one job per child, a round trip per task;
    /// at most 1024, so that they fit in its pipe).
    #[arg(long, value_name = "N", default_value_t = Options::default().pipeline,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=Options::MOST_PIPELINE as u64))]
    pipeline: usize,

    /// How each worker process starts, as Python's start methods: fork() from this process;
    /// spawn, this program run again as a worker; or forkserver, forked by a small server that
    /// was forked before anything else.
    #[arg(long, value_enum, default_value_t = StartMethod::Fork)]
    start: StartMethod,

    /// For the tests only: children do not ask Linux to kill them when this process dies, so
    /// that only their job pipe's end of file ends them, as on every other platform.
    #[arg(long, hide = true)]
    no_parent_death_signal: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StartMethod {
    Fork,
    Spawn,
    Forkserver,
}

fn main() -> std::process::ExitCode {
    // A spawned worker (`--start spawn`) serves here, and never goes further.
    multiprocessing_executor::serve_if_spawned();
    let per_core = "one per core on this machine, as Pool() does";
    let args: Args = shared::cli::parse(&METHOD, Options::default_workers(), Some(per_core));
    let parent_death_signal = !args.no_parent_death_signal;
    let start = match args.start {
        StartMethod::Fork => Start::Fork,
        StartMethod::Spawn => Start::Spawn,
        // Before anything else: the fixture, the connections, the run.
        StartMethod::Forkserver => match ForkServer::start(parent_death_signal) {
            Ok(server) => Start::ForkServer(server),
            Err(e) => {
                eprintln!("{}: error: {e}", METHOD.name);
                return std::process::ExitCode::from(2);
            }
        },
    };
    let options = Options {
        pipeline: args.pipeline,
        parent_death_signal,
        start,
    };
    shared::cli::main(&METHOD, &args.common, |plan| {
        multiprocessing_executor::run(plan, &options)
    })
}

//! What `--help` tells a user before any run: how many workers threadpool_executor
//! starts without `--workers`, as a number, and only the faults `--inject` can give it.

/// What `--help` says of `flag`.
fn help_of(flag: &str) -> String {
    shared::conformance::help_of(env!("CARGO_BIN_EXE_threadpool_executor"), flag)
}

#[test]
fn the_help_gives_the_default_number_of_workers() {
    let workers = help_of("--workers");
    assert!(workers.contains("[default: 4]"), "{workers}");
}

#[test]
fn the_help_offers_only_the_faults_this_program_survives() {
    let inject = help_of("--inject");
    assert!(inject.contains("error, panic or hang"), "{inject}");
    assert!(!inject.contains("crash"), "{inject}");
}

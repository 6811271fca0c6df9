//! What `--help` tells a user before any run: how many tasks async_executor keeps in flight
//! without `--workers`, as a number, and only the faults `--inject` can give it.

use std::process::{Command, Output};

fn async_program(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_async_executor"))
        .args(args)
        .output()
        .expect("the program runs")
}

/// What `--help` says of `flag`: the lines after the flag's own, up to the next blank line.
fn help_of(flag: &str) -> String {
    let out = async_program(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(flag));
    lines
        .next()
        .unwrap_or_else(|| panic!("no {flag} in:\n{help}"));
    let said: Vec<&str> = lines.take_while(|l| !l.trim().is_empty()).collect();
    said.join(" ")
}

#[test]
fn the_help_gives_the_default_number_of_tasks_in_flight() {
    let workers = help_of("--workers");
    assert!(
        workers.contains("[default: 50000, every task at once"),
        "{workers}"
    );
}

#[test]
fn the_help_offers_only_the_faults_this_program_survives() {
    let inject = help_of("--inject");
    assert!(inject.contains("error, panic or hang"), "{inject}");
    assert!(!inject.contains("crash"), "{inject}");
}

//! A tiny single-threaded test runner, and a look at this process's children in `/proc`.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

/// Runs named checks one after another on the main thread, and sums up like libtest does.
/// Arguments that do not start with `-` filter the checks by name, as `cargo test NAME` does.
pub struct Checks {
    filters: Vec<String>,
    passed: usize,
    failed: Vec<&'static str>,
}

impl Checks {
    pub fn new() -> Checks {
        let filters = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        Checks {
            filters,
            passed: 0,
            failed: Vec::new(),
        }
    }

    pub fn run(&mut self, name: &'static str, check: impl FnOnce()) {
        if !self.filters.is_empty() && !self.filters.iter().any(|f| name.contains(f.as_str())) {
            return;
        }
        println!("check {name} ...");
        match panic::catch_unwind(AssertUnwindSafe(check)) {
            Ok(()) => {
                self.passed += 1;
                println!("check {name} ... ok");
            }
            Err(_) => {
                self.failed.push(name);
                println!("check {name} ... FAILED");
            }
        }
    }

    pub fn finish(self) -> ExitCode {
        for name in &self.failed {
            println!("failed: {name}");
        }
        println!("{} passed, {} failed", self.passed, self.failed.len());
        if self.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// The processes whose parent is `parent`, zombies included, from `/proc/*/stat`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|(_, ppid)| ppid == parent))
        .collect()
}

/// A process's state letter and parent pid, or `None` if it no longer exists.
pub fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (command name) state ppid ...": the name may hold spaces and parentheses, so the
    // fields are counted from the last ')'.
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Fails if this process has any child, running or zombie.
pub fn assert_no_children() {
    let left = children_of(std::process::id());
    assert!(
        left.is_empty(),
        "child processes left after the run: {left:?}"
    );
}

//! The Python peer's own tests (`scripts/python/test_guide.py`), run by `cargo test` so that the
//! README's one test command covers the project's Python too.
//!
//! It needs `python3` 3.9 or newer. Without one the test is ignored: `build.rs` looks for it
//! and sets `cfg(no_python3)`, so that `cargo test` reports the test as ignored rather than as a
//! pass it is not; the Python rows of the comparison are optional in the same way (`compare.sh`
//! leaves them out). `cargo test -- --ignored` runs it anyway, and it then fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    // This crate lives in scripts/collate.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/debug/sequential`: the Python suite compares its checksums with it.
fn rust_sequential(root: &Path) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    target.join("debug").join("sequential")
}

#[test]
#[cfg_attr(no_python3, ignore = "no python3 3.9 or newer on the PATH")]
fn the_python_peer_passes_its_own_tests() {
    let root = workspace_root();
    let mut command = Command::new("python3");
    command
        .args(["-m", "unittest", "discover", "-s", "scripts/python"])
        .current_dir(&root);
    // Built here, so that the suite never compares with a stale binary when only this crate's
    // tests were asked for (`cargo test -p collate`); a no-op when it is up to date.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--quiet", "-p", "shared", "--bin", "sequential"])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "cannot build the Rust baseline");
    command.env("SEQUENTIAL_BIN", rust_sequential(&root));
    let out = command.output().expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python tests failed:\n{stderr}");
    // unittest prints "Ran N tests" and "OK" on stderr; a suite that found nothing must fail.
    assert!(!stderr.contains("Ran 0 tests"), "{stderr}");
}

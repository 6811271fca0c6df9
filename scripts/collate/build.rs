//! Embeds every template of `templates/` into the binary (minijinja-embed), so that collate's
//! sentences are edited in their files and still travel inside the program.
//!
//! It also looks for the `python3` that `tests/python_peer.rs` runs the Python peer's tests
//! with, and sets `cfg(no_python3)` when there is none of 3.9 or newer on the PATH. Cargo passes
//! a build script's `rustc-cfg` to every target of the package, integration tests included, so
//! that test is then marked ignored: `cargo test` reports it as not run rather than as passed.

use std::process::Command;

fn main() {
    minijinja_embed::embed_templates!("templates");

    println!("cargo::rustc-check-cfg=cfg(no_python3)");
    // Looked for again when the PATH changes, since that is where `python3` is found.
    println!("cargo::rerun-if-env-changed=PATH");
    // `sys.exit(False)` is exit status 0: the version is new enough.
    let python3 = Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 9))"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !python3 {
        println!("cargo::rustc-cfg=no_python3");
    }
}

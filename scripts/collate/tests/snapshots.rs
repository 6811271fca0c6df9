//! collate's outputs, pinned: each folder of `tests/golden/` holds a trimmed set of raw reports
//! (`raw/`, from a real run of `scripts/compare.sh`), the arguments that run gave collate
//! (`args`, one a line), and every file collate wrote from them (`out/`). This test collates
//! `raw/` again and compares each output byte for byte, so that a change to a sentence, a
//! figure or a layout shows here as a diff to review, not later in the docs.
//!
//! - `guide/`: the guide's workloads, Python rows included (every output: compare.md and .json,
//!   decide, lessons, writes, mix, the write split, questions, pitfalls, start, the charts and
//!   index.html);
//! - `yours/`: a reader's own workload (`--own-workload`), eight waits where the methods tie.
//!
//! The reports were trimmed to their first 12 tasks (the faults' kept whole) by
//! `tests/golden/trim.py`, so the figures here are not the committed `results/`' own: a trimmed
//! writing run's database holds more rows than its kept tasks wrote (✗ in mix.md and split.md),
//! and the write split's shares are those of its first 12 requests (8% for the mix's 10%). After a
//! change you mean, write the new outputs with `UPDATE_GOLDEN=1 cargo test -p collate --test
//! snapshots`, and read the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// The first line where `want` and `got` differ, with both versions, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    let (mut w, mut g) = (want.lines(), got.lines());
    for n in 1.. {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                let cut = |s: Option<&str>| {
                    s.map_or("(ended)".to_string(), |s| s.chars().take(300).collect())
                };
                return format!("line {n}:\n  golden: {}\n  now:    {}", cut(a), cut(b));
            }
        }
    }
    unreachable!()
}

fn check(case: &str) {
    let dir = golden().join(case);
    let args = std::fs::read_to_string(dir.join("args")).expect("the case's args file");
    let out = std::env::temp_dir().join(format!("collate-golden-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_collate"))
        .arg("--raw")
        .arg(dir.join("raw"))
        .arg("--out")
        .arg(&out)
        .args(args.lines())
        .output()
        .expect("collate runs");
    assert!(
        status.status.success(),
        "collate failed on tests/golden/{case}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let want_dir = dir.join("out");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&want_dir);
        std::fs::create_dir_all(&want_dir).expect("tests/golden/CASE/out can be made");
        for f in files(&out) {
            std::fs::copy(out.join(&f), want_dir.join(&f)).expect("the output is copied");
        }
    }
    let (want, got) = (files(&want_dir), files(&out));
    assert_eq!(
        want, got,
        "tests/golden/{case}: collate wrote other files than the golden ones"
    );
    let mut changed = Vec::new();
    for f in &want {
        let a = std::fs::read_to_string(want_dir.join(f)).expect("a golden file");
        let b = std::fs::read_to_string(out.join(f)).expect("an output");
        if a != b {
            changed.push(format!("{}: {}", f.display(), first_difference(&a, &b)));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        changed.is_empty(),
        "tests/golden/{case}: collate's output changed (UPDATE_GOLDEN=1 writes the new one; \
         review the diff first):\n{}",
        changed.join("\n")
    );
}

#[test]
fn the_guides_workloads_collate_as_pinned() {
    check("guide");
}

#[test]
fn a_readers_own_workload_collates_as_pinned() {
    check("yours");
}

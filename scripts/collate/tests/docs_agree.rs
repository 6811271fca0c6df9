//! The docs say what the tree is: the README's reading order gives each file's length, and
//! every relative link in the README and docs/ points at a file that exists.
//!
//! A length written by hand goes stale as the file changes. The README gives each as "about N
//! lines", and this test fails when a file has grown or shrunk by more than a tenth (or ten
//! lines) past it, with the length to write instead: an edit of a few lines to a lesson does
//! not break it, a lesson that doubled does.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    // This crate lives in scripts/collate.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every "`path` (N lines" or "`path` (about N lines" in the text: a file of the tree and the
/// length the text gives it.
fn stated_lengths(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for piece in text.split('`').collect::<Vec<_>>().windows(2) {
        let (path, after) = (piece[0], piece[1]);
        let Some(rest) = after.strip_prefix(" (") else {
            continue;
        };
        let rest = rest.strip_prefix("about ").unwrap_or(rest);
        let Some((number, unit)) = rest.split_once(' ') else {
            continue;
        };
        if !unit.starts_with("lines") {
            continue;
        }
        if let Ok(lines) = number.replace(',', "").parse() {
            found.push((path.to_string(), lines));
        }
    }
    found
}

#[test]
fn the_readme_gives_each_lesson_file_its_true_length() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let stated = stated_lengths(&readme);
    assert!(
        stated.len() >= 4,
        "the README's reading order names each executor's lib.rs with its length, as \
         \"`threading_executor/src/lib.rs` (N lines)\"; found {stated:?}"
    );
    for (path, lines) in stated {
        let text = std::fs::read_to_string(root.join(&path))
            .unwrap_or_else(|e| panic!("the README names {path}, which cannot be read: {e}"));
        let actual = text.lines().count();
        let slack = (actual / 10).max(10);
        assert!(
            lines.abs_diff(actual) <= slack,
            "the README says {path} has about {lines} lines; it has {actual}"
        );
    }
}

#[test]
fn every_relative_link_in_the_readme_and_docs_points_at_a_file() {
    let root = workspace_root();
    let mut pages = vec![root.join("README.md"), root.join("PITFALLS.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        pages.push(entry.expect("a docs/ entry").path());
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("a page");
        let folder = page.parent().expect("a page's folder");
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap_or_default();
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") {
                continue;
            }
            assert!(
                folder.join(file).exists(),
                "{} links to {target}, which does not exist",
                page.display()
            );
        }
    }
}

#[test]
fn a_stated_length_is_read_from_backticks_and_lines() {
    let text = "- `a/src/lib.rs` (312 lines): the method. `b.rs` (1,024 lines) and `c.rs` (x)";
    assert_eq!(
        stated_lengths(text),
        vec![
            ("a/src/lib.rs".to_string(), 312),
            ("b.rs".to_string(), 1024)
        ]
    );
}

//! What a task costs: `cost.md` (docs/benchmarks.md's block), each method against its bare
//! mechanism and a task piece by piece, and a `cost-METHOD.md` for each method, which the
//! method's lesson (its module doc) includes. From `<raw>/bench.tsv`, what `compare.sh
//! --update-docs` keeps of `cargo bench -p bench`: a line per benchmark row, its group (a
//! method, or `task` for the pieces), its name and its median time, per task where it can.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::format::{render, write_out};

#[derive(Debug, Default, Serialize)]
pub struct Cost {
    /// Each method's `run` against its bare mechanism, in the order the benchmarks ran.
    pub methods: Vec<MethodCost>,
    /// Each piece of a task timed alone (`bench/benches/task.rs`), by name: seconds a call.
    pub pieces: BTreeMap<String, f64>,
}

/// One method's row: the median time per task of its `run`, and of its bare mechanism.
#[derive(Debug, Serialize)]
pub struct MethodCost {
    pub method: String,
    pub run_s: f64,
    /// The name of the bare mechanism's row (`bare_loop`, `bare_rayon_spawn`, ...).
    pub bare: String,
    pub bare_s: f64,
}

/// Reads `<raw>/bench.tsv`, or `None` when the run has none (only `--update-docs` times them).
pub fn collate(path: &Path) -> Result<Option<Cost>, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let fail = |what: String| format!("{}: {what}", path.display());
    let mut rows = Vec::new();
    for line in text.lines() {
        let [group, name, seconds] = line.split('\t').collect::<Vec<_>>()[..] else {
            return Err(fail(format!("not a group, a name and seconds: {line}")));
        };
        let seconds: f64 = seconds.parse().map_err(|e| fail(format!("{e}")))?;
        rows.push((group, name, seconds));
    }
    let mut cost = Cost::default();
    for &(group, name, run_s) in &rows {
        if group == "task" {
            cost.pieces.insert(name.to_string(), run_s);
        } else if name == "method" {
            let bare = rows
                .iter()
                .find(|r| r.0 == group && r.1.starts_with("bare_"));
            let &(_, bare, bare_s) = bare.ok_or_else(|| fail(format!("{group}: no bare row")))?;
            let (method, bare) = (group.to_string(), bare.to_string());
            cost.methods.push(MethodCost {
                method,
                run_s,
                bare,
                bare_s,
            });
        }
    }
    Ok(Some(cost))
}

/// cost.md, and a cost-METHOD.md for each method's lesson, into `out`.
pub fn write(out: &Path, cost: Option<&Cost>) -> Result<(), String> {
    let none = Cost::default();
    write_out(out, "cost.md", &render("cost.md", cost.unwrap_or(&none))?)?;
    for method in cost.map_or(&[][..], |c| &c.methods) {
        let name = format!("cost-{}.md", method.method);
        write_out(out, &name, &render("cost-lesson.md", method)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_timed_nothing_says_so_and_writes_no_lesson_figure() {
        let out = tempfile::tempdir().expect("a folder");
        let cost = collate(&out.path().join("bench.tsv")).expect("no file is no error");
        assert!(cost.is_none());
        write(out.path(), cost.as_ref()).expect("written");
        let text = std::fs::read_to_string(out.path().join("cost.md")).expect("cost.md");
        assert!(text.contains("Not measured in this run"), "{text}");
        assert!(!out.path().join("cost-sequential.md").exists());
    }

    #[test]
    fn a_method_without_its_bare_row_or_a_line_that_is_not_three_fields_is_an_error() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("bench.tsv");
        std::fs::write(&path, "sequential\tmethod\t0.000001\n").expect("written");
        assert!(
            collate(&path)
                .unwrap_err()
                .contains("sequential: no bare row")
        );
        std::fs::write(&path, "sequential\tmethod\n").expect("written");
        assert!(collate(&path).unwrap_err().contains("not a group"));
        let rows = "sequential\tbare_loop\t0.0000004\nsequential\tmethod\t0.0000008\n";
        std::fs::write(&path, rows).expect("written");
        let cost = collate(&path).expect("read").expect("timed");
        assert_eq!(cost.methods[0].bare, "bare_loop");
        assert!((cost.methods[0].run_s / cost.methods[0].bare_s - 2.0).abs() < 1e-9);
    }
}

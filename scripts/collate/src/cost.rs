//! What a task costs: `cost.md` (docs/benchmarks.md's block), each method against its bare
//! mechanism and a task piece by piece, and a `cost-METHOD.md` for each method, which the
//! method's lesson (its module doc) includes. From `<raw>/bench.txt`, the tables `cargo bench
//! -p bench` printed in `compare.sh --update-docs`: each row's group (a method, or `task` for
//! the pieces), its name and its median time, per task where divan prints tasks per second.

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

/// Reads `<raw>/bench.txt`, or `None` when the run has none (only `--update-docs` times them).
pub fn collate(path: &Path) -> Result<Option<Cost>, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let fail = |what: String| format!("{}: {what}", path.display());
    let rows = divan_rows(&text).map_err(fail)?;
    if rows.is_empty() {
        return Err(fail("no benchmark rows".to_string()));
    }
    let mut cost = Cost::default();
    for (group, name, run_s) in &rows {
        if group == "task" {
            cost.pieces.insert(name.clone(), *run_s);
        } else if name == "method" {
            let bare = rows
                .iter()
                .find(|r| &r.0 == group && r.1.starts_with("bare_"));
            let (_, bare, bare_s) = bare.ok_or_else(|| fail(format!("{group}: no bare row")))?;
            cost.methods.push(MethodCost {
                method: group.clone(),
                run_s: *run_s,
                bare: bare.clone(),
                bare_s: *bare_s,
            });
        }
    }
    Ok(Some(cost))
}

/// Each row of divan's tables: its group (the program's name at the top of a table, or a
/// module's on a line of its own), its name and its median in seconds; per task where the line
/// under it gives tasks per second (one run of many tasks).
fn divan_rows(text: &str) -> Result<Vec<(String, String, f64)>, String> {
    let (mut rows, mut group) = (Vec::new(), String::new());
    let number = |n: &str| n.parse::<f64>().map_err(|e| format!("{n}: {e}"));
    for line in text.lines() {
        let cells = line
            .split(['│', '├', '╰', '─', ' '])
            .filter(|c| !c.is_empty());
        let cells: Vec<&str> = cells.collect();
        match cells[..] {
            [name] | [name, "fastest", ..] => group = name.to_string(),
            // A row's name is a word; the line under it starts with a figure.
            [name, _, _, _, _, median, unit, ..] if name.starts_with(char::is_alphabetic) => {
                let seconds = match unit {
                    "ns" => 1e-9,
                    "µs" | "us" => 1e-6,
                    "ms" => 1e-3,
                    "s" => 1.0,
                    _ => return Err(format!("{name}: a time in {unit}")),
                };
                rows.push((group.clone(), name.to_string(), number(median)? * seconds));
            }
            [_, _, _, _, median, unit, ..] if unit.ends_with("item/s") => {
                let per = match unit.trim_end_matches("item/s") {
                    "G" => 1e9,
                    "M" => 1e6,
                    "K" => 1e3,
                    "" => 1.0,
                    _ => return Err(format!("a throughput in {unit}")),
                };
                if let Some(row) = rows.last_mut() {
                    row.2 = 1.0 / (number(median)? * per);
                }
            }
            _ => {}
        }
    }
    Ok(rows)
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
        let cost = collate(&out.path().join("bench.txt")).expect("no file is no error");
        assert!(cost.is_none());
        write(out.path(), cost.as_ref()).expect("written");
        let text = std::fs::read_to_string(out.path().join("cost.md")).expect("cost.md");
        assert!(text.contains("Not measured in this run"), "{text}");
        assert!(!out.path().join("cost-sequential.md").exists());
    }

    #[test]
    fn a_method_without_its_bare_row_or_a_table_with_no_rows_is_an_error() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("bench.txt");
        let header = "threads  fastest │ slowest │ median │ mean │ samples │ iters\n";
        let method = "   ╰─ method   8 ms │ 15 ms │ 11 ms │ 11 ms │ 200 │ 200\n";
        std::fs::write(&path, format!("{header}╰─ sequential │ │\n{method}")).expect("written");
        assert!(
            collate(&path)
                .unwrap_err()
                .contains("sequential: no bare row")
        );
        std::fs::write(&path, "cargo: nothing to run\n").expect("written");
        assert!(collate(&path).unwrap_err().contains("no benchmark rows"));
        let odd = "   │                   1 Xitem/s │ 1 Xitem/s │ 1 Xitem/s │ 1 Xitem/s │ │\n";
        std::fs::write(&path, format!("{header}╰─ sequential │ │\n{method}{odd}"))
            .expect("written");
        assert!(
            collate(&path)
                .unwrap_err()
                .contains("a throughput in Xitem/s")
        );
    }

    #[test]
    fn a_rows_time_is_per_task_where_divan_counts_tasks_even_a_whole_number_of_them() {
        // The line under a row gives tasks per second; "961 Kitem/s", with no decimal point,
        // once read as a row named 961.
        let table = "\
threads                   fastest       │ slowest       │ median        │ mean          │ samples │ iters
╰─ async                                │               │               │               │         │
   ├─ bare_join_set_and_call  10.01 ms  │ 34 ms         │ 17.63 ms      │ 17.74 ms      │ 200     │ 200
   │                      998.5 Kitem/s │ 294 Kitem/s   │ 500 Kitem/s   │ 563.4 Kitem/s │         │
   ╰─ method                  10.4 ms   │ 35.58 ms      │ 20 ms         │ 20.3 ms       │ 200     │ 200
                              961 Kitem/s │ 281 Kitem/s │ 250 Kitem/s   │ 492.4 Kitem/s │         │
task                      fastest       │ slowest       │ median        │ mean          │ samples │ iters
├─ clock_read             22.88 ns      │ 22.97 ns      │ 22.96 ns      │ 22.95 ns      │ 100     │ 12800
";
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("bench.txt");
        std::fs::write(&path, table).expect("written");
        let cost = collate(&path).expect("read").expect("timed");
        assert_eq!(cost.methods.len(), 1);
        let async_ = &cost.methods[0];
        assert_eq!(
            (async_.method.as_str(), async_.bare.as_str()),
            ("async", "bare_join_set_and_call")
        );
        assert!((async_.bare_s - 2e-6).abs() < 1e-12, "{}", async_.bare_s);
        assert!((async_.run_s - 4e-6).abs() < 1e-12, "{}", async_.run_s);
        assert!((cost.pieces["clock_read"] - 22.96e-9).abs() < 1e-15);
    }
}

//! The comparison of a workload of the reader's, as data (its compare.json): `yours` fills it
//! from the reports, and `decision` reads it to decide and to say why.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Case, Language, Machine, best_within};

/// One method on the workload: its runs at each worker count.
#[derive(Debug, Serialize)]
pub struct Method {
    pub program: String,
    pub method: String,
    pub family: String,
    pub language: Language,
    /// By worker count; the sequential program's one case sits under 1.
    pub counts: BTreeMap<usize, Case>,
    /// The fewest workers within 5% of the highest median speedup.
    pub best: Option<usize>,
}

impl Method {
    pub fn best_case(&self) -> Option<(usize, &Case)> {
        let w = self.best?;
        Some((w, self.counts.get(&w)?))
    }
}

#[derive(Debug, Serialize)]
pub struct Yours {
    pub workload: String,
    pub tasks: usize,
    /// Whether any task writes (then every run worked on a scratch copy of the database).
    pub writes: bool,
    pub command: String,
    pub mode: String,
    pub runs: usize,
    pub machine: Machine,
    /// How the speedups are measured.
    pub baseline: &'static str,
    pub shape: Shape,
    pub decision: Decision,
    pub methods: Vec<Method>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_left_out: Option<String>,
    /// compare.md.
    pub table_markdown: String,
}

/// What the tasks spend their time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Most of each task is its wait: workers beyond the cores still help, up to one per task.
    Waits,
    /// Most of each task is its SQL, computed inside SQLite.
    Sqlite,
    /// Most of each task is the program's own work on the rows its SQL returns.
    Program,
}

/// The workload's shape, from the baseline's reports.
#[derive(Debug, Serialize)]
pub struct Shape {
    pub kind: Kind,
    /// The share of the baseline's task time spent waiting (median over the runs).
    pub wait_share: f64,
    /// Rows each task returned, on average.
    pub rows_per_task: f64,
    /// How the SQL part was told apart (SQLite or the program), in one sentence.
    pub evidence: String,
}

/// Which method, at how many workers, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decision {
    /// The clear winner, or the tree's choice among the tied; `null` without a speedup.
    pub choice: Option<String>,
    /// The choice's best count.
    pub workers: Option<usize>,
    /// Whether the choice beat every other method beyond the noise of the runs.
    pub clear: bool,
    /// The methods the runs cannot tell apart from the fastest (empty when the answer is clear).
    pub tied: Vec<String>,
    pub why: String,
}

/// Each count's median speedup, where it has one.
pub fn speedups(counts: &BTreeMap<usize, Case>) -> impl Iterator<Item = (usize, f64)> + '_ {
    let speedup = |(w, c): (&usize, &Case)| Some((*w, c.speedup.as_ref()?.median));
    counts.iter().filter_map(speedup)
}

/// A method's best count (see [`Method::best`]).
pub fn best(counts: &BTreeMap<usize, Case>) -> Option<usize> {
    best_within(speedups(counts))
}

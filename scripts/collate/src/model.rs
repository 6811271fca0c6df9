//! The model every output reads: the table's rows, a measurement's figures over its runs
//! ([`Case`], each a [`Spread`]), the machine, and the names of the cases compare.sh runs
//! ([`cases`]). The bottom layer, with [`crate::read`] and [`crate::format`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shared::RunReport;

/// What a program is written in, as its report says (`"language"`; the Rust programs' reports
/// predate the field and leave it out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
}

impl Language {
    pub fn of(report: &serde_json::Value) -> Result<Language, String> {
        match report.get("language").and_then(|l| l.as_str()) {
            None | Some("rust") => Ok(Language::Rust),
            Some("python") => Ok(Language::Python),
            Some(other) => Err(format!("an unknown language '{other}'")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
        }
    }
}

/// One row of the table: the program whose reports fill it, and what the reader sees.
pub struct Row {
    /// The `<program>` in the report files' names.
    pub program: &'static str,
    /// The method, in the words both languages share: the table's first word, and what
    /// compare.svg groups by.
    pub family: &'static str,
    pub language: Language,
    /// The mechanism, after the language, in the row's label.
    pub mechanism: &'static str,
}

impl Row {
    /// `threadpool (Python, ThreadPoolExecutor)`.
    pub fn label(&self) -> String {
        let (family, language, mechanism) = (self.family, self.language.name(), self.mechanism);
        format!("{family} ({language}, {mechanism})")
    }
}

/// The Rust programs, as their reports are named: the baseline and the four methods.
pub mod programs {
    pub const SEQUENTIAL: &str = "sequential";
    pub const THREADPOOL: &str = "threadpool_executor";
    pub const ASYNC: &str = "async_executor";
    pub const PROCESSES: &str = "multiprocessing_executor";
    pub const THREADING: &str = "threading_executor";
    /// guide.py's, under the same method names.
    pub const PY_SEQUENTIAL: &str = "python-sequential";
    pub const PY_THREADPOOL: &str = "python-threadpool";
    pub const PY_ASYNC: &str = "python-asyncio";
    pub const PY_PROCESSES: &str = "python-multiprocessing";
    pub const PY_THREADING: &str = "python-threading";
}

/// The names of the cases `scripts/compare.sh` runs, as its reports are named
/// (`<program>__<case>__r<run>.json`): one list, which a test holds to the script.
pub mod cases {
    /// The sequential baselines of the guide's workloads, one per round.
    pub const IO: &str = "io";
    pub const CPU: &str = "cpu";
    pub const FETCH: &str = "fetch";
    /// 10,000 × `SELECT 1` (Python's 2,000): the cost per task.
    pub const OVERHEAD: &str = "overhead";
    /// The methods' measurements, against the round's baseline.
    pub const IO4: &str = "io4";
    pub const IOBEST: &str = "iobest";
    pub const CPU2: &str = "cpu2";
    pub const FETCH2: &str = "fetch2";
    /// async's io tasks run as blocking calls on the runtime's threads.
    pub const BLOCKING: &str = "blocking";
    /// 1,000 concurrent waits: memory and startup at scale.
    pub const SCALE: &str = "scale";
    /// `sweep-<workers>`: the worker sweep's points.
    pub const SWEEP: &str = "sweep-";
    /// A reader's own workload: the baseline, and `w<workers>` for each method.
    pub const BASELINE: &str = "baseline";
    pub const WORKERS: &str = "w";
}

/// The family of the baselines, which every speedup divides by: the one family that is not a
/// method of concurrency.
pub const BASELINE_FAMILY: &str = "sequential";

/// The rows of the table, in order: each method in Rust, then the same method in Python, so
/// that the two sit one above the other.
#[rustfmt::skip] // a table, one row a line
pub const ROWS: [Row; 10] = [
    row(programs::SEQUENTIAL, BASELINE_FAMILY, Language::Rust, "baseline"),
    row(programs::PY_SEQUENTIAL, BASELINE_FAMILY, Language::Python, "baseline"),
    row("threadpool_executor", "threadpool", Language::Rust, "rayon pool"),
    row("python-threadpool", "threadpool", Language::Python, "ThreadPoolExecutor"),
    row("async_executor", "async", Language::Rust, "tokio"),
    row("python-asyncio", "async", Language::Python, "asyncio.gather"),
    row("multiprocessing_executor", "multiprocessing", Language::Rust, "fork"),
    row("python-multiprocessing", "multiprocessing", Language::Python, "multiprocessing.Pool"),
    row("threading_executor", "threading", Language::Rust, "hand-written"),
    row("python-threading", "threading", Language::Python, "queue.Queue + Thread"),
];

type Name = &'static str;

const fn row(program: Name, family: Name, language: Language, mechanism: Name) -> Row {
    Row {
        program,
        family,
        language,
        mechanism,
    }
}

/// What the guide reported on its own io benchmark ("8 SQLite queries with artificial delays
/// (0.05 s to 0.3 s)"), on a machine and with worker counts it does not give: quoted under the
/// table, never measured here.
pub const GUIDE_QUOTED: [(&str, &str); 4] = [
    ("ThreadPoolExecutor", "3.00x"),
    ("asyncio", "4.13x"),
    ("multiprocessing", "3.82x"),
    ("manual threading", "3.01x"),
];

/// A figure over the runs: the median, the range, and every value.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub values: Vec<f64>,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let raw = values.clone();
        values.sort_by(f64::total_cmp);
        let n = values.len();
        // The middle value, or the mean of the two middle ones (x + x over 2 is x, exactly).
        let median = (values[(n - 1) / 2] + values[n / 2]) / 2.0;
        Some(Spread {
            median,
            min: values[0],
            max: values[n - 1],
            values: raw,
        })
    }

    /// A figure of each of `runs`, or `None` where one lacks it.
    pub fn each<T>(runs: &[T], figure: impl Fn(&T) -> Option<f64>) -> Option<Spread> {
        Spread::of(runs.iter().map(figure).collect::<Option<_>>()?)
    }

    /// The same figure in other units: every value times `factor`.
    pub fn scaled(&self, factor: f64) -> Spread {
        Spread {
            median: self.median * factor,
            min: self.min * factor,
            max: self.max * factor,
            values: self.values.iter().map(|v| v * factor).collect(),
        }
    }

    /// `3.24x (3.22–3.25)`, or just `3.24x` when there was one run or no spread at this precision.
    pub fn show(&self, decimals: usize, unit: &str) -> String {
        let [median, min, max] =
            [self.median, self.min, self.max].map(|v| format!("{v:.decimals$}"));
        if self.values.len() < 2 || min == max {
            format!("{median}{unit}")
        } else {
            format!("{median}{unit} ({min}–{max})")
        }
    }
}

/// The figures of one measurement (a program on a case) over its runs.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub command: String,
    pub workers: usize,
    pub tasks: usize,
    pub wall_s: Spread,
    pub startup_s: Spread,
    pub per_task_us: Spread,
    pub tasks_per_s: Spread,
    pub max_rss_kib: Spread,
    pub children_max_rss_kib: Spread,
    pub children_pss_kib: Option<Spread>,
    pub speedup: Option<Spread>,
    pub ideal_speedup: Option<Spread>,
    /// What set the ideal: "workers", "cores" or "connections" (see `shared::Bound`).
    pub ideal_bound: Option<String>,
    /// The median speedup is above the median ideal: no method beats the best schedule of the
    /// baseline's own task times, so the baseline ran slower than its work needs (noise, a
    /// cold cache), and the table marks it.
    pub above_ideal: bool,
    pub efficiency: Option<Spread>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MethodFigures {
    pub program: String,
    pub method: String,
    /// The method in the words both languages share ("threadpool", "async", ...).
    pub family: String,
    /// "rust" for this workspace's programs, "python" for guide.py's methods.
    pub language: Language,
    /// The interpreter that ran a Python method, as its reports name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    pub cases: BTreeMap<String, Case>,
    /// The smallest worker count of the sweep within 5% of the highest throughput (Rust's
    /// methods only: Python's are not swept).
    pub best_concurrency: Option<usize>,
}

/// The machine a run measured on, as compare.sh recorded it in `raw/machine.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub os: String,
    pub rustc: String,
}

/// fetch's rounds of digest per value in each language: the one way the two are not given the
/// same tasks.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rounds {
    pub rust_fetch: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_fetch: Option<u32>,
}

/// A figure read off one run's report, `None` where the report lacks it.
pub type Figure<'a> = &'a dyn Fn(&RunReport) -> Option<f64>;

/// Every report: program → case → runs, in run order (r1 first).
pub type Reports = BTreeMap<String, BTreeMap<String, Vec<RunReport>>>;

/// The sweep's points, by worker count, from the cases named `sweep-<workers>`.
pub fn sweep<'a>(cases: &'a BTreeMap<String, Case>) -> Vec<(usize, &'a Case)> {
    let point = |(name, case): (&String, &'a Case)| {
        Some((name.strip_prefix(cases::SWEEP)?.parse().ok()?, case))
    };
    let mut points: Vec<(usize, &Case)> = cases.iter().filter_map(point).collect();
    points.sort_by_key(|(workers, _)| *workers);
    points
}

pub fn best_concurrency(cases: &BTreeMap<String, Case>) -> Option<usize> {
    let points = sweep(cases).into_iter();
    best_within(points.map(|(w, c)| (w, c.tasks_per_s.median)))
}

/// The methods that are swept and drawn per worker: every method but the baselines.
pub fn executors(methods: &[MethodFigures]) -> impl Iterator<Item = &MethodFigures> {
    methods.iter().filter(|m| m.family != BASELINE_FAMILY)
}

/// How many tasks one language's methods ran in `case` (the first method's: they all run the
/// same), if that language ran it.
pub fn tasks_in(methods: &[MethodFigures], language: Language, case: &str) -> Option<usize> {
    let mut of_language = executors(methods).filter(|m| m.language == language);
    of_language.find_map(|m| m.cases.get(case)).map(|c| c.tasks)
}

/// Each sweep task waits the `scale` preset's 100 ms, so W workers can finish at most W / 0.1 s
/// tasks a second.
pub const SWEEP_WAIT_S: f64 = 0.1;

/// The item of the highest figure, if any.
pub fn highest<T>(items: impl IntoIterator<Item = (T, f64)>) -> Option<(T, f64)> {
    items.into_iter().max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The lowest of `values` ([`high`], the highest), `None` when there are none.
pub fn low(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::min)
}

pub fn high(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

/// How close to the best a figure must be to count as reaching it: a worker (or a connection)
/// more that gains less than this is within the noise of a shared machine, a cost with nothing
/// measured to show for it. The one rule behind every "within 5%" of the outputs.
pub const WITHIN: f64 = 0.05;

/// `yes` when `when` holds, else `no`: a choice of two values that fits in an expression.
pub fn either<T>(when: bool, yes: T, no: T) -> T {
    if when { yes } else { no }
}

/// Whether `value` is within [`WITHIN`] of `best`.
pub fn within(value: f64, best: f64) -> bool {
    value >= (1.0 - WITHIN) * best
}

/// The first of `points` (key, figure) whose figure is within [`WITHIN`] of the highest: with
/// points in ascending order of workers, the fewest workers that do as well as the most.
pub fn best_within<K>(points: impl IntoIterator<Item = (K, f64)>) -> Option<K> {
    let points: Vec<(K, f64)> = points.into_iter().collect();
    let best = points.iter().map(|(_, v)| *v).fold(f64::NAN, f64::max);
    let reaching = points.into_iter().find(|(_, v)| within(*v, best));
    reaching.map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::cases::*;

    /// Every case name collate reads.
    const ALL: [&str; 13] = [
        IO, CPU, FETCH, OVERHEAD, IO4, IOBEST, CPU2, FETCH2, BLOCKING, SCALE, SWEEP, BASELINE,
        WORKERS,
    ];

    /// compare.sh names each report `<program>__<case>`: every case collate reads by name is one
    /// the script writes, so that renaming a case on one side fails here, not in a run.
    #[test]
    fn every_case_name_is_one_compare_sh_writes() {
        let script = include_str!("../../compare.sh");
        for case in ALL {
            let written = ["${1}", "${m}", "sequential", "async_executor"]
                .iter()
                .any(|program| script.contains(&format!("{program}__{case}")));
            assert!(written, "compare.sh writes no case named '{case}'");
        }
    }
}

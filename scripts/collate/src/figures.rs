//! The collated figures of a run, looked up by program and case, and how the generated pages
//! (decide.md, lessons.md, pitfalls.md) print them: a median, or a range over several methods,
//! and "not measured in this run" where the run has no such figure, so that a page never
//! quotes a figure the run did not measure.

use crate::model::{Case, Language, MethodFigures, SWEEP_WAIT_S};

pub const NOT_MEASURED: &str = "not measured in this run";

/// The collated figures of this run, looked up by program and case.
pub struct Figures<'a> {
    methods: &'a [MethodFigures],
}

impl<'a> Figures<'a> {
    pub fn new(methods: &'a [MethodFigures]) -> Figures<'a> {
        Figures { methods }
    }

    /// Whether the run has this program's rows.
    pub fn has(&self, program: &str) -> bool {
        self.methods.iter().any(|m| m.program == program)
    }

    /// Whether the run has the Python guide's rows.
    pub fn python(&self) -> bool {
        self.methods.iter().any(|m| m.language == Language::Python)
    }

    pub fn case(&self, program: &str, case: &str) -> Option<&Case> {
        self.methods
            .iter()
            .find(|m| m.program == program)?
            .cases
            .get(case)
    }

    /// The median of one figure of one measurement, if the run has it.
    pub fn median(
        &self,
        program: &str,
        case: &str,
        pick: impl Fn(&Case) -> Option<f64>,
    ) -> Option<f64> {
        self.case(program, case).and_then(pick)
    }

    pub fn speedup(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| c.speedup.as_ref().map(|s| s.median))
    }

    pub fn efficiency(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| c.efficiency.as_ref().map(|s| s.median))
    }

    pub fn ideal_speedup(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| {
            c.ideal_speedup.as_ref().map(|s| s.median)
        })
    }

    pub fn per_task_us(&self, program: &str) -> Option<f64> {
        self.median(program, "overhead", |c| Some(c.per_task_us.median))
    }

    pub fn startup_ms(&self, program: &str) -> Option<f64> {
        self.median(program, "io4", |c| Some(c.startup_s.median * 1e3))
    }

    /// Peak memory during 1,000 concurrent waits, in MB: for processes, the parent's peak plus
    /// the children's proportional shares (`Pss`), as in compare.md.
    pub fn memory_mb(&self, program: &str) -> Option<f64> {
        let scale = self.case(program, "scale")?;
        let children = scale
            .children_pss_kib
            .as_ref()
            .map_or(0.0, |pss| pss.median);
        Some((scale.max_rss_kib.median + children) * 1024.0 / 1e6)
    }

    /// Sweep throughput at `workers` as a percentage of the ideal, workers / 0.1 s.
    pub fn sweep_percent(&self, program: &str, workers: usize) -> Option<f64> {
        let case = self.case(program, &format!("sweep-{workers}"))?;
        Some(100.0 * case.tasks_per_s.median / (workers as f64 / SWEEP_WAIT_S))
    }

    /// The largest worker count of the sweep that every swept method ran (Python's methods are
    /// not swept).
    pub fn widest_sweep(&self) -> Option<usize> {
        crate::model::executors(self.methods)
            .filter_map(|m| crate::model::sweep(&m.cases).last().map(|(w, _)| *w))
            .min()
    }

    /// The method's label in the table: `threadpool (Rust, rayon pool)`.
    pub fn label(&self, program: &str) -> String {
        self.methods
            .iter()
            .find(|m| m.program == program)
            .map_or_else(|| program.to_string(), |m| m.method.clone())
    }

    /// The worker counts of the sweep, from the first swept method.
    pub fn sweep_counts(&self) -> Vec<usize> {
        crate::model::executors(self.methods)
            .map(|m| crate::model::sweep(&m.cases))
            .find(|points| !points.is_empty())
            .map(|points| points.iter().map(|(w, _)| *w).collect())
            .unwrap_or_default()
    }

    /// The method's short name, as compare.svg labels it ("threadpool", "async", ...).
    pub fn short_name(&self, program: &str) -> String {
        self.methods
            .iter()
            .find(|m| m.program == program)
            .and_then(|m| m.method.split(' ').next())
            .unwrap_or(program)
            .to_string()
    }
}

/// `3.29x`, or "not measured in this run".
pub fn one(value: Option<f64>, decimals: usize, unit: &str) -> String {
    value.map_or(NOT_MEASURED.to_string(), |v| {
        format!("{v:.decimals$}{unit}")
    })
}

/// `0.82–0.95x` over the values the run has, one figure if they agree at this precision.
pub fn span(values: &[Option<f64>], decimals: usize, unit: &str) -> String {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let Some(low) = present.iter().copied().reduce(f64::min) else {
        return NOT_MEASURED.to_string();
    };
    let high = present.iter().copied().fold(low, f64::max);
    let (low, high) = (format!("{low:.decimals$}"), format!("{high:.decimals$}"));
    if low == high {
        format!("{low}{unit}")
    } else {
        format!("{low}–{high}{unit}")
    }
}

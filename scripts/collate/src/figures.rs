//! The collated figures of a run, looked up by program and case, for the generated pages
//! (decide.md, lessons.md, pitfalls.md): each `None` where the run has no such figure, so that
//! a page says "not measured in this run" rather than quote a figure the run did not measure.

use crate::model::{Case, Language, MethodFigures, SWEEP_WAIT_S, Spread, cases, executors, sweep};

/// The programs the pages name: Rust's, and the Python guide's as guide.py names its reports.
pub struct Figures<'a>(pub &'a [MethodFigures]);

impl<'a> Figures<'a> {
    fn method(&self, program: &str) -> Option<&'a MethodFigures> {
        self.0.iter().find(|m| m.program == program)
    }

    pub fn has(&self, program: &str) -> bool {
        self.method(program).is_some()
    }

    /// Whether the run has the Python guide's rows.
    pub fn python(&self) -> bool {
        self.0.iter().any(|m| m.language == Language::Python)
    }

    pub fn case(&self, program: &str, case: &str) -> Option<&'a Case> {
        self.method(program)?.cases.get(case)
    }

    fn median(&self, program: &str, case: &str, pick: fn(&Case) -> Option<&Spread>) -> Option<f64> {
        Some(pick(self.case(program, case)?)?.median)
    }

    pub fn speedup(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| c.speedup.as_ref())
    }

    pub fn efficiency(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| c.efficiency.as_ref())
    }

    pub fn ideal_speedup(&self, program: &str, case: &str) -> Option<f64> {
        self.median(program, case, |c| c.ideal_speedup.as_ref())
    }

    pub fn per_task_us(&self, program: &str) -> Option<f64> {
        self.median(program, cases::OVERHEAD, |c| Some(&c.per_task_us))
    }

    pub fn startup_ms(&self, program: &str) -> Option<f64> {
        Some(self.median(program, cases::IO4, |c| Some(&c.startup_s))? * 1e3)
    }

    /// Peak memory during 1,000 concurrent waits, in MB: for processes, the parent's peak plus
    /// the children's proportional shares (`Pss`), as in compare.md.
    pub fn memory_mb(&self, program: &str) -> Option<f64> {
        let scale = self.case(program, cases::SCALE)?;
        let children = scale.children_pss_kib.as_ref().map_or(0.0, |s| s.median);
        Some((scale.max_rss_kib.median + children) * 1024.0 / 1e6)
    }

    /// Sweep throughput at `workers` as a percentage of the ideal, workers / 0.1 s.
    pub fn sweep_percent(&self, program: &str, workers: usize) -> Option<f64> {
        let case = self.case(program, &format!("{}{workers}", cases::SWEEP))?;
        Some(100.0 * case.tasks_per_s.median / (workers as f64 / SWEEP_WAIT_S))
    }

    /// Each of `programs` the run swept at `workers`, by short name, with its percentage.
    pub fn sweep_at(&self, programs: &[&str], workers: usize) -> Vec<(String, f64)> {
        // A method's short name, as compare.svg labels it: its family ("threadpool", ...).
        let name = |p: &str| self.method(p).map_or(p, |m| &m.family).to_string();
        let at = |p: &&str| Some((name(p), self.sweep_percent(p, workers)?));
        programs.iter().filter_map(at).collect()
    }

    /// The largest worker count of the sweep that every swept method ran (Python's methods are
    /// not swept).
    pub fn widest_sweep(&self) -> Option<usize> {
        executors(self.0)
            .filter_map(|m| sweep(&m.cases).last().map(|(w, _)| *w))
            .min()
    }

    /// The worker counts of the sweep, from the first swept method.
    pub fn sweep_counts(&self) -> Vec<usize> {
        let mut swept = executors(self.0).map(|m| sweep(&m.cases));
        let first = swept.find(|points| !points.is_empty()).unwrap_or_default();
        first.iter().map(|(w, _)| *w).collect()
    }

    /// The method's label in the table: `threadpool (Rust, rayon pool)`.
    pub fn label(&self, program: &str) -> String {
        self.method(program)
            .map_or_else(|| program.to_string(), |m| m.method.clone())
    }
}

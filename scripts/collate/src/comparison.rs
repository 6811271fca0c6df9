//! The whole run's model, as compare.json writes it: every method's figures on the guide's
//! workloads, and each section's own (writes, mix, questions, faults, start), read from the
//! raw reports in one place so that every output reads the same figures.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Args;
use crate::model::{
    BASELINE_FAMILY, Case, GUIDE_QUOTED, Language, Machine, MethodFigures, ROWS, Reports, Rounds,
    Row, best_concurrency, cases, either,
};
use crate::read::{load, machine, summarise};
use crate::{baseline, cost, faults, mix, questions, split, start, timelines, writes};

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub command: String,
    pub mode: String,
    pub runs: usize,
    pub machine: Machine,
    pub methods: Vec<MethodFigures>,
    /// Why there are no Python methods above, when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_left_out: Option<String>,
    /// How the workloads differ between the languages (fetch's rounds of digest per value).
    pub rounds: Rounds,
    /// The guide's own io speedups: quoted, not measured.
    pub guide_quoted_io_speedup: BTreeMap<&'static str, &'static str>,
    /// The writes table's cells, and the reads' SQL time beside a writer.
    pub writes: writes::Writes,
    /// async's SQL on connection threads against spawn_blocking (`sql_on`), and throughput by
    /// connection count (`connection_sweep`), when the run has them.
    #[serde(flatten)]
    pub questions: Option<questions::Questions>,
    /// The `app` mix of reads and writes, when the run has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<mix::Mix>,
    /// The write share swept (`write_share_sweep`) and the held transactions
    /// (`held_transaction`), when the run has them.
    #[serde(flatten)]
    pub split: Option<split::Split>,
    /// What each program reported of the faults injected on purpose for PITFALLS.md, when the
    /// run has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<faults::Faults>,
    /// How the speedups' baseline was measured: shared by the methods of a round, or run inside
    /// each method's own process.
    pub baseline: &'static str,
    /// How soon each start method's pool was ready, when the run measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<start::Start>,
    /// A task's cost under each method against its bare mechanism, when the run timed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<cost::Cost>,
    /// compare.md.
    pub table_markdown: String,
}

impl Comparison {
    /// Whether the speedups were measured against each round's shared baseline (see
    /// [`baseline`]), rather than against a sequential run in each method's own process.
    pub fn shared_baseline(&self) -> bool {
        self.baseline == baseline::HOW
    }

    /// Reads `args.raw`: every report, each measured against its round's baseline, summarised
    /// over its runs; and the reports themselves, for the timelines.
    pub fn read(args: &Args) -> Result<(Comparison, Reports), String> {
        let (mut reports, origins) = load(&args.raw, args.runs)?;
        let shared_baseline = baseline::attach(&mut reports, preset_baseline)? > 0;
        let mut methods = Vec::new();
        let wanted = |r: &&Row| r.language == Language::Rust || args.python;
        for row in ROWS.iter().filter(wanted) {
            let (program, raw) = (row.program, args.raw.display());
            let (Some(cases), Some(origin)) = (reports.get(program), origins.get(program)) else {
                return Err(format!("no reports from {program} in {raw}"));
            };
            let (theirs, ours) = (origin.language.name(), row.language.name());
            if theirs != ours {
                return Err(format!("{program}: its reports are {theirs}, not {ours}"));
            }
            let mut summarised: BTreeMap<String, Case> = BTreeMap::new();
            for (case, runs) in cases {
                summarised.insert(case.clone(), summarise(program, case, runs)?);
            }
            let best_concurrency = best_concurrency(&summarised);
            methods.push(MethodFigures {
                program: program.to_string(),
                method: row.label(),
                family: row.family.to_string(),
                language: row.language,
                interpreter: origin.interpreter.clone(),
                cases: summarised,
                best_concurrency,
            });
        }
        let comparison = Comparison {
            command: args.command.clone(),
            mode: args.mode.clone(),
            runs: args.runs,
            machine: machine(&args.raw)?,
            methods,
            python_left_out: args.python_left_out.clone(),
            rounds: Rounds::read(&args.raw, args.python)?,
            guide_quoted_io_speedup: GUIDE_QUOTED.into_iter().collect(),
            writes: writes::collate(&args.raw.join("writes"), args.runs)?,
            questions: questions::collate(&args.raw, args.runs)?,
            mix: mix::collate(&args.raw.join("mix"), args.runs)?,
            split: split::collate(&args.raw, args.runs)?,
            // A fault injected on purpose runs in the first round only: it shows which tasks
            // fail, not a time to take a median of.
            faults: faults::collate(&args.raw.join("faults"), 1)?,
            baseline: either(shared_baseline, baseline::HOW, OWN_BASELINE),
            start: start::collate(&args.raw.join("start"), args.runs)?,
            cost: cost::collate(&args.raw.join("bench.txt"))?,
            table_markdown: String::new(),
        };
        Ok((comparison, reports))
    }
}

/// Which sequential case each of a method's cases is measured against, when compare.sh ran it
/// without a baseline of its own (see [`baseline`]): the io runs (4 workers, the best setting,
/// async's blocking calls) against the io baseline, cpu and fetch against theirs.
pub fn preset_baseline(case: &str) -> Option<&'static str> {
    use cases::{BLOCKING, CPU, CPU2, FETCH, FETCH2, IO, IO4, IOBEST};
    let against = [
        (IO4, IO),
        (IOBEST, IO),
        (BLOCKING, IO),
        (CPU2, CPU),
        (FETCH2, FETCH),
    ];
    let found = against.into_iter().find(|(measured, _)| *measured == case);
    found.map(|(_, base)| base)
}

/// The runs timelines.svg draws: the Rust baseline's io and each Rust method's io on 4 workers,
/// the first run of each, in the table's order.
pub fn io_runs(reports: &Reports) -> Result<Vec<timelines::Panel<'_>>, String> {
    let panel = |row: &Row| {
        let case = either(row.family == BASELINE_FAMILY, cases::IO, cases::IO4);
        let runs = reports.get(row.program).and_then(|cases| cases.get(case));
        let missing = || format!("{}: no '{case}' measurement", row.program);
        let report = runs.and_then(|runs| runs.first()).ok_or_else(missing)?;
        Ok(timelines::Panel {
            method: row.label(),
            report,
        })
    };
    let rust = ROWS.iter().filter(|row| row.language == Language::Rust);
    rust.map(panel).collect()
}

/// How the speedups were measured in a run from before the shared baseline.
const OWN_BASELINE: &str =
    "one sequential run inside each method's own process, after the method's";

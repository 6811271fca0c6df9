//! What the report says about a run beyond each task's outcome: how long the children took to
//! start, how much memory they used (the writer process's included), which of them were lost
//! and replaced, and what the writer process did, if there was one. The pool (`lib.rs`) records
//! each of these as it happens; at the end, [`Notes::into_run`] makes the report: the figures
//! go into its own fields, and the rest, in words, into its notes.

use std::time::Duration;

use nix::unistd::Pid;
use shared::cli::counted;
use shared::{Outcome, Run};

use crate::frames::WriterTally;
use crate::memory::ChildMemory;
use crate::options::Start;

/// How many events (timeouts, deaths) the notes list before summing up the rest.
const MAX_EVENT_NOTES: usize = 10;

pub(crate) struct Notes {
    /// How many children the pool keeps alive while there is work for them.
    size: usize,
    /// How they start, in the words of the notes: "forked", "spawned", ...
    started: &'static str,
    /// How many children were started, the first `size` and any started in place of lost ones.
    starts: usize,
    /// From the start until ready, for each of the first `size` children.
    startups: Vec<Duration>,
    /// When the last of the first `size` children reported ready.
    all_ready: Duration,
    /// Each child's own peak resident memory (`VmHWM`), in KiB.
    peaks: Vec<u64>,
    /// Each child's proportional share of memory at its exit (`Pss`), in KiB.
    shares: Vec<u64>,
    /// What went wrong with children, one sentence each.
    events: Vec<String>,
    /// What the writer process did (see `writer.rs`), in words.
    writer: Option<String>,
}

impl Notes {
    pub fn new(size: usize, start: &Start) -> Notes {
        let started = match start {
            Start::Fork => "forked",
            Start::Spawn => "spawned (this program run again as a worker)",
            Start::ForkServer(_) => "forked by the fork server",
        };
        Notes {
            size,
            started,
            starts: 0,
            startups: Vec::new(),
            all_ready: Duration::ZERO,
            peaks: Vec::new(),
            shares: Vec::new(),
            events: Vec::new(),
            writer: None,
        }
    }

    pub fn worker_started(&mut self) {
        self.starts += 1;
    }

    /// How many children were started so far.
    pub fn workers_started(&self) -> usize {
        self.starts
    }

    /// A child started at `started` reported ready at `at`. Only the first `size` count: the
    /// startup measured is the pool's, not that of a replacement started mid-run.
    pub fn ready(&mut self, started: Duration, at: Duration) {
        if self.startups.len() < self.size {
            self.startups.push(at.saturating_sub(started));
            self.all_ready = self.all_ready.max(at);
        }
    }

    /// A child's memory figures, as it reported them at its exit or as read before a kill.
    pub fn memory(&mut self, memory: ChildMemory) {
        self.peaks.extend(memory.peak_rss_kib);
        self.shares.extend(memory.pss_kib);
    }

    pub fn event(&mut self, sentence: String) {
        self.events.push(sentence);
    }

    /// What the writer process `pid` said it did, when it finished.
    pub fn writer(&mut self, pid: Pid, tally: &WriterTally) {
        let who = format!("one writer process (pid {pid})");
        self.writer = Some(tally.commits.sentence(&who));
    }

    /// The run's report: its outcomes, with the children's startup and memory, and the notes.
    /// (No `with_connections`: every worker process has a connection of its own.)
    pub fn into_run(
        self,
        outcomes: Vec<Outcome>,
        workers: usize,
        wall: Duration,
        pipelining: Option<String>,
    ) -> Run {
        let largest_peak = self.peaks.iter().copied().max();
        let summed_shares = (!self.shares.is_empty()).then(|| self.shares.iter().sum());
        let sentences = self.sentences(pipelining);
        Run::new(outcomes, workers, self.all_ready, wall)
            .with_children_memory(largest_peak, summed_shares)
            .with_notes(sentences)
    }

    /// The notes, one sentence each, with pipelining's (see `pipelining.rs`) if it has one.
    fn sentences(&self, pipelining: Option<String>) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.startups.is_empty() {
            let mean = self.startups.iter().sum::<Duration>() / self.startups.len() as u32;
            notes.push(format!(
                "{} {}; from the request until ready (a child opens its connection later, at its \
                 first query): {:.0} µs per child on average, all ready {:.2} ms after the start",
                counted(
                    self.startups.len() as u64,
                    "worker process",
                    "worker processes"
                ),
                self.started,
                mean.as_secs_f64() * 1e6,
                self.all_ready.as_secs_f64() * 1e3
            ));
        }
        if let Some(peak) = self.peaks.iter().max() {
            let shares: u64 = self.shares.iter().sum();
            notes.push(format!(
                "children's memory, measured by each child in /proc/self: largest peak RSS (VmHWM) {peak} KiB, \
                 counting pages shared copy-on-write with the parent in full; proportional share (Pss) at exit, \
                 summed over the children that exited normally ({}): {shares} KiB \
                 (getrusage's figure for children starts at the parent's peak at fork, so it overstates)",
                self.shares.len()
            ));
        }
        notes.extend(self.writer.clone());
        notes.extend(pipelining);
        if self.starts > self.size {
            notes.push(format!(
                "lost worker processes replaced by new ones (started as --start says): {}",
                self.starts - self.size
            ));
        }
        let shown = self.events.len().min(MAX_EVENT_NOTES);
        notes.extend(self.events[..shown].iter().cloned());
        if self.events.len() > shown {
            notes.push(format!(
                "and {} lost and replaced",
                counted(
                    (self.events.len() - shown) as u64,
                    "more worker",
                    "more workers"
                )
            ));
        }
        notes
    }
}

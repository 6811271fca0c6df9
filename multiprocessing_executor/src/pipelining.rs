//! Pipelining tiny tasks: an optimisation beside the method, which a reader learning the method
//! can skip. Handing out one job at a time costs a round trip per task (the parent writes a
//! job, the child wakes, runs it, writes the result, the parent wakes), far more than a
//! `SELECT 1`. Writing the next jobs down a busy child's pipe before it asks for them hides
//! that cost.
//!
//! **What it buys, measured.** On the `overhead` workload (`multiprocessing_executor --workload
//! overhead --no-baseline`: 10,000 × `SELECT 1` on 2 children), on this project's 2-core machine
//! while other programs shared it, medians of 9 runs alternating with `--pipeline 1` (range in
//! brackets): 6.8 µs (4.2–10.5) per task pipelined, 20.1 µs (6.4–22.6) with `--pipeline 1`;
//! at a quieter moment, medians of 7: 2.3 µs (2.0–4.2) against 6.7 µs (5.8–8.0). About three
//! times less, which is why it stays.
//!
//! The catch is that a job waiting in one child's pipe cannot move to another child that
//! becomes free first, so it must never wait behind a task that may be long: that would break
//! list scheduling, the order a shared queue gives. So a busy child is given another job only
//! while every job it holds is known to be short: no latency, no injected fault, and a query
//! that took under [`SHORT_TASK`] the last time it ran. A queued job then waits at most
//! `pipeline × SHORT_TASK` longer than a shared queue would make it wait. The pool (`lib.rs`)
//! asks [`Pipelining::is_short`] about each job it sends, and [`Pipelining::busy_child`] for
//! a child when none is idle; `--pipeline 1` turns it off.
//!
//! **The answers, together.** A child that runs a short job which was already waiting in its
//! pipe holds the answers before it back, and writes them all in one `write` when its next
//! read would wait or its next job is not short ([`Answers`]): a write per answer cost more
//! than the `SELECT 1` it carried. Measured on the `overhead` workload with `cargo bench -p
//! bench --bench processes`, alternating with the build that wrote each answer at once, on this
//! project's 2-core machine: see docs/benchmarks.md. Every job says whether the parent counts
//! it short, and no task that writes is counted short, so an answer held back is a read's.
//!
//! An answer held back dies with its child. That matters only when a job counted short was not
//! (a query that was quick last time and now runs past its timeout, or crashes its child):
//! the parent cannot tell which of the jobs it sent were answered, so it blames none, puts
//! them all back in the queue and never counts them short again ([`Pipelining::suspect_if`]);
//! each then runs with no answer held, and the one at fault is blamed by itself.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufReader, Write};
use std::sync::Arc;
use std::time::Duration;

use shared::cli::counted;
use shared::{Attempt, Task};

use crate::frames::{ChildMessage, Job, frame_into};
use crate::options::Options;

/// Below this measured duration a query counts as short, and jobs may be queued behind it.
pub(crate) const SHORT_TASK: Duration = Duration::from_micros(100);

/// What pipelining needs to know of a child that takes jobs.
pub(crate) struct Holding {
    /// How many jobs it holds: the one it runs and those waiting in its pipe.
    pub jobs: usize,
    /// Whether each of them was short when it was sent.
    pub all_short: bool,
}

pub(crate) struct Pipelining {
    /// How many jobs a child may hold at once, when all are short; 1 is no pipelining.
    depth: usize,
    /// How long each query took the last time it ran, by the query: a workload repeats a
    /// pattern of queries, which its tasks share (the key is the address of the one they
    /// share). The last time rather than the longest: a query's first run on each connection
    /// also prepares its statement, hundreds of microseconds that later runs do not pay.
    last_took: HashMap<usize, Duration, BuildHasherDefault<AddressHasher>>,
    /// How many jobs were written to a child that was already busy.
    pipelined: usize,
    /// Tasks never counted short again (see [`Pipelining::suspect_if`]).
    suspects: HashSet<usize>,
}

impl Pipelining {
    pub fn new(depth: usize) -> Pipelining {
        Pipelining {
            depth: depth.clamp(1, Options::MOST_PIPELINE),
            last_took: HashMap::default(),
            pipelined: 0,
            suspects: HashSet::new(),
        }
    }

    /// Whether other jobs may wait behind this task's: decided when its job is sent.
    pub fn is_short(&self, task: &Task) -> bool {
        self.depth > 1
            && task.fault.is_none()
            && task.latency().is_zero()
            && task.writes.is_none()
            && !self.suspects.contains(&task.id)
            && self
                .last_took
                .get(&query_key(task))
                .is_some_and(|&took| took < SHORT_TASK)
    }

    /// Never counts `task` short again, if `held`: it was with a child that was lost while it
    /// may have held answers back.
    pub fn suspect_if(&mut self, held: bool, task: usize) {
        if held {
            self.suspects.insert(task);
        }
    }

    /// Records how long a run of this task's query took.
    pub fn took(&mut self, task: &Task, took: Duration) {
        if self.depth > 1 {
            self.last_took.insert(query_key(task), took);
        }
    }

    /// The busy child that may take the next job, if any: of those holding fewer than `depth`
    /// jobs, all short, the one holding the fewest. `children` lists every child in the pool's
    /// order, `None` for one that takes no jobs. The child it names is given the job.
    pub fn busy_child(&mut self, children: impl Iterator<Item = Option<Holding>>) -> Option<usize> {
        let (i, _) = children
            .enumerate()
            .filter_map(|(i, holding)| Some((i, holding?)))
            .filter(|(_, h)| h.all_short && h.jobs < self.depth)
            .min_by_key(|(_, h)| h.jobs)?;
        self.pipelined += 1;
        Some(i)
    }

    /// What the report should say about it, if it was used.
    pub fn note(&self) -> Option<String> {
        (self.pipelined > 0).then(|| {
            format!(
                "{} written to a busy child (up to {} held per child), all queued behind jobs under {} µs",
                counted(self.pipelined as u64, "job was", "jobs were"),
                self.depth,
                SHORT_TASK.as_micros()
            )
        })
    }
}

/// The key of a task's query in [`Pipelining`]'s books: the address of the query its tasks share.
fn query_key(task: &Task) -> usize {
    Arc::as_ptr(&task.query) as usize
}

/// Hashes an address with one multiplication. The default hasher, SipHash, resists keys chosen
/// to collide, which addresses are not, and cost more per answer than the rest of the books.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A child's answers on their way up its result pipe: each is written at once, unless the job
/// that comes next was waiting in the pipe already and is short. Then the answers wait for it,
/// and leave together.
pub(crate) struct Answers<'a> {
    results: &'a File,
    held: Vec<u8>,
    /// Whether the job being read was in the pipe's buffer already: the child did not wait.
    at_hand: bool,
    /// When the last job ended.
    last_finished: Option<Duration>,
}

impl<'a> Answers<'a> {
    pub fn new(results: &'a File) -> Answers<'a> {
        Answers {
            results,
            held: Vec::new(),
            at_hand: false,
            last_finished: None,
        }
    }

    /// Keeps the answer to `task` with the answers held back, to go with them.
    pub fn hold(&mut self, task: usize, attempt: Attempt) {
        self.last_finished = Some(attempt.finished);
        let attempt = attempt.into();
        frame_into(&mut self.held, &ChildMessage::Done { task, attempt });
    }

    /// Before the child reads its next job: writes the answers held back if that read would
    /// wait (nothing of the next job is in `jobs`' buffer yet).
    pub fn before_reading<R>(&mut self, jobs: &BufReader<R>) -> io::Result<()> {
        self.at_hand = !jobs.buffer().is_empty();
        match self.at_hand {
            true => Ok(()),
            false => self.write(),
        }
    }

    /// Before the child runs `job`: writes the answers held back unless the job is short.
    /// Returns when the job starts if that is known without reading the clock: a short job
    /// that was waiting in the pipe starts when the one before it ended, since nothing came
    /// between (a reading of the clock costs about what a `SELECT 1` does).
    pub fn before_running(&mut self, job: &Job) -> io::Result<Option<Duration>> {
        match job.short {
            true => Ok(self.last_finished.filter(|_| self.at_hand)),
            false => self.write().map(|()| None),
        }
    }

    /// Writes every answer held back, in one `write`; an error means the parent is gone.
    pub fn write(&mut self) -> io::Result<()> {
        if !self.held.is_empty() {
            let mut results = self.results;
            results.write_all(&self.held)?;
            self.held.clear();
        }
        Ok(())
    }
}

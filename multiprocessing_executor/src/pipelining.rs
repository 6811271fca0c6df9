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
//! read would wait or its next job is not short (`answers.rs`): a write per answer cost more
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
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use shared::Task;
use shared::cli::counted;

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

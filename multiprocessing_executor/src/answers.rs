//! The child's side of pipelining (see `pipelining.rs`): its answers go up the result pipe
//! together when the jobs came down together, a `write` for several instead of one each.
//!
//! **What it buys, measured.** A `write` and a `read` on a pipe cost 1.9 µs on this project's
//! machine (`cargo bench -p bench --bench task`, `pipe_write_and_read`), more than everything
//! else a `SELECT 1` task costs a child. On the `overhead` workload, `cargo bench -p bench
//! --bench processes` puts the method against bare pipes: three rounds alternating with a build
//! whose child writes each answer at once, medians with their range, 1.69x (1.67–1.79) its
//! floor with this, 2.92x (2.73–3.49) without.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::time::Duration;

use shared::Attempt;

use crate::frames::{ChildMessage, Job, frame_into};

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

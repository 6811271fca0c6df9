//! What a task costs under the multiprocessing method, beside bare `fork()` and pipes.
//!
//! A program of its own, apart from `benches/threads.rs`, because `fork()` copies only the
//! thread that calls it: a lock that another thread held at that moment (the allocator's,
//! stdout's) stays locked forever in the child. So a process may fork only while it has one
//! thread, and `multiprocessing_executor::run` refuses to run otherwise. The benchmarks in
//! `threads.rs` start threads in every run, and rayon's and tokio-rusqlite's are still ending
//! when the next run starts; in this program no thread is ever started. Divan runs each benchmark on
//! the main thread unless `--threads` asks for more, so `main` forces one thread after reading
//! the command line.
//!
//! ```sh
//! cargo bench -p bench --bench processes
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};

use bench::{SAMPLES, TASKS, assert_all_answered, assert_all_ok, cores, fixture, plan, select_1};
use divan::Bencher;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, pipe};
use shared::Database;

fn main() {
    divan::Divan::default()
        .sample_count(SAMPLES)
        .sample_size(1)
        .items_count(TASKS)
        .config_with_args()
        // After the command line, so that `--threads` cannot start a second thread.
        .threads([1])
        .main();
}

/// `fork()`ed worker processes, tasks and results over pipes.
mod multiprocessing {
    use super::*;

    #[divan::bench]
    fn method(bencher: Bencher) {
        let plan = plan();
        let options = multiprocessing_executor::Options::default();
        bencher.bench_local(|| assert_all_ok(multiprocessing_executor::run(&plan, &options)));
    }

    /// Children forked one per core (the method's default), each opening its own connection
    /// after the fork; a job pipe and a result pipe each; fixed-size frames (a job is a task
    /// number, 4 bytes; a result is the task number and its answer, 8); the parent `poll`s the
    /// result pipes and keeps as many jobs in each child's pipe as the method's pipelining
    /// does (32). Without pipelining a task would cost a round trip through the kernel, two
    /// process wake-ups, several times a `SELECT 1`. That is the least processes can do, and
    /// what the method is built from. What it adds on top: postcard frames, deadlines (a child
    /// past its timeout is killed and replaced), crashes detected and replaced, long tasks
    /// kept out of busy children's pipes, and the outcome of each task.
    #[divan::bench]
    fn bare_fork_and_pipes(bencher: Bencher) {
        let database = fixture();
        bencher.bench_local(|| assert_all_answered(run_on_children(&database, cores())));
    }
}

/// A forked child, seen from the parent: its pid, and the parent's ends of its two pipes.
struct Child {
    pid: Pid,
    jobs: File,
    results: File,
    /// Bytes read from `results` that do not yet make a whole result.
    partial: Vec<u8>,
}

/// Runs every task on `workers` forked children and returns their answers, added up.
fn run_on_children(database: &Database, workers: usize) -> u64 {
    let mut children: Vec<Child> = Vec::with_capacity(workers);
    for _ in 0..workers {
        let child = fork_child(database, &mut children);
        children.push(child);
    }
    // How many jobs a child holds at once: the one it runs and those waiting in its pipe.
    let depth = multiprocessing_executor::Options::default().pipeline;
    let mut unsent = 1..=TASKS as u32;
    for child in &mut children {
        child.send(&mut unsent, depth);
    }
    let (mut answered, mut answers) = (0, 0);
    while answered < TASKS {
        let mut fds: Vec<PollFd> = children
            .iter()
            .map(|child| PollFd::new(child.results.as_fd(), PollFlags::POLLIN))
            .collect();
        poll(&mut fds, PollTimeout::NONE).expect("poll");
        let ready: Vec<bool> = fds.iter().map(|fd| fd.any() == Some(true)).collect();
        for (child, _) in children.iter_mut().zip(ready).filter(|(_, ready)| *ready) {
            let (count, sum) = child.receive();
            (answered, answers) = (answered + count, answers + sum);
            // As many new jobs as came back: the child's pipe stays `depth` deep.
            child.send(&mut unsent, count);
        }
    }
    // Closing a job pipe is how a child learns to finish: its next read reaches end of file.
    for Child { pid, jobs, .. } in children {
        drop(jobs);
        waitpid(pid, None).expect("the child ends");
    }
    answers
}

/// Forks a child that serves jobs until its job pipe closes. Returns in the parent only.
fn fork_child(database: &Database, siblings: &mut Vec<Child>) -> Child {
    let (job_out, job_in) = pipe().expect("a pipe");
    let (result_out, result_in) = pipe().expect("a pipe");
    // SAFETY: this process has one thread (see the top of this file), so the child starts with
    // every lock free; and the child never returns from this call, it ends with `_exit`.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            // Its copies of its older siblings' job pipes would keep them open, and those
            // siblings from ever seeing end of file before this child ends.
            siblings.clear();
            drop((job_in, result_out));
            let code =
                panic::catch_unwind(AssertUnwindSafe(|| serve(database, job_out, result_in)))
                    .map_or(101, |served| i32::from(served.is_err()));
            // SAFETY: `_exit` ends the process at once. Returning would run the parent's code
            // (the rest of the benchmark) in the child, and `exit` would flush stdout buffers
            // the parent had filled before the fork, printing them twice.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => Child {
            pid: child,
            jobs: File::from(job_in),
            results: File::from(result_out),
            partial: Vec::new(),
        },
    }
}

/// A child's life: a connection of its own, then a job at a time until end of file.
fn serve(database: &Database, jobs: OwnedFd, results: OwnedFd) -> std::io::Result<()> {
    let conn = database.open().expect("a connection to the fixture");
    let mut jobs = BufReader::new(File::from(jobs));
    let mut results = BufWriter::new(File::from(results));
    let mut job = [0u8; 4];
    loop {
        // Written back only when the next read would wait: the answers to jobs that arrived
        // together leave together, in one write.
        if jobs.buffer().is_empty() {
            results.flush()?;
        }
        match jobs.read_exact(&mut job) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let answer = u32::try_from(select_1(&conn)).expect("SELECT 1 is 1");
        results.write_all(&job)?;
        results.write_all(&answer.to_le_bytes())?;
    }
}

impl Child {
    /// Writes up to `count` more jobs into the child's pipe, in one write. The pipe never fills:
    /// it holds 64 KiB, and a child is never more than a few dozen jobs of 4 bytes behind.
    fn send(&mut self, unsent: &mut impl Iterator<Item = u32>, count: usize) {
        let frames: Vec<u8> = unsent.take(count).flat_map(u32::to_le_bytes).collect();
        if !frames.is_empty() {
            self.jobs
                .write_all(&frames)
                .expect("the child reads its jobs");
        }
    }

    /// Reads what the child has written, and returns how many results it made whole, and
    /// their answers added up.
    fn receive(&mut self) -> (usize, u64) {
        let mut buffer = [0u8; 4096];
        let read = self.results.read(&mut buffer).expect("read a result pipe");
        assert!(read > 0, "a child ended before its last job");
        self.partial.extend_from_slice(&buffer[..read]);
        let whole = self.partial.len() / 8 * 8;
        let answers = self.partial[..whole]
            .chunks_exact(8)
            .map(|result| {
                u64::from(u32::from_le_bytes([
                    result[4], result[5], result[6], result[7],
                ]))
            })
            .sum();
        self.partial.drain(..whole);
        (whole / 8, answers)
    }
}

//! How many worker processes this system can still start, asked before the pool forks its first:
//! a limit a reader learning the method can skip, as the threads' methods skip theirs
//! (`shared`'s `room.rs`).
//!
//! **What it buys.** A pool that does not fit fails late, and takes others down with it. Asked
//! for a million workers (`--workload scale --tasks 1000000 --workers 1000000`), the pool would
//! fork burst after burst (it had forked its first children within milliseconds, when the test
//! of this refusal stopped it) until `fork` failed with `EAGAIN`: by then it would hold every
//! process id the system has (32,768 by default on Linux), and while its children lived, every
//! other program on the machine (a shell, a build) could start nothing either. Or the children's
//! memory would run out first, and the kernel's out-of-memory killer would pick a process to
//! kill, not necessarily this one. That was not run to its end here, on a machine others share.
//! Counted first, the same request is one line and exit 2, with the largest pool that would fit.
//!
//! **What is counted.** Three limits, each against what is in use already: the system's process
//! ids (`kernel.pid_max`) and threads (`kernel.threads-max`), shared with every process and
//! thread on it; the processes one user may have (`RLIMIT_NPROC`, which does not bind root); and
//! on Linux, the memory the kernel says is available (`MemAvailable`), at [`child_kib`] a worker.
//! A limit that cannot be read is not counted: then `fork`'s own error still ends the run.
//!
//! **What it costs.** Four small reads of `/proc`, 60 µs in a release build on this machine,
//! before the run's clock starts; more only for a user whose process limit is within reach.

use shared::{Error, Result};

use crate::options::Start;

/// Processes left for everything else under a limit of `most`: the writer process and the fork
/// server, if any, and whatever else starts while the run goes on. A sixteenth of the limit, and
/// at most 64, so that a small limit (`ulimit -u 40`) still leaves room for a pool.
fn headroom(most: usize) -> usize {
    (most / 16).min(64)
}

/// What one more worker process takes from the memory available, in KiB, by how it starts.
///
/// Measured as the drop in `MemAvailable` while 1,000 workers waited (`--workload scale --tasks
/// 20000 --workers 1000 --no-baseline --start HOW`) on this project's 2-core machine while other
/// programs shared it, medians of 5 runs (range in brackets): a fork 159 KiB (111–240), a
/// worker forked by the fork server 621 KiB (587–711), a spawned one 746 KiB (726–775). A fork
/// shares its parent's pages; the others build their own plan, and a spawned worker loads the
/// program again. Rounded up, for a task's own memory (a query's page cache) on top.
fn child_kib(start: &Start) -> u64 {
    match start {
        Start::Fork => 512,
        Start::Spawn | Start::ForkServer(_) => 1024,
    }
}

/// A limit on the processes this run may start: how many more fit under it, and why, in words.
struct Limit {
    room: usize,
    why: String,
}

/// Refuses a pool of `processes` workers that this system cannot start, before any is forked.
/// `asked` is `--workers`, for the message: the pool is smaller when there are fewer tasks.
pub(crate) fn for_processes(processes: usize, asked: Option<usize>, start: &Start) -> Result<()> {
    let mut limits: Vec<Limit> = Vec::new();
    limits.extend(system_processes());
    limits.extend(user_processes(processes));
    limits.extend(memory(start));
    let Some(tightest) = limits.into_iter().min_by_key(|l| l.room) else {
        return Ok(());
    };
    if processes <= tightest.room {
        return Ok(());
    }
    let pool = match asked {
        Some(asked) if asked > processes => {
            format!("--workers {asked}: {processes} worker processes (one a task)")
        }
        Some(asked) => format!("--workers {asked}: {asked} worker processes"),
        None => format!("{processes} worker processes (one per core)"),
    };
    Err(Error::input(format!(
        "{pool} would not fit: {}; ask for at most {} workers",
        tightest.why, tightest.room
    )))
}

/// The system's process ids and threads, which every process and thread on it shares: each
/// worker takes one of each.
#[cfg(target_os = "linux")]
fn system_processes() -> Vec<Limit> {
    let Some(existing) = threads_on_this_system() else {
        return Vec::new();
    };
    let mut limits = Vec::new();
    for (setting, path) in [
        ("kernel.pid_max", "/proc/sys/kernel/pid_max"),
        ("kernel.threads-max", "/proc/sys/kernel/threads-max"),
    ] {
        if let Some(most) = read(path).and_then(|t| t.trim().parse::<usize>().ok()) {
            limits.push(Limit {
                room: most.saturating_sub(existing + headroom(most)),
                why: format!(
                    "{setting} allows {most} processes and threads on this system, and {existing} \
                     exist already"
                ),
            });
        }
    }
    limits
}

#[cfg(not(target_os = "linux"))]
fn system_processes() -> Vec<Limit> {
    Vec::new()
}

/// Every thread of every process on this system, as Linux counts them for the load average.
#[cfg(target_os = "linux")]
fn threads_on_this_system() -> Option<usize> {
    // "0.50 0.40 0.30 3/151 16692": the fourth field is running/existing.
    let text = read("/proc/loadavg")?;
    let field = text.split_whitespace().nth(3)?;
    field.split_once('/')?.1.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn threads_on_this_system() -> Option<usize> {
    None
}

/// The processes (threads, on Linux) one user may have at once, less those this user has, when
/// that could bind a pool of `processes`. Root is not held to it, and where the user's
/// processes cannot be counted, none are.
fn user_processes(processes: usize) -> Option<Limit> {
    let mut limit = std::mem::MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: `getrlimit` only writes the `rlimit` it is given, and it is read only on success.
    let most = unsafe {
        if libc::getrlimit(libc::RLIMIT_NPROC, limit.as_mut_ptr()) != 0 {
            return None;
        }
        limit.assume_init().rlim_cur
    };
    if most == libc::RLIM_INFINITY || real_uid() == 0 {
        return None;
    }
    let most = usize::try_from(most).ok()?;
    // The user's threads are some of the system's: when all of those leave room, the user's
    // are not counted, which reads every process's status (2 ms for 80 processes, here).
    if threads_on_this_system().is_some_and(|all| all + headroom(most) + processes <= most) {
        return None;
    }
    let existing = threads_of_this_user().unwrap_or(0);
    Some(Limit {
        room: most.saturating_sub(existing + headroom(most)),
        why: format!(
            "this user may have {most} processes and threads at once (ulimit -u), and has {existing}"
        ),
    })
}

/// The user this process runs as, whom `RLIMIT_NPROC` counts.
fn real_uid() -> libc::uid_t {
    // SAFETY: `getuid` cannot fail and touches no memory of this process.
    unsafe { libc::getuid() }
}

/// How many threads this user's processes have now (what `RLIMIT_NPROC` counts on Linux).
#[cfg(target_os = "linux")]
fn threads_of_this_user() -> Option<usize> {
    let me = real_uid().to_string();
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        // A process that ended since the listing has no status left: it counts for nothing.
        let Some(status) = read(&format!("/proc/{}/status", name.to_string_lossy())) else {
            continue;
        };
        let field = |key: &str| {
            let line = status.lines().find(|l| l.starts_with(key))?;
            line[key.len()..].split_whitespace().next()
        };
        if field("Uid:") == Some(me.as_str()) {
            threads += field("Threads:")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(1);
        }
    }
    Some(threads)
}

#[cfg(not(target_os = "linux"))]
fn threads_of_this_user() -> Option<usize> {
    None
}

/// The memory the kernel says it can give without swapping, at [`child_kib`] a worker.
#[cfg(target_os = "linux")]
fn memory(start: &Start) -> Option<Limit> {
    let meminfo = read("/proc/meminfo")?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let available: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let each = child_kib(start);
    Some(Limit {
        room: usize::try_from(available / each).unwrap_or(usize::MAX),
        why: format!(
            "{:.1} GiB of memory is available (MemAvailable) and a worker process takes about \
             {each} KiB",
            available as f64 / (1024.0 * 1024.0)
        ),
    })
}

#[cfg(not(target_os = "linux"))]
fn memory(_start: &Start) -> Option<Limit> {
    None
}

#[cfg(target_os = "linux")]
fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_processes_fit_and_a_hundred_million_do_not() {
        assert!(for_processes(8, Some(8), &Start::Fork).is_ok());
        if cfg!(target_os = "linux") {
            // More than Linux's largest pid_max (4,194,304): refused on every Linux system.
            let error = for_processes(100_000_000, Some(100_000_000), &Start::Fork)
                .expect_err("a hundred million processes do not fit anywhere");
            let message = error.to_string();
            assert!(
                message
                    .starts_with("--workers 100000000: 100000000 worker processes would not fit: "),
                "{message}"
            );
            assert!(message.contains("ask for at most"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn a_pool_cut_to_its_tasks_says_how_many_processes_it_would_start() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let error = for_processes(10_000_000, Some(100_000_000), &Start::Spawn)
            .expect_err("ten million processes do not fit");
        let message = error.to_string();
        assert!(
            message.starts_with("--workers 100000000: 10000000 worker processes (one a task) "),
            "{message}"
        );
    }
}

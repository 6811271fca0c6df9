//! How many threads this process can still start, asked before a method starts one per worker.
//!
//! Starting a thread can fail in two ways. `pthread_create` failing is an error the caller gets
//! back and can report. But on Linux each new thread also maps an alternative signal stack for
//! itself, and when that mapping fails Rust's runtime aborts the whole process from inside the
//! new thread, with a backtrace, where no caller can catch it. What runs out first is
//! `vm.max_map_count`, the memory mappings one process may have (65,530 by default): each
//! thread takes about four (its stack and its guard page, its signal stack and its guard page),
//! so a process aborts at around sixteen thousand threads. The mappings are counted here first,
//! and a request that cannot fit is refused with one clear line instead.

use crate::error::{Error, Result};

/// The memory mappings each thread takes: its stack, the stack's guard page, and its signal
/// stack with a guard page of its own.
pub(crate) const MAPPINGS_PER_THREAD: usize = 4;

/// Mappings kept free for everything else the run maps (SQLite's memory map, allocations).
const HEADROOM: usize = 2048;

/// Refuses to start `threads` threads when this process cannot map their stacks.
pub(crate) fn for_threads(threads: usize) -> Result<()> {
    let Some(free) = free_mappings() else {
        return Ok(());
    };
    let room = free.saturating_sub(HEADROOM) / MAPPINGS_PER_THREAD;
    if threads > room {
        return Err(Error::input(format!(
            "--workers {threads}: this process can start about {room} more threads (each maps \
             its stacks, and vm.max_map_count allows a process so many mappings); ask for fewer \
             workers, or use async, whose waits share one thread"
        )));
    }
    Ok(())
}

/// How many more memory mappings this process may make; `None` where that cannot be read.
fn free_mappings() -> Option<usize> {
    let most = max_map_count()?;
    let used = std::fs::read_to_string("/proc/self/maps")
        .ok()?
        .lines()
        .count();
    Some(most.saturating_sub(used))
}

/// How many memory mappings Linux lets one process have (`vm.max_map_count`); `None` elsewhere,
/// or where it cannot be read.
pub(crate) fn max_map_count() -> Option<usize> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_threads_fit_and_a_million_do_not() {
        assert!(for_threads(8).is_ok());
        if free_mappings().is_some() {
            let err = for_threads(1_000_000).unwrap_err().to_string();
            assert!(err.contains("--workers 1000000"), "{err}");
        }
    }
}

//! Resource usage from `getrusage`: CPU time, peak memory, context switches.
//!
//! CPU time and context switches are counted over the executor's run alone (the difference of
//! two snapshots), for this process and its reaped children together. Peak memory cannot be
//! subtracted: it is the process's peak so far, which is why the sequential baseline runs after
//! the executor, not before.
//!
//! Peak memory is the program's own. Linux carries `getrusage`'s peak across `exec`, so a
//! program started by `cargo run` would report cargo's peak if it was larger (three times the
//! program's own, seen here); on Linux the peak is therefore read from `VmHWM` in
//! `/proc/self/status`, which `exec` resets. The test
//! `the_peak_memory_is_the_programs_own_not_what_exec_inherited` shows the difference.

use std::time::Duration;

use nix::sys::resource::{Usage as RUsage, UsageWho, getrusage};
use nix::time::{ClockId, clock_gettime};
use serde::{Deserialize, Serialize};

use crate::outcome::Run;

/// The time the calling thread has needed a core so far: read before and after some work, what
/// that work costs a machine's cores, whatever it waited for meanwhile.
///
/// A sleeping thread needs no core, so a task's wait adds nothing. On Linux this is the time the
/// thread ran plus the time it waited, runnable, for a core (`/proc/thread-self/schedstat`): on
/// a busy machine, work that had a core half the time took twice its CPU time, and the ideal is
/// measured against that same machine. Elsewhere it is the thread's CPU time alone.
pub fn thread_core_time() -> Duration {
    #[cfg(target_os = "linux")]
    if let Some(ran_and_waited) = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u64>().ok());
            Some(fields.next()?? + fields.next()??)
        })
    {
        return Duration::from_nanos(ran_and_waited);
    }
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

/// What the run cost the machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// CPU time in user mode, this process and its children, during the run.
    pub user_cpu_s: f64,
    /// CPU time in the kernel (sleeps, locks, pipes, forks), during the run.
    pub sys_cpu_s: f64,
    /// This process's own peak resident memory (not its parent's before `exec`).
    pub max_rss_kib: u64,
    /// The largest peak of any child process the method started, as it measured it (0 when
    /// there were none).
    pub children_max_rss_kib: u64,
    /// The children's memory together, each counted by its proportional share of the pages
    /// it shares with others (`Pss`); `null` unless the method measured it.
    pub children_pss_kib: Option<u64>,
    /// Times a thread gave up the CPU to wait (for a sleep, a lock, a pipe).
    pub voluntary_context_switches: u64,
    /// Times a thread was preempted because another needed the CPU.
    pub involuntary_context_switches: u64,
}

/// `getrusage` for this process and for its children, at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    own: RUsage,
    children: RUsage,
}

impl Snapshot {
    pub fn now() -> Snapshot {
        // getrusage fails only for an invalid `who`, and both are valid.
        let own = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage(RUSAGE_SELF)");
        let children = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage(RUSAGE_CHILDREN)");
        Snapshot { own, children }
    }

    /// What was used between `self` and now, during `run`, with the children's memory as the
    /// method measured it.
    pub fn usage_since(&self, run: &Run) -> Usage {
        let now = Snapshot::now();
        let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        let delta = |f: &dyn Fn(&RUsage) -> f64| {
            (f(&now.own) - f(&self.own)) + (f(&now.children) - f(&self.children))
        };
        let user = |u: &RUsage| seconds(u.user_time());
        let sys = |u: &RUsage| seconds(u.system_time());
        let voluntary = |u: &RUsage| u.voluntary_context_switches() as f64;
        let involuntary = |u: &RUsage| u.involuntary_context_switches() as f64;
        Usage {
            user_cpu_s: delta(&user),
            sys_cpu_s: delta(&sys),
            max_rss_kib: own_peak_kib().unwrap_or_else(|| max_rss_kib(&now.own)),
            // Only what the method measured of the children it started: the kernel's figure is
            // no use here, since it starts at the parent's peak at `fork()` and is inherited
            // across `exec` from whatever started this program.
            children_max_rss_kib: run.children_max_rss_kib.unwrap_or(0),
            children_pss_kib: run.children_pss_kib,
            voluntary_context_switches: delta(&voluntary) as u64,
            involuntary_context_switches: delta(&involuntary) as u64,
        }
    }
}

/// The process's own peak resident memory, in KiB: `VmHWM` (the "high water mark" of its
/// resident set), which Linux resets at `exec`. `None` elsewhere, or if `/proc` cannot be read.
fn own_peak_kib() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    // "VmHWM:     16384 kB"
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `ru_maxrss` in KiB. Its unit is the platform's choice: Linux (and the BSDs) report KiB,
/// macOS reports bytes.
fn max_rss_kib(usage: &RUsage) -> u64 {
    let raw = usage.max_rss().max(0) as u64;
    if cfg!(target_os = "macos") {
        raw / 1024
    } else {
        raw
    }
}

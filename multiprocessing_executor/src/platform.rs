//! What this crate asks of the operating system beyond what every Unix offers, and what it does
//! where that is missing. The method itself (fork, pipes, poll, kill, waitpid) is POSIX and
//! runs on Linux and macOS alike. Five things here are Linux's own: `/proc` tells how many
//! threads this process has (to refuse to fork with more than one), and each child's peak
//! memory and proportional share of memory (for the report, see `memory.rs`);
//! `PR_SET_PDEATHSIG` has the kernel kill a child the moment its parent dies; and `PR_SET_NAME`
//! gives the writer process a name of its own in `ps` and `top`. Elsewhere the three figures
//! are `None`, a child learns that its parent is gone from its pipes instead (see `child.rs`),
//! and the writer keeps the program's name. A sixth, `close_range`, is in `close_range.rs`.
//! Nothing else in the crate names `/proc`, `prctl` or `close_range`, so these two files are
//! the whole of the port.

use nix::unistd::Pid;

/// How many threads this process has, or `None` where the platform gives no cheap way to
/// count them. On macOS the count would take the Mach API (`task_threads`); without it, `run`
/// cannot refuse a process that has started threads, and fork's safety rests on the caller
/// having started none, as `shared::cli::main` and this crate's tests do.
pub(crate) fn thread_count() -> Option<u64> {
    proc_number("/proc/self/status", "Threads:")
}

/// A child's peak resident memory (`VmHWM`) in KiB, read from the outside: for a child about
/// to be killed, which will never report its own.
pub(crate) fn peak_rss_kib(pid: Pid) -> Option<u64> {
    proc_number(&format!("/proc/{pid}/status"), "VmHWM:")
}

/// This process's own peak resident memory (`VmHWM`), in KiB. It counts pages shared
/// copy-on-write with the parent in full. (`getrusage` is no substitute: a forked child's
/// figure starts at its parent's peak at the fork, so it overstates.)
pub(crate) fn own_peak_rss_kib() -> Option<u64> {
    proc_number("/proc/self/status", "VmHWM:")
}

/// This process's proportional share of memory (`Pss`), in KiB: each shared page divided by
/// the number of processes that share it, so that the children's shares add up honestly.
pub(crate) fn own_pss_kib() -> Option<u64> {
    proc_number("/proc/self/smaps_rollup", "Pss:")
}

/// Asks the kernel to send this process `SIGKILL` when its parent ends, however it ends, even
/// in the middle of a task. Returns false if the request failed.
#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent() -> bool {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_ok()
}

/// Nothing to ask for here: a child notices that its parent is gone when its pipes break.
#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent() -> bool {
    true
}

/// Names this process as `ps`, `top` and `/proc/PID/comm` show it (15 bytes at most), so that
/// the writer process can be told from the workers, which keep the program's name.
#[cfg(target_os = "linux")]
pub(crate) fn name_this_process(name: &std::ffi::CStr) {
    // A name is a convenience: a failure changes nothing else.
    let _ = nix::sys::prctl::set_name(name);
}

/// Nothing portable names another process than the main thread's: it keeps the program's name.
#[cfg(not(target_os = "linux"))]
pub(crate) fn name_this_process(_name: &std::ffi::CStr) {}

/// The number after `key` in a `/proc` file such as `/proc/PID/status` (`VmHWM:   12345 kB`).
#[cfg(target_os = "linux")]
fn proc_number(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Without Linux's `/proc` (macOS has none; the BSDs' differs), no figure.
#[cfg(not(target_os = "linux"))]
fn proc_number(_path: &str, _key: &str) -> Option<u64> {
    None
}

//! The report's peak memory is the program's own, however it was started.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// What the parent touches before it becomes the program: far more than the program uses.
const PARENT_PEAK: usize = 256 << 20;

#[test]
fn the_peak_memory_is_the_programs_own_not_what_exec_inherited() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sequential"));
    command.args([
        "--workload",
        "overhead",
        "--tasks",
        "1",
        "--no-baseline",
        "--json",
    ]);
    // Between fork and exec the child is the test's copy, and only raw system calls are safe
    // there (another thread of the test may have held the allocator's lock at the fork): map
    // memory and touch every page, so that the process's peak is large when it execs, as cargo's
    // is when `cargo run` starts a program.
    unsafe {
        command.pre_exec(|| {
            let pages = libc::mmap(
                std::ptr::null_mut(),
                PARENT_PEAK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if pages == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            libc::memset(pages, 1, PARENT_PEAK);
            Ok(())
        });
    }
    let out = command.output().expect("the sequential binary runs");
    let report = shared::conformance::json_report(&out);
    let peak_kib = report["usage"]["max_rss_kib"]
        .as_u64()
        .expect("usage.max_rss_kib");
    assert!(
        peak_kib > 0 && peak_kib < (PARENT_PEAK / 1024) as u64 / 2,
        "the report's peak memory ({peak_kib} KiB) must be the program's own, not the \
         {} KiB its parent had touched before exec",
        PARENT_PEAK / 1024
    );
}

//! The `tally` binary: all of it lives in the library (`tally_cli::main`), which the Python package embeds too.

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    tally_cli::main()
}

/// Tells glibc's malloc to keep freed memory for reuse. By default it maps every block above 128 KiB
/// (raised as such blocks are freed, up to 32 MiB) fresh and unmaps it on free, and it returns freed
/// memory at the top of its heap to the kernel; a million-group group-by allocates and frees states,
/// frames and merge results of megabytes for every chunk, and faulting those pages in again and again
/// cost the processes executor a quarter of its time (benches/README.md, issue 10). Both thresholds are
/// set to glibc's largest: blocks up to 32 MiB come from the heap, and up to 1 GiB of freed heap stays.
/// Peak memory does not grow: freed memory is reused, not added to.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::ffi::c_int;
    // glibc's <malloc.h>.
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    // SAFETY: mallopt only sets two of malloc's mmap and trim parameters (integers it range-checks,
    // returning 0 when it refuses one); it is called first thing in main, before any other thread exists.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Other C libraries keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

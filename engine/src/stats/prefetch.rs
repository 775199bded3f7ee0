//! A software prefetch hint per page of the next block of a column, for loops that work through several
//! columns block by block (the one-table group-by).
//!
//! Why: the hardware's stream prefetcher stops at every 4 KiB page (see `lanes_avx2`'s `PREFETCH_BYTES`),
//! so a loop over a mapped column waits on memory at the start of each page. A group-by block reads the
//! key column, then each aggregated column, each for a few pages, so it met that wait on every page of
//! every column: the serial `groupby --by k1 --agg count,mean(a)` of the benchmark file sat on its first
//! load of each page for some 40 % of its samples. One hint for the first line of each page of the next
//! block, given before the current block is worked on, starts those pages early (the hardware prefetcher
//! then follows each page on its own). Measured against the alternatives (benches/README.md, "Group-by
//! k1 in blocks"): a hint per cache line costs more in hint instructions than it saves, and hints two
//! blocks ahead, or for blocks of more pages, are slower than none.
//!
//! Written by hand: `std::intrinsics::prefetch_read_data` is unstable, and no maintained crate wraps the
//! instruction.

/// Bytes of a page: one hint per page.
const PAGE: usize = 4096;

/// Hints that the pages of `xs` will be read soon (into L2, from the first line of each page of the
/// slice on). A hint only: it never faults and never changes a value. A no-op on targets other than
/// x86_64.
#[inline]
pub(crate) fn pages<T>(xs: &[T]) {
    let start = xs.as_ptr().cast::<u8>();
    for offset in (0..std::mem::size_of_val(xs)).step_by(PAGE) {
        hint(start.wrapping_add(offset));
    }
}

/// The line at `at` into L2, as a hint. A no-op on targets other than x86_64.
#[inline(always)]
fn hint(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        // SAFETY: PREFETCHT1 is an SSE instruction, which every x86_64 CPU has. A prefetch reads nothing
        // architecturally and never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(at.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

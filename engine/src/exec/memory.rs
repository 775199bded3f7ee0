//! Memory a process uses, as Linux reports it in `/proc/self/status`, for `-v` and the memory tests.
//!
//! Two figures, because the resident set of a tally process is mostly pages it does not own:
//! - `VmHWM`, the peak resident set. It counts the mapped input's page-cache pages and the shared-memory
//!   segment that a worker touched, so it grows with the part of the file a process read and says little
//!   about what the process allocated.
//! - `RssAnon`, the resident anonymous memory: the heap (states, collected keys, decode buffers, frames).
//!   This is what the memory bounds in the module docs of the analyses are about. The kernel keeps no peak
//!   of it, so [`MemoryUse::sample`] is called where a process holds the most: a worker after computing a
//!   chunk, at most every 5 ms (its state and the partial about to be sent are both alive), the parent after
//!   merging each pass; the figure reported is the largest sample.
//!
//! Not Linux (no `/proc`): no figures, never an error.

use serde::{Deserialize, Serialize};

/// Bytes; zero when unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryUse {
    /// Peak resident set size (`VmHWM`): anonymous, file-backed and shared pages.
    pub peak_rss: u64,
    /// Largest resident anonymous memory (`RssAnon`) seen by [`MemoryUse::sample`].
    pub anon: u64,
}

impl MemoryUse {
    /// This process now: its peak resident set so far and its current anonymous memory.
    pub fn sample() -> MemoryUse {
        std::fs::read_to_string("/proc/self/status").map(|s| parse_status(&s)).unwrap_or_default()
    }

    /// The larger of each figure: peaks of several samples of one process.
    pub fn max(self, other: MemoryUse) -> MemoryUse {
        MemoryUse { peak_rss: self.peak_rss.max(other.peak_rss), anon: self.anon.max(other.anon) }
    }

    /// Takes a new sample into the running peaks.
    pub fn update(&mut self) {
        *self = self.max(MemoryUse::sample());
    }
}

/// `VmHWM` and `RssAnon` of a `/proc/PID/status` text (lines such as `VmHWM: 12345 kB`, a tab after the colon).
fn parse_status(status: &str) -> MemoryUse {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    MemoryUse { peak_rss: field("VmHWM"), anon: field("RssAnon") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_fields_in_bytes() {
        let status = "Name:\ttally\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1500 kB\nRssAnon:\t     512 kB\n\
                      RssFile:\t 900 kB\nRssShmem:\t 88 kB\n";
        assert_eq!(parse_status(status), MemoryUse { peak_rss: 2048 * 1024, anon: 512 * 1024 });
        assert_eq!(parse_status("Name:\tx\n"), MemoryUse::default());
    }

    #[test]
    fn an_allocation_shows_in_the_anonymous_figure() {
        let before = MemoryUse::sample();
        if before == MemoryUse::default() {
            return; // no /proc here
        }
        // Large against what other tests running beside this one allocate and free meanwhile.
        let block = vec![1u8; 128 << 20];
        std::hint::black_box(&block);
        let after = MemoryUse::sample();
        assert!(after.anon >= before.anon + (96 << 20), "{before:?} then {after:?}");
        assert!(after.peak_rss >= after.anon);
    }
}

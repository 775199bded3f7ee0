//! The machine's ceilings, measured before the runs: how fast `threads` threads can read memory.
//!
//! Two probes, each a read-only sum of 64-bit words split evenly over 1..N threads (the worker counts of
//! the bench): over an anonymous buffer larger than the last-level cache (DRAM bandwidth, the STREAM
//! "sum" idea), and over a freshly mapped copy of the input file (what a tally worker does: mapping and
//! page-fault costs included, data served from the page cache). An analysis cannot scan its columns
//! faster than the second number; the report gives each run's fraction of it.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tally_engine::exec::Cancel;

/// The anonymous probe keeps the best of this many passes per thread count (the first pays page faults).
const ANON_REPEATS: usize = 3;
/// The mapped probe keeps the best of this many fresh mappings per thread count.
const MAPPED_REPEATS: usize = 2;
/// The mapped probe reads at least this much of the file when it has it (and at most the anonymous buffer's
/// size, when that is larger): page-fault costs are per page, so a prefix measures them, and the probe stays
/// within seconds on huge files.
const MAPPED_MIN: u64 = 512 << 20;

/// A throughput measured with `threads` threads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Point {
    pub(crate) threads: usize,
    pub(crate) gbps: f64,
}

/// What the probe measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Ceiling {
    /// The last-level cache, from sysfs, if known.
    pub(crate) llc_bytes: Option<u64>,
    pub(crate) buffer_bytes: u64,
    pub(crate) anon: Vec<Point>,
    pub(crate) mapped_bytes: u64,
    pub(crate) mapped: Vec<Point>,
    /// Wall time of the whole probe.
    pub(crate) seconds: f64,
}

impl Ceiling {
    /// The mapped-file ceiling for `workers`: the probe at the largest thread count not above it.
    pub(crate) fn mapped_at(&self, workers: usize) -> Option<f64> {
        self.mapped.iter().filter(|p| p.threads <= workers).max_by_key(|p| p.threads).map(|p| p.gbps)
    }
}

/// The default probe buffer: twice the last-level cache (so it cannot be served from it), at least 64 MiB.
pub(crate) fn default_buffer(llc: Option<u64>) -> u64 {
    llc.map_or(256 << 20, |l| 2 * l).max(64 << 20)
}

/// The largest cache sysfs lists for CPU 0 (Linux; `None` elsewhere).
pub(crate) fn last_level_cache() -> Option<u64> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("size")).ok())
        .filter_map(|s| parse_size(s.trim()))
        .max()
}

/// sysfs cache sizes: "48K", "2048K", "32M".
fn parse_size(s: &str) -> Option<u64> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "" => n,
        "K" => n << 10,
        "M" => n << 20,
        "G" => n << 30,
        _ => return None,
    })
}

/// Runs both probes for each of `threads`.
pub(crate) fn probe(file: &Path, threads: &[usize], buffer_bytes: u64, cancel: &Cancel) -> anyhow::Result<Ceiling> {
    let started = Instant::now();
    let llc_bytes = last_level_cache();
    // Written, not zeroed: zero pages would all map the kernel's one shared zero page and never touch DRAM.
    let buffer = vec![1u8; usize::try_from(buffer_bytes).context("the probe buffer does not fit in memory")?];
    let mut anon = Vec::new();
    for &t in threads {
        cancel.check()?;
        let best = (0..ANON_REPEATS).map(|_| timed_sum(&buffer, t)).fold(f64::INFINITY, f64::min);
        anon.push(Point { threads: t, gbps: buffer.len() as f64 / best / 1e9 });
    }
    drop(buffer);
    let handle = std::fs::File::open(file).with_context(|| format!("{}: cannot open", file.display()))?;
    let mapped_bytes = handle.metadata()?.len().min(buffer_bytes.max(MAPPED_MIN));
    let mut mapped = Vec::new();
    for &t in threads.iter().filter(|_| mapped_bytes > 0) {
        let mut best = f64::INFINITY;
        for _ in 0..MAPPED_REPEATS {
            cancel.check()?;
            let begin = Instant::now();
            // SAFETY: a read-only private mapping of a file nobody writes while the bench runs (the generated
            // file is ours; a given one is mapped the same way by the analysis itself, engine source/ipc.rs).
            // It is fresh each time, so the sum pays the page faults a worker pays.
            let map = unsafe { memmap2::MmapOptions::new().len(mapped_bytes as usize).map(&handle) }
                .with_context(|| format!("{}: cannot map", file.display()))?;
            std::hint::black_box(parallel_sum(&map, t));
            drop(map);
            best = best.min(begin.elapsed().as_secs_f64().max(1e-9));
        }
        mapped.push(Point { threads: t, gbps: mapped_bytes as f64 / best / 1e9 });
    }
    Ok(Ceiling { llc_bytes, buffer_bytes, anon, mapped_bytes, mapped, seconds: started.elapsed().as_secs_f64() })
}

fn timed_sum(bytes: &[u8], threads: usize) -> f64 {
    let begin = Instant::now();
    std::hint::black_box(parallel_sum(bytes, threads));
    begin.elapsed().as_secs_f64().max(1e-9)
}

/// The wrapping sum of the little-endian words of `bytes` (a trailing partial word zero-padded), read by
/// `threads` threads over equal contiguous parts.
pub(crate) fn parallel_sum(bytes: &[u8], threads: usize) -> u64 {
    let part = bytes.len().div_ceil(threads.max(1)).next_multiple_of(64).max(64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = bytes.chunks(part).map(|p| scope.spawn(move || sum(p))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).fold(0u64, u64::wrapping_add)
    })
}

/// Eight independent lanes so the loop vectorises and is bound by loads, not by one add chain.
fn sum(bytes: &[u8]) -> u64 {
    let (blocks, tail) = bytes.as_chunks::<64>();
    let mut lanes = [0u64; 8];
    for block in blocks {
        let (words, _) = block.as_chunks::<8>();
        for (lane, word) in lanes.iter_mut().zip(words) {
            *lane = lane.wrapping_add(u64::from_le_bytes(*word));
        }
    }
    let (words, rest) = tail.as_chunks::<8>();
    let mut total = words.iter().fold(0u64, |acc, w| acc.wrapping_add(u64::from_le_bytes(*w)));
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        total = total.wrapping_add(u64::from_le_bytes(last));
    }
    lanes.iter().fold(total, |acc, &l| acc.wrapping_add(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(bytes: &[u8]) -> u64 {
        let mut total = 0u64;
        for (i, &b) in bytes.iter().enumerate() {
            total = total.wrapping_add(u64::from(b) << (8 * (i % 8)));
        }
        total
    }

    #[test]
    fn the_sum_is_the_word_sum_for_any_length_and_thread_count() {
        let bytes: Vec<u8> = (0..10_007u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in [0, 1, 7, 8, 63, 64, 65, 1000, 10_007] {
            // threads split at multiples of 64 bytes, so word boundaries stay where they are
            for threads in [1, 2, 3, 8] {
                assert_eq!(parallel_sum(&bytes[..len], threads), brute(&bytes[..len]), "len {len}, {threads} threads");
            }
        }
    }

    #[test]
    fn sysfs_sizes_parse() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("1X"), None);
        assert_eq!(default_buffer(Some(260 << 20)), 520 << 20);
        assert_eq!(default_buffer(Some(1 << 20)), 64 << 20);
    }

    #[test]
    fn the_probe_measures_every_thread_count_of_both_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![3u8; 1 << 20]).unwrap();
        let c = probe(&path, &[1, 2], 1 << 20, &Cancel::default()).unwrap();
        assert_eq!(c.anon.iter().map(|p| p.threads).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(c.mapped.iter().map(|p| p.threads).collect::<Vec<_>>(), vec![1, 2]);
        assert!(c.anon.iter().chain(&c.mapped).all(|p| p.gbps.is_finite() && p.gbps > 0.0), "{c:?}");
        assert_eq!((c.mapped_bytes, c.mapped_at(5), c.mapped_at(0)), (1 << 20, Some(c.mapped[1].gbps), None));
    }
}

//! What the bench runs: the configurations (executor × worker count) and, without an input, the size of
//! the file it generates, chosen from the machine's free memory and disk (and said why).

use tally_engine::exec::ExecutorKind;

/// Bytes per generated row, rounded up (`tally gen`: 52 value bytes and a validity bit).
pub(crate) const BYTES_PER_ROW: u64 = 53;
/// Generated rows per core: about a second of `describe` per core on a 2020s server core, so the
/// smallest worker counts run long enough to time and the largest still scan a meaningful file.
pub(crate) const ROWS_PER_CORE: u64 = 25_000_000;
/// The smallest default file: below this, per-run start-up dominates.
pub(crate) const MIN_ROWS: u64 = 1_000_000;

/// One configuration: an executor and a worker count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) executor: ExecutorKind,
    pub(crate) workers: usize,
}

impl Config {
    /// The executor's name as the CLI spells it.
    pub(crate) fn name(&self) -> String {
        format!("{:?}", self.executor).to_lowercase()
    }
}

/// 1, 2, 4, ... below `cores`, then `cores`.
pub(crate) fn default_workers(cores: usize) -> Vec<usize> {
    let mut out: Vec<usize> =
        std::iter::successors(Some(1usize), |w| w.checked_mul(2)).take_while(|&w| w < cores).collect();
    out.push(cores.max(1));
    out
}

/// Every executor with every worker count, in the order given; `serial` once, with one worker.
pub(crate) fn configs(executors: &[ExecutorKind], workers: &[usize]) -> Vec<Config> {
    let mut out = Vec::new();
    for &executor in executors {
        let counts: &[usize] = if executor == ExecutorKind::Serial { &[1] } else { workers };
        for &w in counts {
            let c = Config { executor, workers: w };
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The default row count and the reason, from `MemAvailable`, the free space of the temporary
/// directory and the core count.
pub(crate) fn default_rows(mem_available: u64, free_disk: u64, cores: usize) -> (u64, String) {
    // A quarter of each: the file stays in the page cache next to whatever else runs, and the disk keeps room.
    let budget = (mem_available / 4).min(free_disk / 4);
    let by_cores = ROWS_PER_CORE * cores.max(1) as u64;
    let rows = (budget / BYTES_PER_ROW).min(by_cores).max(MIN_ROWS);
    let limit = if rows == by_cores {
        format!("{} M rows per core x {cores} cores", ROWS_PER_CORE / 1_000_000)
    } else if rows == MIN_ROWS {
        format!("the minimum of {} M rows (memory or disk is short)", MIN_ROWS / 1_000_000)
    } else {
        "a quarter of the smaller of MemAvailable and the free disk".to_string()
    };
    let why = format!(
        "{rows} rows ({:.1} GB): limited by {limit}; MemAvailable {:.1} GB, free disk {:.1} GB, so the file stays \
         in the page cache and leaves room (set --rows to choose)",
        (rows * BYTES_PER_ROW) as f64 / 1e9,
        mem_available as f64 / 1e9,
        free_disk as f64 / 1e9
    );
    (rows, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_double_up_to_the_cores() {
        assert_eq!(default_workers(1), vec![1]);
        assert_eq!(default_workers(2), vec![1, 2]);
        assert_eq!(default_workers(6), vec![1, 2, 4, 6]);
        assert_eq!(default_workers(8), vec![1, 2, 4, 8]);
    }

    #[test]
    fn serial_runs_once_and_duplicates_go() {
        let got = configs(&[ExecutorKind::Processes, ExecutorKind::Serial, ExecutorKind::Processes], &[1, 2]);
        let want = [(ExecutorKind::Processes, 1), (ExecutorKind::Processes, 2), (ExecutorKind::Serial, 1)];
        assert_eq!(got, want.map(|(executor, workers)| Config { executor, workers }));
        assert_eq!(got[2].name(), "serial");
    }

    #[test]
    fn the_default_size_follows_the_tightest_limit() {
        let gb = 1_000_000_000;
        let (rows, why) = default_rows(24 * gb, 50 * gb, 2);
        assert_eq!(rows, 50_000_000);
        assert!(why.contains("25 M rows per core x 2 cores"), "{why}");
        // 4 GB available: a quarter is 1 GB, 1e9 / 53 rows
        let (rows, why) = default_rows(4 * gb, 50 * gb, 64);
        assert_eq!(rows, gb / 53);
        assert!(why.contains("a quarter of the smaller"), "{why}");
        let (rows, why) = default_rows(gb, gb / 100, 2);
        assert_eq!(rows, MIN_ROWS);
        assert!(why.contains("minimum"), "{why}");
    }
}

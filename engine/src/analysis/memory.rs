//! The memory guard of exact group-by, distinct and top: estimate the state before building it, and refuse
//! with a clear message instead of being killed by the OOM killer.
//!
//! ```text
//!  bound = min(rows, Π key domains)  ──► need(bound) ≤ limit ──► run
//!                                    └─► otherwise one HyperLogLog pass over the key columns:
//!                                        groups ≤ min(rows, Π upper 95% bounds + null + NaN)
//!                                        ──► fits: run; does not: refuse, suggesting --approx / --where / more memory
//! ```
//!
//! The estimate, in states of `bytes/group` each (`chunk` = `min(groups, rows per chunk)`, the most groups
//! one chunk's state can hold):
//!
//! ```text
//!  parent:  PARENT_STATES · groups + PARENT_CHUNK_STATES · chunk     worker: WORKER_CHUNK_STATES · chunk
//!  need  =  bytes/group · (2 · groups + (3 + 2 · workers) · chunk)
//! ```
//!
//! Calibrated on the anonymous peaks `-v` reports (benches/README.md, "Grouped chunks"; 76 bytes per group):
//! at 1M groups in 8 chunks of ~1M groups each the parent held 327 MiB, ~4.4 chunk states at once (decoded
//! partials, the Aggregator's pending nodes and a merge's output), and each worker 127 MiB, ~1.7 (its chunk
//! state and the encoded copy it sends): the model says 362 and 145 MiB. At 10M groups in 8 chunks of 1.31M
//! rows the parent held 829 MiB (1.1 full states) and the workers 117 and 128 MiB: the model says 1.8 GiB
//! and 190 MiB, conservative where the whole state dwarfs a chunk's. `workers` is the run's worker count
//! ([`Guard::set_workers`]: `--workers`, one for the serial executor), since each worker holds its own chunk
//! state; grouped analyses take chunks of up to 2^24 rows (`plan::grouped_chunk_rows`), so those states are not
//! small beside the parent's. The limit is `--memory-limit`, or else the memory the kernel reports
//! available (`MemAvailable` in /proc/meminfo); without either there is no guard.

use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::stats::{AnyPartial, PartialSet, Stat};

/// Whole states the parent may hold at once while partials merge (see the module docs).
const PARENT_STATES: u64 = 2;
/// Chunk states the parent may hold at once beside them.
const PARENT_CHUNK_STATES: u64 = 3;
/// Chunk states each worker may hold at once.
const WORKER_CHUNK_STATES: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unchecked,
    Sketching,
    Passed,
}

/// The guard of one exact job.
#[derive(Debug)]
pub(crate) struct Guard {
    limit: Option<u64>,
    bytes_per_group: u64,
    /// What the job is, for the message (`groupby by k2`, `distinct of k2`).
    what: String,
    /// What to suggest instead.
    instead: &'static str,
    /// Processes or threads computing chunks at once, each with a chunk state of its own.
    workers: u64,
    state: State,
}

/// The memory the kernel reports available, in bytes.
fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Values a key column of this type can take, null included (`None`: too many to matter).
fn domain(type_name: &str) -> Option<u64> {
    match type_name {
        "Boolean" => Some(3),
        "Int8" | "UInt8" => Some(257),
        "Int16" | "UInt16" => Some(65_537),
        _ => None,
    }
}

fn mib(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

impl Guard {
    pub(crate) fn new(limit: Option<u64>, bytes_per_group: u64, what: String, instead: &'static str) -> Guard {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        Guard { limit, bytes_per_group, what, instead, workers, state: State::Unchecked }
    }

    /// The run's worker count (until told, one per core, the default).
    pub(crate) fn set_workers(&mut self, workers: usize) {
        self.workers = workers.max(1) as u64;
    }

    /// Bytes the run may hold at once for `groups` groups in chunks of `chunk_rows` rows (module docs).
    fn need(&self, groups: u64, chunk_rows: u64) -> u64 {
        let chunk = groups.min(chunk_rows);
        let chunk_states = PARENT_CHUNK_STATES.saturating_add(WORKER_CHUNK_STATES.saturating_mul(self.workers));
        (PARENT_STATES.saturating_mul(groups))
            .saturating_add(chunk_states.saturating_mul(chunk))
            .saturating_mul(self.bytes_per_group)
    }

    /// `Some(pass)` when a sketch pass must run first; `None` when the exact pass may run; an error when
    /// it would not fit. `keys` are the store positions of the key columns.
    pub(crate) fn step(
        &mut self,
        plan: &Plan,
        keys: &[usize],
        previous: Option<&PartialSet>,
    ) -> Result<Option<Vec<StatEntry>>> {
        match self.state {
            State::Passed => Ok(None),
            State::Unchecked => {
                let Some(limit) = self.limit.or_else(mem_available) else {
                    self.state = State::Passed;
                    return Ok(None);
                };
                self.limit = Some(limit);
                let mut domains = keys.iter().map(|&p| domain(&plan.columns[p].type_name));
                let bound = domains.try_fold(1u64, |acc, d| Some(acc.saturating_mul(d?))).unwrap_or(u64::MAX);
                if self.need(bound.min(plan.num_rows), plan.chunk_rows) <= limit {
                    self.state = State::Passed;
                    return Ok(None);
                }
                self.state = State::Sketching;
                Ok(Some(keys.iter().map(|&p| StatEntry { columns: vec![p], stat: Stat::ApproxDistinct }).collect()))
            }
            State::Sketching => {
                let previous = previous.ok_or_else(|| Error::internal("the memory estimate pass left no state"))?;
                let mut product = 1u64;
                for s in &previous.stats {
                    let AnyPartial::Sketch(sketch) = s else {
                        return Err(Error::internal("the memory estimate pass returned another state"));
                    };
                    let e = sketch.estimate();
                    let values =
                        e.upper.ceil() as u64 + u64::from(sketch.null_count > 0) + u64::from(sketch.nan_count > 0);
                    product = product.saturating_mul(values.max(1));
                }
                let groups = product.min(previous.rows);
                let limit = self.limit.unwrap_or(u64::MAX);
                if self.need(groups, plan.chunk_rows) > limit {
                    return Err(Error::input(format!(
                        "{} would hold about {groups} groups ({} at {} bytes per group: {PARENT_STATES} copies \
                         while merging, and states of up to {} groups per chunk, {PARENT_CHUNK_STATES} in the \
                         parent and {WORKER_CHUNK_STATES} in each of {} workers), more than the memory limit of \
                         {}; {}, narrow the rows with --where, or raise --memory-limit",
                        self.what,
                        mib(self.need(groups, plan.chunk_rows)),
                        self.bytes_per_group,
                        groups.min(plan.chunk_rows),
                        self.workers,
                        mib(limit),
                        self.instead
                    )));
                }
                self.state = State::Passed;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_types_have_small_domains() {
        assert_eq!(super::domain("Boolean"), Some(3));
        assert_eq!(super::domain("Int64"), None);
        assert_eq!((super::mib(3 << 20), super::mib(5 << 10)), ("3 MiB".to_string(), "5 KiB".to_string()));
    }
}

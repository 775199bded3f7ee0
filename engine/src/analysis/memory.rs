//! The memory guard of exact group-by, distinct and top: estimate the state before building it, and refuse
//! with a clear message instead of being killed by the OOM killer.
//!
//! ```text
//!  bound = min(rows, Π key domains)  ──► bound · bytes/group · COPIES ≤ limit ──► run
//!                                    └─► otherwise one HyperLogLog pass over the key columns:
//!                                        groups ≤ min(rows, Π upper 95% bounds + null + NaN)
//!                                        ──► fits: run; does not: refuse, suggesting --approx / --where / more memory
//! ```
//!
//! `COPIES`: while partials merge, the parent holds the pending nodes of the Aggregator's tree (the ones near the
//! root hold nearly all groups); three full states bound that where states are large (10M groups of 76 bytes: the
//! parent's anonymous peak was 829 MiB, 1.1 states). At 1M groups in 8 chunks the parent held 327 MiB, 4.4 states:
//! decoded partials, pending nodes and a merge's output at once, each nearly every group, which 3 copies miss when
//! chunk states are as large as the whole (benches/README.md, "Grouped chunks"; calibrating this is open). Beside
//! them each worker holds one chunk's state: at most `min(groups, chunk rows)` groups, counted once per core (the
//! default worker count). Grouped analyses take chunks of up to 2^24 rows (`plan::grouped_chunk_rows`), so those
//! states are not small next to the parent's. The limit is `--memory-limit`, or else the memory the kernel reports
//! available (`MemAvailable` in /proc/meminfo); without either there is no guard.

use crate::error::{Error, Result};
use crate::plan::{Plan, StatEntry};
use crate::stats::{AnyPartial, PartialSet, Stat};

/// Full states the run may hold at once (see the module docs).
pub(crate) const COPIES: u64 = 3;

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
        Guard { limit, bytes_per_group, what, instead, state: State::Unchecked }
    }

    /// `Some(pass)` when a sketch pass must run first; `None` when the exact pass may run; an error when
    /// it would not fit. `keys` are the store positions of the key columns.
    pub(crate) fn step(
        &mut self,
        plan: &Plan,
        keys: &[usize],
        previous: Option<&PartialSet>,
    ) -> Result<Option<Vec<StatEntry>>> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let need = |groups: u64| {
            let chunk_states = groups.min(plan.chunk_rows).saturating_mul(workers);
            groups.saturating_mul(COPIES).saturating_add(chunk_states).saturating_mul(self.bytes_per_group)
        };
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
                if need(bound.min(plan.num_rows)) <= limit {
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
                if need(groups) > limit {
                    return Err(Error::input(format!(
                        "{} would hold about {groups} groups ({} at {} bytes per group: {COPIES} copies while \
                         merging and a chunk's groups per core), more than the memory limit of {}; {}, narrow the \
                         rows with --where, or raise --memory-limit",
                        self.what,
                        mib(need(groups)),
                        self.bytes_per_group,
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

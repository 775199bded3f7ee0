//! The memory guard of exact group-by, distinct and top: estimate the state before building it, and refuse
//! with a clear message instead of being killed by the OOM killer.
//!
//! ```text
//!  bound = min(rows, Π key domains)  ──► need(bound) ≤ limit ──► run
//!                                    └─► otherwise, integer keys of a group-by: one min/max pass
//!                                        groups ≤ min(rows, Π (max − min + 1 + null)) ──► fits: run
//!                                    └─► otherwise one HyperLogLog pass over the key columns:
//!                                        groups ≤ min(rows, Π upper 95% bounds + null + NaN)
//!                                        ──► fits: run; does not: refuse, suggesting --approx / --where / more memory
//! ```
//!
//! The min/max pass comes first because it costs a fraction of the sketch (a vectorised scan against a hash
//! per value): `groupby --by k1` with seven aggregations (220 bytes a group, so 50M rows do not fit in
//! 23 GiB) spent 1.2 s of 2.0 s sketching a key of 1,000 values (benches/README.md).
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
use crate::stats::{AnyPartial, PartialSet, Range, Stat};

/// Whole states the parent may hold at once while partials merge (see the module docs).
const PARENT_STATES: u64 = 2;
/// Chunk states the parent may hold at once beside them.
const PARENT_CHUNK_STATES: u64 = 3;
/// Chunk states each worker may hold at once.
const WORKER_CHUNK_STATES: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unchecked,
    Ranging,
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
    /// Whether integer keys get a min/max pass before any sketch (group-by).
    range_first: bool,
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

fn is_integer(type_name: &str) -> bool {
    matches!(type_name, "Int8" | "Int16" | "Int32" | "Int64" | "UInt8" | "UInt16" | "UInt32" | "UInt64")
}

/// At least the distinct values, null included, of an integer column whose values lie in `range`: the
/// integers from min to max, plus the null group. `range` holds min and max as f64: exact up to 2^53 in
/// magnitude, and beyond within 1,024 of the integer (below 2^63), hence the margin there.
fn range_values(range: &Range) -> u64 {
    if range.finite == 0 {
        return 1;
    }
    let exact = range.min.abs().max(range.max.abs()) <= (1u64 << 53) as f64;
    let margin = if exact { 0 } else { 2 * 1024 };
    ((range.max - range.min).ceil() as u64).saturating_add(margin + 2)
}

/// The product over the bounding pass's states of `values` (at least 1 each), and the rows the pass saw.
fn product_of(
    previous: Option<&PartialSet>,
    pass: &str,
    values: impl Fn(&AnyPartial) -> Option<u64>,
) -> Result<(u64, u64)> {
    let previous = previous.ok_or_else(|| Error::internal(format!("the {pass} pass left no state")))?;
    let mut product = 1u64;
    for s in &previous.stats {
        let v = values(s).ok_or_else(|| Error::internal(format!("the {pass} pass returned another state")))?;
        product = product.saturating_mul(v.max(1));
    }
    Ok((product, previous.rows))
}

/// One HyperLogLog entry per key column.
fn sketches(keys: &[usize]) -> Vec<StatEntry> {
    keys.iter().map(|&p| StatEntry { columns: vec![p], stat: Stat::ApproxDistinct }).collect()
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
        Guard { limit, bytes_per_group, what, instead, workers, range_first: false, state: State::Unchecked }
    }

    /// Bounds integer keys by their min/max before any sketch. For group-by, whose one guard sees every key
    /// column; distinct and top keep one guard per column and sketch every column in one pass.
    pub(crate) fn range_first(mut self) -> Guard {
        self.range_first = true;
        self
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
                if self.range_first && keys.iter().all(|&p| is_integer(&plan.columns[p].type_name)) {
                    self.state = State::Ranging;
                    return Ok(Some(keys.iter().map(|&p| StatEntry { columns: vec![p], stat: Stat::Range }).collect()));
                }
                self.state = State::Sketching;
                Ok(Some(sketches(keys)))
            }
            State::Ranging => {
                let (product, rows) = product_of(previous, "key range", |s| match s {
                    AnyPartial::Range(range) => Some(range_values(range)),
                    _ => None,
                })?;
                if self.need(product.min(rows), plan.chunk_rows) <= self.limit.unwrap_or(u64::MAX) {
                    self.state = State::Passed;
                    return Ok(None);
                }
                self.state = State::Sketching;
                Ok(Some(sketches(keys)))
            }
            State::Sketching => {
                let (product, rows) = product_of(previous, "memory estimate", |s| match s {
                    AnyPartial::Sketch(sketch) => {
                        let upper = sketch.estimate().upper.ceil() as u64;
                        Some(upper + u64::from(sketch.null_count > 0) + u64::from(sketch.nan_count > 0))
                    }
                    _ => None,
                })?;
                let groups = product.min(rows);
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
    use super::*;

    /// Integer keys of a group-by get a min/max pass before any sketch; a small range then lets the exact
    /// run go ahead, a wide one goes on to the sketch. Strings go straight to the sketch.
    #[test]
    fn integer_keys_are_bounded_by_their_range_before_any_sketch() {
        use arrow_schema::{DataType, Field, Schema};
        let schema = Schema::new(vec![Field::new("k", DataType::Int32, false), Field::new("s", DataType::Utf8, true)]);
        let plan = Plan::try_new(&schema, &[0, 1], 1_000_000, 1 << 20).unwrap();
        // 100 bytes a group: a million groups need 100 · (2 + 3 + 2) · 1M, far more than 10 MB; 3,000 fit.
        let guard = || {
            let mut g = Guard::new(Some(10_000_000), 100, "test".into(), "");
            g.set_workers(1);
            g
        };
        let ranged = |min: f64, max: f64| PartialSet {
            rows: 1_000_000,
            stats: vec![AnyPartial::Range(Range { finite: 1_000_000, min, max })],
        };
        let mut g = guard().range_first();
        let entries = g.step(&plan, &[0], None).unwrap().expect("a pass first");
        assert!(matches!(entries[0].stat, Stat::Range), "{entries:?}");
        assert!(g.step(&plan, &[0], Some(&ranged(-500.0, 499.0))).unwrap().is_none(), "1,000 values fit");
        let mut g = guard().range_first();
        g.step(&plan, &[0], None).unwrap();
        let entries = g.step(&plan, &[0], Some(&ranged(0.0, 1e9))).unwrap().expect("then a sketch");
        assert!(matches!(entries[0].stat, Stat::ApproxDistinct), "{entries:?}");
        let entries = guard().range_first().step(&plan, &[1], None).unwrap().expect("a pass");
        assert!(matches!(entries[0].stat, Stat::ApproxDistinct), "strings are sketched: {entries:?}");
        let entries = guard().step(&plan, &[0], None).unwrap().expect("a pass");
        assert!(matches!(entries[0].stat, Stat::ApproxDistinct), "without range_first: {entries:?}");
    }

    #[test]
    fn range_values_cover_every_integer_of_the_range_and_the_null() {
        assert_eq!(range_values(&Range { finite: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }), 1);
        assert_eq!(range_values(&Range { finite: 5, min: 0.0, max: 999.0 }), 1_001, "0..=999 and the null");
        assert_eq!(range_values(&Range { finite: 5, min: -5.0, max: -5.0 }), 2);
        let big = Range { finite: 2, min: 2f64.powi(60), max: 2f64.powi(60) + 4096.0 };
        assert!(range_values(&big) >= 4097 + 2048, "beyond 2^53, min and max may each be 1,024 off");
        // i64 extremes round to ±2^63 as f64: the bound saturates instead of wrapping.
        let wide = Range { finite: 2, min: i64::MIN as f64, max: i64::MAX as f64 };
        assert!(range_values(&wide) >= u64::MAX / 2);
    }

    #[test]
    fn small_types_have_small_domains() {
        assert_eq!(super::domain("Boolean"), Some(3));
        assert_eq!(super::domain("Int64"), None);
        assert_eq!((super::mib(3 << 20), super::mib(5 << 10)), ("3 MiB".to_string(), "5 KiB".to_string()));
    }
}

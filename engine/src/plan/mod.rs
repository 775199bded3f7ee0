//! The Plan: which columns are read, and the fixed list of chunks; [`Pass`]es say what is computed.
//!
//! A chunk is a fixed row range. The list depends only on the row count and `chunk_rows`, **never on the
//! worker count**: that, with the Aggregator's canonical merge tree, is what makes results bit-identical
//! for any executor and any number of workers.

use std::ops::Range;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::stats::PartialSet;
use crate::store::ColumnKind;

mod pass;
pub use pass::{Pass, StatEntry};

/// Default rows per chunk. Chosen by `benches/README.md` ("chunk size"): large enough that per-chunk
/// overhead (a task message, a partial state, a merge) is noise, small enough that 2-8 workers get
/// dozens of chunks each on a 50M-row file, so the tail of the run stays short.
pub const DEFAULT_CHUNK_ROWS: u64 = 1 << 20;

/// Chunks a grouped analysis (group-by, exact distinct counts, top-k) cuts a file into by default.
const GROUPED_CHUNKS: u64 = 8;

/// Default rows per chunk of a grouped analysis over `num_rows` rows: an eighth of the rows, rounded up to
/// a multiple of 2^16, at least [`DEFAULT_CHUNK_ROWS`] and at most 2^24.
///
/// Why larger than [`DEFAULT_CHUNK_ROWS`]: a grouped chunk state holds every distinct key of its rows, and
/// the Aggregator merges states group by group, so a merge costs in proportion to the groups, not the rows.
/// Cut in 48 chunks, a 50M-row file of a million keys made 48 states of ~630,000 groups each and spent more
/// time merging and re-sorting them than reading rows; in 8 chunks it takes about half the time
/// (benches/README.md, "Grouped chunks"). Eight chunks keep 2, 4 and 8 workers evenly loaded; more workers
/// than chunks idle, so `--chunk-rows` still decides where that matters. Depends on the row count alone
/// (never on the workers), so results stay bit-identical across executors and worker counts.
pub fn grouped_chunk_rows(num_rows: u64) -> u64 {
    num_rows.div_ceil(GROUPED_CHUNKS).next_multiple_of(1 << 16).clamp(DEFAULT_CHUNK_ROWS, 1 << 24)
}

/// One unit of work: rows `rows` of every planned column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: usize,
    pub rows: Range<u64>,
}

/// The most chunks a run plans. The chunk list, the Aggregator and the executors keep a few words per
/// chunk: 2^24 chunks (a million-row chunk's worth of rows, a million times over) is room enough, and a
/// row count declared by a damaged or hostile file (a stream batch of no columns may claim any length) is
/// refused instead of allocated for (found by fuzzing, fuzz/README.md).
pub const MAX_CHUNKS: u64 = 1 << 24;

/// The fixed chunk list: `ceil(num_rows / chunk_rows)` consecutive ranges.
pub fn chunk_list(num_rows: u64, chunk_rows: u64) -> Vec<Chunk> {
    let chunk_rows = chunk_rows.max(1);
    (0..num_rows.div_ceil(chunk_rows))
        .map(|i| Chunk { id: i as usize, rows: i * chunk_rows..((i + 1) * chunk_rows).min(num_rows) })
        .collect()
}

/// One planned column: where it is in the source and how it is treated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnPlan {
    pub name: String,
    /// Index in the source schema.
    pub index: usize,
    /// The Arrow type as Arrow prints it (`Float64`, `Utf8`, ...).
    pub type_name: String,
    pub kind: ColumnKind,
    /// How results present the type's values (`report/typed.rs`).
    pub flavor: crate::report::typed::Flavor,
    /// Bytes per value of fixed-width columns, 0 otherwise.
    pub value_width: usize,
}

/// What is read and how it is cut: the loaded columns, the rows, the fixed chunk list. Which statistics
/// are computed is not here: that is each [`Pass`]'s job, so one Session (one start of the workers) serves
/// every pass of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The loaded columns, in store order: the store's column `i` is `columns[i]`.
    pub columns: Vec<ColumnPlan>,
    pub num_rows: u64,
    pub chunk_rows: u64,
    /// `--where`: rows it does not select are not rows for any statistic of any pass.
    pub filter: Option<PlannedFilter>,
}

/// A filter and the store positions of the columns it reads (in the order [`Filter::columns`] lists them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedFilter {
    pub filter: Filter,
    pub positions: Vec<usize>,
}

impl Plan {
    /// Plans reading `indices` (source-schema column indices, in the order wanted) of `schema`.
    pub fn try_new(schema: &Schema, indices: &[usize], num_rows: u64, chunk_rows: u64) -> Result<Plan> {
        if chunk_rows == 0 {
            return Err(Error::input("--chunk-rows must be at least 1"));
        }
        let columns = indices
            .iter()
            .map(|&index| {
                let field = schema.fields().get(index).ok_or_else(|| {
                    Error::internal(format!("column index {index} out of range ({} columns)", schema.fields().len()))
                })?;
                Ok(ColumnPlan {
                    name: field.name().clone(),
                    index,
                    type_name: field.data_type().to_string(),
                    kind: ColumnKind::of(field.data_type()),
                    flavor: crate::report::typed::Flavor::of(field.data_type()),
                    value_width: field.data_type().primitive_width().unwrap_or(0),
                })
            })
            .collect::<Result<_>>()?;
        Plan { columns, num_rows, chunk_rows, filter: None }.within_chunk_cap()
    }

    /// Refuses a plan of more than [`MAX_CHUNKS`] chunks, naming the rows, the chunk size and the remedy.
    fn within_chunk_cap(self) -> Result<Plan> {
        let chunks = self.chunk_count();
        if chunks > MAX_CHUNKS {
            let (rows, size) = (self.num_rows, self.chunk_rows);
            return Err(Error::input(format!(
                "{rows} rows in chunks of {size} rows would make {chunks} chunks, more than the \
                 {MAX_CHUNKS} a run plans: choose a larger --chunk-rows"
            )));
        }
        Ok(self)
    }

    /// Whether a chunk reads anything: a plan of no columns and no filter only counts rows.
    fn reads_nothing(&self) -> bool {
        self.columns.is_empty() && self.filter.is_none()
    }

    /// How many chunks [`Plan::chunks`] lists.
    pub fn chunk_count(&self) -> u64 {
        if self.reads_nothing() {
            // Rows no column backs cost nothing to count, so they are one chunk: a columnless batch may
            // declare any length (a 1,248-byte file declared 67M rows, which 7-row chunks made 9.6M
            // chunks and seconds of work: found by fuzzing, fuzz/README.md).
            self.num_rows.min(1)
        } else {
            self.num_rows.div_ceil(self.chunk_rows)
        }
    }

    /// Plans reading `indices` plus whatever `filter` reads (appended), with the filter applied to every pass.
    pub fn try_with_filter(
        schema: &Schema,
        indices: &[usize],
        filter: Option<Filter>,
        num_rows: u64,
        chunk_rows: u64,
    ) -> Result<Plan> {
        let mut all = indices.to_vec();
        if let Some(f) = &filter {
            all.extend(f.columns().iter().filter(|c| !indices.contains(c)));
        }
        let mut plan = Self::try_new(schema, &all, num_rows, chunk_rows)?;
        plan.filter = filter.map(|filter| {
            let positions =
                filter.columns().iter().map(|&c| all.iter().position(|&a| a == c).expect("added")).collect();
            PlannedFilter { filter, positions }
        });
        plan.within_chunk_cap()
    }

    /// Plans reading the columns named `names` (every column when `None`), failing on a name the schema lacks.
    pub fn try_with_names(schema: &Schema, names: Option<&[String]>, num_rows: u64, chunk_rows: u64) -> Result<Plan> {
        let indices = resolve_columns(schema, names)?;
        Self::try_new(schema, &indices, num_rows, chunk_rows)
    }

    /// Source-schema indices of the planned columns, in plan order.
    pub fn projection(&self) -> Vec<usize> {
        self.columns.iter().map(|c| c.index).collect()
    }

    /// The store position of source column `index`.
    pub fn position(&self, index: usize) -> Option<usize> {
        self.columns.iter().position(|c| c.index == index)
    }

    /// Bytes of value data per row over the planned numeric columns (for throughput reports).
    pub fn bytes_per_row(&self) -> u64 {
        self.columns.iter().map(|c| c.value_width as u64).sum()
    }

    /// The fixed chunk list: [`chunk_list`], or one chunk of every row when the plan reads nothing.
    pub fn chunks(&self) -> Vec<Chunk> {
        if self.reads_nothing() {
            chunk_list(self.num_rows, self.num_rows)
        } else {
            chunk_list(self.num_rows, self.chunk_rows)
        }
    }

    pub fn kind(&self, column: usize) -> ColumnKind {
        self.columns[column].kind
    }

    /// Empty states for every entry of `pass`: the merge identity of a chunk's [`PartialSet`].
    pub fn empty_partials(&self, pass: &Pass) -> PartialSet {
        let stats = pass.entries.iter().map(|e| e.stat.empty(self.kind(e.columns[0]), e.columns.len())).collect();
        PartialSet { rows: 0, stats }
    }

    /// Checks that every entry of `pass` names planned columns (a worker receives passes over a pipe).
    pub fn check_pass(&self, pass: &Pass) -> Result<()> {
        for entry in &pass.entries {
            if entry.columns.is_empty() || entry.columns.iter().any(|&c| c >= self.columns.len()) {
                return Err(Error::new(
                    crate::error::ErrorKind::Protocol,
                    format!(
                        "pass {} names columns {:?} of a {}-column plan",
                        pass.id,
                        entry.columns,
                        self.columns.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Source-schema indices of `names`, in order (every column when `None`): `source::columns::resolve_all`.
pub fn resolve_columns(schema: &Schema, names: Option<&[String]>) -> Result<Vec<usize>> {
    crate::source::columns::resolve_all(schema, names)
}

/// One rule for every analysis: trimming, `#N` positions, duplicates, suggestions (`source::columns`).
pub fn find_column(schema: &Schema, name: &str) -> Result<usize> {
    crate::source::columns::resolve(schema, name)
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field};

    use super::*;

    #[test]
    fn grouped_chunks_are_an_eighth_of_the_rows_within_bounds() {
        let mib = 1u64 << 20;
        assert_eq!(grouped_chunk_rows(0), mib);
        assert_eq!(grouped_chunk_rows(5_000_000), mib);
        // 50M rows: 6,250,000 an eighth, 6,291,456 (96 × 2^16) rounded up: 8 chunks, the last 5,959,808 rows.
        assert_eq!(grouped_chunk_rows(50_000_000), 96 << 16);
        assert_eq!(chunk_list(50_000_000, grouped_chunk_rows(50_000_000)).len(), 8);
        assert_eq!(grouped_chunk_rows(8 * 16 * mib), 16 * mib);
        assert_eq!(grouped_chunk_rows(u64::MAX / 2), 16 * mib);
    }

    #[test]
    fn chunks_tile_the_rows_exactly() {
        for (n, size) in [(0u64, 5u64), (1, 5), (10, 5), (11, 5), (7, 100), (1_000_001, 1 << 20)] {
            let chunks = chunk_list(n, size);
            assert_eq!(chunks.len() as u64, n.div_ceil(size));
            let mut next = 0;
            for (i, c) in chunks.iter().enumerate() {
                assert_eq!((c.id, c.rows.start), (i, next));
                assert!(c.rows.end - c.rows.start <= size && c.rows.end > c.rows.start);
                next = c.rows.end;
            }
            assert_eq!(next, n);
        }
    }

    #[test]
    fn chunk_cap_refuses_plans_that_read_columns_and_a_plan_that_reads_nothing_is_one_chunk() {
        let schema = Schema::new(vec![Field::new("a", DataType::Float64, true)]);
        let rows = 7 * MAX_CHUNKS + 1;
        let err = Plan::try_new(&schema, &[0], rows, 7).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{rows} rows in chunks of 7 rows would make {} chunks, more than the {MAX_CHUNKS} a run plans: \
                 choose a larger --chunk-rows",
                MAX_CHUNKS + 1
            )
        );
        assert_eq!(Plan::try_new(&schema, &[0], rows - 1, 7).unwrap().chunk_count(), MAX_CHUNKS);
        let nothing = Plan::try_new(&schema, &[], u64::MAX / 2, 7).unwrap();
        assert_eq!(nothing.chunks(), vec![Chunk { id: 0, rows: 0..u64::MAX / 2 }]);
        assert_eq!(nothing.chunk_count(), 1);
        assert!(Plan::try_new(&schema, &[], 0, 7).unwrap().chunks().is_empty());
    }

    #[test]
    fn unknown_column_names_the_column_and_the_choices() {
        let schema = Schema::new(vec![Field::new("a", DataType::Float64, true), Field::new("b", DataType::Utf8, true)]);
        let err = Plan::try_with_names(&schema, Some(&["zz".into()]), 0, 10).unwrap_err();
        assert_eq!(err.to_string(), "column \"zz\": no column named \"zz\"; the columns are: a, b");
        let err = Plan::try_with_names(&schema, Some(&["bb".into()]), 0, 10).unwrap_err();
        assert!(err.to_string().contains("(did you mean \"b\"?)"), "{err}");
        let plan = Plan::try_with_names(&schema, Some(&[" a".into(), "#1".into()]), 0, 10).unwrap();
        assert_eq!(plan.projection(), vec![0, 1]);
        let plan = Plan::try_with_names(&schema, Some(&["b".into(), "a".into()]), 0, 10).unwrap();
        assert_eq!(plan.projection(), vec![1, 0]);
        assert_eq!((plan.kind(0), plan.kind(1)), (ColumnKind::Bytes { utf8: true }, ColumnKind::Float));
    }
}

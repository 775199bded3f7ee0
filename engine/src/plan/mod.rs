//! The Plan: which statistics of which columns, and the fixed list of chunks.
//!
//! A chunk is a fixed row range. The list depends only on the row count and `chunk_rows`, **never on the
//! worker count**: that, with the Aggregator's canonical merge tree, is what makes results bit-identical
//! for any executor and any number of workers.

use std::ops::Range;

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::{AnyPartial, Counts, FinishOptions, FloatDescribe, IntDescribe, PartialSet};
use crate::store::ColumnKind;

/// Default rows per chunk. Chosen by `benches/README.md` ("chunk size"): large enough that per-chunk
/// overhead (a task message, a partial state, a merge) is noise, small enough that 2-8 workers get
/// dozens of chunks each on a 50M-row file, so the tail of the run stays short.
pub const DEFAULT_CHUNK_ROWS: u64 = 1 << 20;

/// One unit of work: rows `rows` of every planned column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: usize,
    pub rows: Range<u64>,
}

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
    /// Bytes per value of fixed-width columns, 0 otherwise.
    pub value_width: usize,
}

/// Options that change the partial states (and so must be the same on every worker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Keep an exact accumulator so `sum` and `mean` of float columns are correctly rounded.
    pub exact: bool,
    pub finish: FinishOptions,
}

/// The analysis: planned columns, options and chunking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub columns: Vec<ColumnPlan>,
    pub options: PlanOptions,
    pub num_rows: u64,
    pub chunk_rows: u64,
}

impl Plan {
    /// Plans `describe` of `columns` (all columns when `None`), failing on a name the schema lacks.
    pub fn try_new(
        schema: &Schema,
        columns: Option<&[String]>,
        num_rows: u64,
        chunk_rows: u64,
        options: PlanOptions,
    ) -> Result<Plan> {
        if chunk_rows == 0 {
            return Err(Error::input("--chunk-rows must be at least 1"));
        }
        let indices: Vec<usize> = match columns {
            None => (0..schema.fields().len()).collect(),
            Some(names) => names.iter().map(|n| find_column(schema, n)).collect::<Result<_>>()?,
        };
        let columns = indices
            .into_iter()
            .map(|index| {
                let field = schema.field(index);
                ColumnPlan {
                    name: field.name().clone(),
                    index,
                    type_name: field.data_type().to_string(),
                    kind: ColumnKind::of(field.data_type()),
                    value_width: field.data_type().primitive_width().unwrap_or(0),
                }
            })
            .collect();
        Ok(Plan { columns, options, num_rows, chunk_rows })
    }

    /// Source-schema indices of the planned columns, in plan order.
    pub fn projection(&self) -> Vec<usize> {
        self.columns.iter().map(|c| c.index).collect()
    }

    /// Bytes of value data per row over the planned numeric columns (for throughput reports).
    pub fn bytes_per_row(&self) -> u64 {
        self.columns.iter().map(|c| c.value_width as u64).sum()
    }

    pub fn chunks(&self) -> Vec<Chunk> {
        chunk_list(self.num_rows, self.chunk_rows)
    }

    pub fn kind(&self, column: usize) -> ColumnKind {
        self.columns[column].kind
    }

    /// Empty states for every planned column: the merge identity of a chunk's [`PartialSet`].
    pub fn empty_partials(&self) -> PartialSet {
        let columns = (0..self.columns.len())
            .map(|i| match self.kind(i) {
                ColumnKind::Float => AnyPartial::Float(FloatDescribe::new(self.options.exact)),
                ColumnKind::Int => AnyPartial::Int(IntDescribe::default()),
                ColumnKind::Other => AnyPartial::Counts(Counts::default()),
            })
            .collect();
        PartialSet { columns }
    }
}

/// One rule for every analysis: trimming, `#N` positions, duplicates, suggestions (`source::columns`).
fn find_column(schema: &Schema, name: &str) -> Result<usize> {
    crate::source::columns::resolve(schema, name)
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field};

    use super::*;

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
    fn unknown_column_names_the_column_and_the_choices() {
        let schema = Schema::new(vec![Field::new("a", DataType::Float64, true), Field::new("b", DataType::Utf8, true)]);
        let err = Plan::try_new(&schema, Some(&["zz".into()]), 0, 10, PlanOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "column \"zz\": no column named \"zz\"; the columns are: a, b");
        let err = Plan::try_new(&schema, Some(&["bb".into()]), 0, 10, PlanOptions::default()).unwrap_err();
        assert!(err.to_string().contains("(did you mean \"b\"?)"), "{err}");
        let plan = Plan::try_new(&schema, Some(&[" a".into(), "#1".into()]), 0, 10, PlanOptions::default()).unwrap();
        assert_eq!(plan.projection(), vec![0, 1]);
        let plan = Plan::try_new(&schema, Some(&["b".into(), "a".into()]), 0, 10, PlanOptions::default()).unwrap();
        assert_eq!(plan.projection(), vec![1, 0]);
        assert_eq!((plan.kind(0), plan.kind(1)), (ColumnKind::Other, ColumnKind::Float));
    }
}

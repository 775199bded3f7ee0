//! Struct fields as columns of their own (issue 11, item 5): a struct column `a` with fields `b` and `c`
//! adds the columns `a.b` and `a.c` (and `a.b.x` for a struct within a struct), which every option that
//! names columns accepts: `--columns`, `--column`, `--where` (`a.b > 3`, parsed as a compound name) and
//! group-by keys.
//!
//! Why this shape: the fields are listed after the input's own columns, so `#N` positions and `tally
//! schema`'s numbering of the real columns do not move, and a run plans them like any column. A field's
//! row is null when the field's value is null or the struct's row is (a struct null hides its fields, as in
//! Arrow's own `flatten` and in SQL's `a.b`). List, map and union children are not addressable: they are
//! not one value per row.
//!
//! Owns the names and the mapping from an addressable column back to its struct column and child path;
//! [`crate::store::Store`] applies the mapping to each piece it hands out. Does not own name resolution
//! (`columns.rs`).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, make_array};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Schema};

use crate::error::{Error, Result};

/// Where an addressable column's values come from: a column of the underlying store, then a path of
/// struct child indices (empty for the column itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    pub base: usize,
    pub path: Vec<usize>,
}

/// The input's columns, then every struct field (depth first) as a column named `parent.field`.
pub fn addressable(schema: &Schema) -> Schema {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for field in schema.fields() {
        push_children(field.name(), field.is_nullable(), field.data_type(), &mut fields);
    }
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

fn push_children(prefix: &str, nullable: bool, data_type: &DataType, out: &mut Vec<Field>) {
    let DataType::Struct(children) = data_type else { return };
    for child in children {
        let name = format!("{prefix}.{}", child.name());
        let nullable = nullable || child.is_nullable();
        out.push(Field::new(name.clone(), child.data_type().clone(), nullable).with_metadata(child.metadata().clone()));
        push_children(&name, nullable, child.data_type(), out);
    }
}

/// The path of every addressable column of `schema`, in [`addressable`]'s order.
fn all_paths(schema: &Schema) -> Vec<(usize, Vec<usize>)> {
    fn walk(top: usize, path: &mut Vec<usize>, data_type: &DataType, out: &mut Vec<(usize, Vec<usize>)>) {
        let DataType::Struct(children) = data_type else { return };
        for (i, child) in children.iter().enumerate() {
            path.push(i);
            out.push((top, path.clone()));
            walk(top, path, child.data_type(), out);
            path.pop();
        }
    }
    let mut out: Vec<(usize, Vec<usize>)> = (0..schema.fields().len()).map(|i| (i, Vec::new())).collect();
    for (top, field) in schema.fields().iter().enumerate() {
        walk(top, &mut Vec::new(), field.data_type(), &mut out);
    }
    out
}

/// For `projection` (indices into [`addressable`]`(schema)`): the input columns to load (each once, in
/// first-use order) and, per projected column, its [`FieldPath`] into them.
pub fn split(schema: &Schema, projection: &[usize]) -> Result<(Vec<usize>, Vec<FieldPath>)> {
    let paths = all_paths(schema);
    let mut tops: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(projection.len());
    for &p in projection {
        let (top, path) = paths
            .get(p)
            .ok_or_else(|| Error::internal(format!("column index {p} out of range ({} columns)", paths.len())))?;
        let base = tops.iter().position(|t| t == top).unwrap_or_else(|| {
            tops.push(*top);
            tops.len() - 1
        });
        out.push(FieldPath { base, path: path.clone() });
    }
    Ok((tops, out))
}

/// The values of the field at `path` within `array` (a slice of its struct column): the child arrays, with
/// every enclosing struct's nulls added to the field's own.
pub fn descend(array: &ArrayRef, path: &[usize]) -> ArrayRef {
    let mut current = array.clone();
    for &i in path {
        let parent = current.as_struct();
        let child = parent.column(i).clone();
        if !has_validity(child.data_type()) {
            // Unions, run-end encoded and null arrays carry no validity buffer of their own to add to (such
            // fields are nested or counted only; their rows are what the child says).
            current = child;
            continue;
        }
        current = match NullBuffer::union(parent.nulls(), child.nulls()) {
            nulls if nulls.as_ref() == child.nulls() => child,
            nulls => {
                let data = child.to_data().into_builder().nulls(nulls).build();
                make_array(data.expect("bug in tally: the validated child with its parent's nulls added"))
            }
        };
    }
    current
}

/// Whether arrays of `data_type` have a validity buffer (Arrow's union, run-end encoded and null layouts
/// do not).
fn has_validity(data_type: &DataType) -> bool {
    !matches!(data_type, DataType::Union(..) | DataType::RunEndEncoded(..) | DataType::Null)
}

/// The addressable columns of `schema`, shared (what runs plan against).
pub fn addressable_ref(schema: &Schema) -> arrow_schema::SchemaRef {
    Arc::new(addressable(schema))
}

#[cfg(test)]
mod tests {
    use arrow_array::{Int64Array, StringArray, StructArray};
    use arrow_schema::Fields;

    use super::*;

    fn nested() -> Schema {
        let inner = Fields::from(vec![Field::new("x", DataType::Int64, false)]);
        let outer =
            Fields::from(vec![Field::new("b", DataType::Utf8, true), Field::new("c", DataType::Struct(inner), false)]);
        Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("a", DataType::Struct(outer), true)])
    }

    #[test]
    fn fields_follow_the_columns_depth_first() {
        let s = addressable(&nested());
        let names: Vec<&str> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["k", "a", "a.b", "a.c", "a.c.x"]);
        // A field of a nullable struct is nullable, whatever it says itself.
        assert!(s.field(4).is_nullable());
        let (tops, paths) = split(&nested(), &[4, 0, 2]).unwrap();
        assert_eq!(tops, [1, 0]);
        assert_eq!(
            paths,
            [
                FieldPath { base: 0, path: vec![1, 0] },
                FieldPath { base: 1, path: vec![] },
                FieldPath { base: 0, path: vec![0] }
            ]
        );
    }

    #[test]
    fn a_null_struct_row_nulls_its_fields() {
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("p"), None, Some("r"), Some("s")]));
        let n: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
        let fields = Fields::from(vec![Field::new("b", DataType::Utf8, true), Field::new("n", DataType::Int64, false)]);
        let parent =
            StructArray::new(fields, vec![b, n.clone()], Some(NullBuffer::from(vec![true, true, false, true])));
        let parent: ArrayRef = Arc::new(parent);
        let valid = |a: &ArrayRef| (0..a.len()).map(|i| a.is_valid(i)).collect::<Vec<_>>();
        assert_eq!(valid(&descend(&parent, &[0])), [true, false, false, true]);
        assert_eq!(valid(&descend(&parent, &[1])), [true, true, false, true]);
        // A union child has no validity of its own to add the struct's nulls to: it is handed on as it is.
        let union_fields = arrow_schema::UnionFields::try_new([0], [Field::new("i", DataType::Int64, true)]).unwrap();
        let union = arrow_array::UnionArray::try_new(union_fields, vec![0i8; 4].into(), None, vec![n.clone()]).unwrap();
        let with_union = StructArray::new(
            Fields::from(vec![Field::new("u", union.data_type().clone(), true)]),
            vec![Arc::new(union) as ArrayRef],
            Some(NullBuffer::from(vec![true, false, true, true])),
        );
        assert_eq!(descend(&(Arc::new(with_union) as ArrayRef), &[0]).len(), 4);
        let sliced = parent.slice(1, 3);
        assert_eq!(valid(&descend(&sliced, &[1])), [true, false, true]);
        assert_eq!(descend(&sliced, &[1]).as_primitive::<arrow_array::types::Int64Type>().values(), &[2, 3, 4]);
    }
}

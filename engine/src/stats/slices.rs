//! A pass's partial states cut into slices by group-by partition, for merging on several owners at once.
//!
//! The group-by states (group-by, exact distinct, top-k) are the only ones that grow with the data; their
//! [`PARTITIONS`](super::groups::PARTITIONS) radix partitions merge independently. Slice `q` of `owners`
//! holds partitions `p % owners == q` of every group-by entry; slice 0 also keeps every other entry and the
//! row count, the other slices carry the pass's empty states there. Merging each slice's copies in the
//! canonical order and [`join`]ing the merged slices gives the merged whole, bit for bit (the partitions'
//! merges are the same merges, and a group's output does not depend on its partition's layout). The MPI
//! executor exchanges slices between ranks with this, so that no rank merges every group.

use super::{AnyPartial, Groups, PartialSet};
use crate::error::{Error, Result};

/// Whether any entry of the pass is a group-by state (worth exchanging by partition).
pub fn has_groups(empty: &PartialSet) -> bool {
    empty.stats.iter().any(|s| matches!(s, AnyPartial::Groups(_)))
}

/// `set` cut into `owners` slices; `empty` is the pass's empty state (what the other slices carry for the
/// entries slice 0 keeps whole).
pub fn cut(set: PartialSet, empty: &PartialSet, owners: usize) -> Result<Vec<PartialSet>> {
    let owners = owners.max(1);
    if set.stats.len() != empty.stats.len() {
        return Err(Error::internal("a partial set and its pass's empty state differ in length"));
    }
    let mut slices: Vec<PartialSet> =
        (0..owners).map(|q| PartialSet { rows: if q == 0 { set.rows } else { 0 }, stats: Vec::new() }).collect();
    for (state, identity) in set.stats.into_iter().zip(&empty.stats) {
        match state {
            AnyPartial::Groups(groups) => {
                for (slice, part) in slices.iter_mut().zip(groups.into_slices(owners)) {
                    slice.stats.push(AnyPartial::Groups(Box::new(part)));
                }
            }
            whole => {
                slices[0].stats.push(whole);
                for slice in &mut slices[1..] {
                    slice.stats.push(identity.clone());
                }
            }
        }
    }
    Ok(slices)
}

/// The inverse of [`cut`], after each slice was merged on its own.
pub fn join(slices: Vec<PartialSet>) -> Result<PartialSet> {
    let Some(first) = slices.first() else { return Err(Error::internal("no slices to join")) };
    let (rows, entries) = (first.rows, first.stats.len());
    if slices.iter().any(|s| s.stats.len() != entries) {
        return Err(Error::internal("slices of a partial set differ in length"));
    }
    let mut columns: Vec<Vec<AnyPartial>> = (0..entries).map(|_| Vec::with_capacity(slices.len())).collect();
    for slice in slices {
        for (column, state) in columns.iter_mut().zip(slice.stats) {
            column.push(state);
        }
    }
    let mut stats = Vec::with_capacity(entries);
    for column in columns {
        let mut states = column.into_iter();
        let joined = match states.next() {
            Some(AnyPartial::Groups(first)) => {
                let mut parts = vec![*first];
                for state in states {
                    match state {
                        AnyPartial::Groups(g) => parts.push(*g),
                        other => {
                            return Err(Error::internal(format!(
                                "a {} slice among group-by slices",
                                other.kind_name()
                            )));
                        }
                    }
                }
                AnyPartial::Groups(Box::new(Groups::join(parts).map_err(Error::internal)?))
            }
            Some(whole) => whole,
            None => return Err(Error::internal("an empty column of slices")),
        };
        stats.push(joined);
    }
    Ok(PartialSet { rows, stats })
}

//! Group ids of integer keys of a small range by direct indexing (`slots[x − lo]`), the `--by k1` case:
//! each distinct key is hashed once, where the first of its rows meets an empty slot, instead of once per
//! row.
//!
//! One window serves every block of a piece, so it follows the keys: a block whose keys fall outside it
//! widens it (at least doubling, so a slowly drifting range costs few copies) while the whole stays below
//! [`DIRECT_RANGE`], and otherwise starts a new window over that block alone. The ids
//! are the table's; the window only caches them, so where a key's id comes from never changes a result.

use super::DIRECT_RANGE;

/// An empty slot: the key has not been met in this window.
pub(super) const EMPTY: u32 = u32::MAX;

/// `slots[k]` is the group id of key `lo + k`, or [`EMPTY`].
#[derive(Debug)]
pub(super) struct DirectIds {
    pub lo: i128,
    pub slots: Vec<u32>,
}

impl DirectIds {
    /// The window for a block whose keys lie in `lo..=hi`: `window` itself when it covers them, widened
    /// when the union stays below [`DIRECT_RANGE`], a new one over the block alone otherwise; `None` when
    /// the block's own range is too wide (hash its keys).
    pub(super) fn covering(window: &mut Option<DirectIds>, lo: i128, hi: i128) -> Option<&mut DirectIds> {
        if hi - lo >= DIRECT_RANGE {
            return None;
        }
        let fresh = match window.as_ref() {
            Some(w) if lo >= w.lo && hi < w.hi_end() => return window.as_mut(),
            Some(w) => {
                let (ulo, uhi) = (lo.min(w.lo), hi.max(w.hi_end() - 1));
                if uhi - ulo < DIRECT_RANGE { Some(w.widened(ulo, uhi)) } else { None }
            }
            None => None,
        };
        *window = Some(fresh.unwrap_or_else(|| DirectIds { lo, slots: vec![EMPTY; (hi - lo + 1) as usize] }));
        window.as_mut()
    }

    /// The slot of key `x`, if the window holds it (integer keys only).
    #[inline]
    pub(super) fn slot<T: super::assign::FixedElem>(&self, x: T) -> Option<usize> {
        let at = x.offset_from(self.lo);
        (at < self.slots.len()).then_some(at)
    }

    /// One past the largest key the window holds.
    fn hi_end(&self) -> i128 {
        self.lo + self.slots.len() as i128
    }

    /// A copy of this window grown to cover `lo..=hi` (`hi − lo` below [`DIRECT_RANGE`]), with room to at
    /// least double, on the side it grew, as far as [`DIRECT_RANGE`] allows.
    fn widened(&self, lo: i128, hi: i128) -> DirectIds {
        let len = (hi - lo + 1).max(2 * self.slots.len() as i128).min(DIRECT_RANGE);
        let new_lo = if lo < self.lo { (hi + 1 - len).min(lo) } else { lo };
        let mut slots = vec![EMPTY; len as usize];
        let at = (self.lo - new_lo) as usize;
        slots[at..at + self.slots.len()].copy_from_slice(&self.slots);
        DirectIds { lo: new_lo, slots }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key a window held keeps its id and slot after any widening; every key of the block is covered.
    #[test]
    fn windows_cover_the_block_and_keep_every_id() {
        let mut window = None;
        let blocks: [(i128, i128); 7] =
            [(10, 20), (12, 15), (5, 30), (-1_000, 40), (100, 200), (70_000, 70_010), (-5, DIRECT_RANGE - 6)];
        let mut held: Vec<(i128, u32)> = Vec::new();
        let mut next_id = 0;
        for (lo, hi) in blocks {
            let before = window.as_ref().map(|w: &DirectIds| w.lo);
            let w = DirectIds::covering(&mut window, lo, hi).expect("each block is narrower than DIRECT_RANGE");
            assert!(w.lo <= lo && hi < w.hi_end(), "{lo}..={hi} in a window from {}", w.lo);
            assert!((w.slots.len() as i128) <= DIRECT_RANGE);
            let fresh = before.is_some() && held.iter().any(|&(k, _)| k < w.lo || k >= w.hi_end());
            if fresh {
                assert!(w.slots.iter().all(|&s| s == EMPTY), "a new window starts empty");
                held.clear();
            }
            for &(k, id) in &held {
                assert_eq!(w.slots[(k - w.lo) as usize], id, "key {k} kept its id");
            }
            for k in [lo, hi] {
                let slot = &mut w.slots[(k - w.lo) as usize];
                if *slot == EMPTY {
                    *slot = next_id;
                    held.push((k, next_id));
                    next_id += 1;
                }
            }
        }
        assert!(DirectIds::covering(&mut window, 0, DIRECT_RANGE).is_none(), "too wide a block is hashed");
    }
}

//! A Pass: the statistics computed in one scan of every chunk.
//!
//! Most analyses need one pass; some need the finished result of an earlier one (a histogram without
//! `--range` first finds the column's range). A Session runs passes one after another over the same workers.

use serde::{Deserialize, Serialize};

use crate::stats::Stat;

/// One statistic over some planned columns (store positions, see [`Plan::columns`](super::Plan)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatEntry {
    pub columns: Vec<usize>,
    pub stat: Stat,
}

/// The entries computed together in one scan; `id` counts passes within a run (0, 1, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pass {
    pub id: u32,
    pub entries: Vec<StatEntry>,
}

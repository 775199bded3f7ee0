//! # tally-engine
//!
//! Parallel, exact, deterministic statistics over columnar files. This crate is the whole engine; the
//! `tally` binary only parses arguments and renders.
//!
//! ## Data flow
//!
//! ```text
//!  input file ──► Source ──► Store ──► Plan ──► Executor ──► partials ──► Aggregator ──► Report
//!  (.arrow)      (mmap,     (zero-copy (fixed   (serial,     (one per     (canonical    (table, JSON,
//!                 validate)  batches)   chunks)  threads)     chunk)       merge tree)    CSV)
//! ```
//!
//! 1. [`source`] recognises the file by its magic bytes, memory-maps it and validates everything the
//!    kernels will assume. Arrow IPC files are decoded zero-copy: arrays point into the mapping.
//! 2. [`store`] holds the decoded columns and cuts them by row range into typed slices.
//! 3. [`plan`] fixes the columns, options and the chunk list, which depends only on the row count and
//!    `chunk_rows`, never on the number of workers.
//! 4. An [`exec::Executor`] runs [`kernel::compute_chunk`] for every chunk, in any order.
//! 5. Each chunk yields a [`stats::PartialSet`]: mergeable states (counts, extrema, exact or compensated
//!    sums, central moments), serialisable so they can cross process boundaries.
//! 6. The [`aggregate::Aggregator`] merges them in a balanced binary tree fixed by chunk ids, so results are
//!    bit-identical for every executor, worker count and completion order.
//! 7. [`report`] finishes the statistics and renders them.
//!
//! ## Invariants
//! * Determinism: same input and options (other than executor and workers) give the same bits.
//! * Accuracy: integer sums are exact; float sums are compensated (exact and correctly rounded with
//!   `exact`); moments are merged central moments, never `E[x²] − E[x]²`.
//! * Nulls are not values; NaN is counted in `nan_count` and excluded from everything else.
//! * Bad input is an [`Error`] naming the file, column, batch or byte offset; never a panic.
//!
//! ## Example
//! ```
//! use tally_engine::{DescribeOptions, describe, generate};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("demo.arrow");
//! generate::write_demo(&path, &generate::GenOptions { rows: 10_000, seed: 1, batch_rows: 4_096 }, &Default::default(), |_| {})
//!     .unwrap();
//! let options = DescribeOptions { columns: Some(vec!["a".into()]), ..DescribeOptions::default() };
//! let done = describe(&path, &options).unwrap();
//! let a = &done.report.columns[0].summary;
//! assert_eq!(a.count, 10_000);
//! assert!(a.mean.unwrap().abs() < 0.05); // a ~ N(0, 1)
//! ```

pub mod aggregate;
pub mod error;
pub mod exec;
pub mod generate;
pub mod kernel;
pub mod output;
pub mod plan;
pub mod report;
pub mod source;
pub mod stats;
pub mod store;

mod describe;

pub use describe::{DescribeOptions, Described, ProgressFn, describe, describe_store};
pub use error::{Error, ErrorKind, Result};

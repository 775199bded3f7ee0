//! # tally-engine
//!
//! Parallel, exact, deterministic statistics over columnar files. This crate is the whole engine; the
//! `tally` binary only parses arguments and renders.
//!
//! ## Data flow
//!
//! ```text
//!  input ─► Source ─► Store ─► Plan ─────────► Session ──► partials ──► Aggregator ──► Resolved + state ─► Result
//!  (.arrow  (mmap,    (zero-   (columns read,  (executor   (per chunk,  (canonical    (what the state      (report:
//!   stream)  validate) copy)    fixed chunks;   started     per pass,    merge tree    depends on; state    table, JSON,
//!                               Analysis ─►     once, runs  mergeable,   per pass)     files store this)    CSV)
//!                               passes)         N passes)   serialisable)
//! ```
//!
//! 1. [`source`] recognises the input by its magic bytes, memory-maps it and validates everything the
//!    kernels will assume. Arrow IPC files are decoded zero-copy: arrays point into the mapping.
//! 2. [`store`] holds the decoded columns and cuts them by row range into typed slices.
//! 3. An [`Analysis`] (describe, ...) is validated against the schema into an [`analysis::Job`], which
//!    names the columns it reads and yields one [`plan::Pass`] at a time (a list of statistics over
//!    columns); the [`plan::Plan`] fixes the columns read and the chunk list, which depends only on the
//!    row count and `chunk_rows`, never on the number of workers.
//! 4. An [`exec::Executor`] starts one [`exec::Session`] per run (worker processes are spawned once) and
//!    runs each pass: [`kernel::compute_chunk`] for every chunk, in any order. With the `mpi` feature,
//!    `exec::mpi` spreads the chunks over the ranks of an MPI job and rank 0 finishes the same tree.
//! 5. Each chunk yields a [`stats::PartialSet`]: one mergeable state per statistic of the pass
//!    ([`stats::AnyPartial`]), serialisable so it can cross process boundaries and be saved.
//! 6. The [`aggregate::Aggregator`] merges a pass's partials in a balanced binary tree fixed by chunk ids,
//!    so results are bit-identical for every executor, worker count and completion order.
//! 7. When the job is done, its [`analysis::Resolved`] form finishes the last pass's state into an
//!    [`AnalysisResult`]; [`state_file`] saves that state and merges saved ones. [`report`] renders.
//!
//! [`run()`] is the one entry point that does all of this for any analysis.
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
pub mod analysis;
pub mod error;
pub mod exec;
pub mod export;
pub mod filter;
pub mod generate;
pub mod kernel;
pub mod output;
pub mod plan;
pub mod report;
pub mod run;
pub mod source;
pub mod state_file;
pub mod stats;
pub mod store;

pub use analysis::describe::{DescribeOptions, Described, describe, describe_store};
pub use analysis::{Analysis, AnalysisResult};
pub use error::{Error, ErrorKind, Result};
pub use run::{Outcome, ProgressFn, RunOptions, run, run_many};

//! Every integration test of `tally-cli` in one test binary, one module per subject.
//!
//! Each test binary links the whole engine (about 50 MB with line tables); one binary per file made
//! `cargo test` link and store dozens of them, and a CI machine ran out of disk doing so.
//!
//! `mpi.rs` stays a binary of its own: CI runs it alone against an MPI build (`--test mpi`).

#[path = "../util/mod.rs"]
mod util;

mod analyses;
mod bench;
mod describe;
mod determinism;
mod errors;
mod formats;
mod groupby;
mod inputs;
mod malformed_golden;
mod memory;
mod numerics;
mod processes;
mod quantile;
mod safety;
mod schema_gen;
mod sessions;
mod usability;

//! Every integration test of `tally-engine` in one test binary, one module per subject.
//!
//! Each test binary links the whole engine (about 50 MB with line tables); one binary per file made
//! `cargo test` link and store dozens of them, and a CI machine ran out of disk doing so.
//!
//! `segment.rs` stays a binary of its own: it counts the process's open descriptors and mappings,
//! which tests running beside it in one process would disturb.

mod common;

mod accuracy;
mod analyses;
mod arrow_testing;
mod csv_parallel;
mod distinct;
mod exec_report;
mod filter;
mod fuzz_regressions;
mod groupby;
mod hist_corr;
mod hist_rules;
mod inputs_csv;
mod inputs_dataset;
mod inputs_decimal;
mod inputs_nested;
mod inputs_npy;
mod inputs_parquet;
mod inputs_text_time;
mod inputs_types;
mod laws;
mod parquet_testing_values;
mod quantile;
mod reference;
mod zero_copy;

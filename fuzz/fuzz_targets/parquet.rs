//! Fuzzes `tally describe` of a .parquet input (see ../src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tally_fuzz::describe_bytes(data, "parquet"));

//! A bare `processes` worker for the executor benchmark (`benches/executor.rs`): the worker loop of the
//! `tally` binary's hidden `__worker` subcommand, without the CLI, so the benchmark needs no CLI build.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(tally_engine::exec::processes::worker_main() as u8)
}

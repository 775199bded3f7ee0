//! The `tally` binary, built in this workspace so that the wheel's worker program and the extension share
//! one build of the engine (see Cargo.toml). Identical to `cli/src/main.rs`.

fn main() -> std::process::ExitCode {
    tally_cli::main()
}

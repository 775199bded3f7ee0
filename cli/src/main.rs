//! The `tally` binary: all of it lives in the library (`tally_cli::main`), which the Python package embeds too.

fn main() -> std::process::ExitCode {
    tally_cli::main()
}

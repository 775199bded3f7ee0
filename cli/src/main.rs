//! `tally`: the command-line face of tally-engine. Parses arguments, calls the engine, renders, and maps
//! failures to exit codes: 0 ok, 1 data or runtime error, 2 usage error. A closed stdout (`tally ... | head`)
//! ends the program quietly with 0.

mod args;
mod describe;
mod generate;
mod output;
mod schema;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tally: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}

fn run(cli: args::Cli) -> anyhow::Result<()> {
    match cli.command {
        args::Command::Describe(a) => describe::run(a),
        args::Command::Schema(a) => schema::run(a),
        args::Command::Gen(a) => generate::run(a),
    }
}

/// Writing to a closed pipe is how `head` says "enough": not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

//! The `tally` command line as a library: [`main`] is the whole program (`src/main.rs` only calls it), and
//! [`embed`] runs the same parser and subcommands in-process for other front ends (the Python package), so
//! every subcommand, present and future, is reachable from them without binding code of its own.
//!
//! [`main`] parses arguments, calls the engine, renders, and maps failures to exit codes: 0 ok, 1 data or
//! runtime error, 2 usage error, 128 + signal when interrupted (130 for Ctrl-C, 143 for SIGTERM). A closed
//! stdout (`tally ... | head`) ends the program quietly with 0.

mod analysis;
mod args;
mod bench;
mod convert;
mod corr;
mod describe;
mod distinct;
pub mod embed;
mod generate;
mod groupby;
mod hist;
mod merge;
mod options;
mod output;
mod progress;
mod quantile;
mod ranks;
mod schema;
mod signals;

use std::process::ExitCode;

use clap::Parser;
use tally_engine::ErrorKind;

/// The `tally` program: parses `std::env::args`, runs, and says how it ended.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let args::Command::Worker = cli.command {
        return ExitCode::from(tally_engine::exec::processes::worker_main() as u8);
    }
    let cancel = match signals::install() {
        Ok(cancel) => cancel,
        Err(e) => {
            eprintln!("tally: error: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    match run(cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        // `tally bench` parses its words itself: its help and usage errors look like clap's own.
        Err(e) if e.downcast_ref::<clap::Error>().is_some() => {
            let usage = e.downcast_ref::<clap::Error>().expect("checked by the guard");
            let _ = usage.print();
            ExitCode::from(if usage.use_stderr() { 2 } else { 0 })
        }
        Err(e) => ExitCode::from(report_error(&e, &cancel, "")),
    }
}

/// Prints a failed run's error (its message, `prefix` first, then causes that add something) and returns
/// the exit code: 128 + signal when interrupted, else 1.
pub(crate) fn report_error(e: &anyhow::Error, cancel: &tally_engine::exec::Cancel, prefix: &str) -> u8 {
    if let (Some(signal), true) = (cancel.signal(), is_cancelled(e)) {
        eprintln!("tally: {prefix}{e}");
        return 128 + signal as u8;
    }
    let mut said = e.to_string();
    eprintln!("tally: error: {prefix}{said}");
    // Causes that only repeat what the message already says are noise.
    for cause in e.chain().skip(1).map(|c| c.to_string()) {
        if !said.contains(&cause) {
            eprintln!("  caused by: {cause}");
            said.push_str(&cause);
        }
    }
    1
}

/// Runs one parsed command line (the worker subcommand excepted: it owns its process).
fn run(cli: args::Cli, cancel: &tally_engine::exec::Cancel) -> anyhow::Result<()> {
    match cli.command {
        args::Command::Describe(a) => describe::run(a, cancel),
        args::Command::Hist(a) => hist::run(a, cancel),
        args::Command::Corr(a) => corr::run(a, cancel),
        args::Command::Quantile(a) => quantile::run(a, cancel),
        args::Command::Groupby(a) => groupby::run(a, cancel),
        args::Command::Distinct(a) => distinct::run_distinct(a, cancel),
        args::Command::Top(a) => distinct::run_top(a, cancel),
        args::Command::Merge(a) => merge::run(a),
        args::Command::Schema(a) => schema::run(a, cancel),
        args::Command::Gen(a) => generate::run(a, cancel),
        args::Command::Convert(a) => convert::run(a, cancel),
        args::Command::Bench(a) => bench::run(&a.words, cancel),
        args::Command::Worker => unreachable!("handled before signal setup"),
    }
}

fn is_cancelled(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<tally_engine::Error>().is_some_and(|t| t.kind() == ErrorKind::Cancelled))
}

/// Writing to a closed pipe is how `head` says "enough": not an error.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

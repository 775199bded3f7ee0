//! The command line, in-process: [`invoke`] takes CLI-style arguments (`["describe", "f.arrow", "--format",
//! "json"]`), runs them through the very parser and subcommand code `tally` uses, and returns what `tally`
//! would have printed on standard output. Front ends such as the Python package build argument lists instead
//! of calling the engine, so their numbers are the CLI's by construction and a new subcommand needs no
//! binding code.
//!
//! The host owns the process, so an embedded run differs from `tally` in three ways, all set up here for the
//! duration of one [`invoke`] on the calling thread: no signal handlers are installed (the host cancels
//! through [`Embedding::cancel`]), worker processes are started from the program the host names (the host's
//! own executable is not `tally`), and standard output is captured instead of written.

use std::cell::RefCell;
use std::io::Write;

use clap::Parser;
use tally_engine::exec::Cancel;
use tally_engine::exec::processes::WorkerCommand;

use crate::args::{Cli, Command};

/// What the host provides for one run.
#[derive(Clone, Debug)]
pub struct Embedding {
    /// Stops the run when set (e.g. by the host's Ctrl-C handling); the run then fails with
    /// [`tally_engine::ErrorKind::Cancelled`] after its workers are gone.
    pub cancel: Cancel,
    /// How to start worker processes (`--executor processes`): the `tally` binary with its hidden
    /// `__worker` subcommand, or any program that runs [`tally_engine::exec::processes::worker_main`] (the
    /// Python package's interpreter, `python -m tally._worker`); or why there is none: the message is the
    /// error of a run that needs workers.
    pub worker: Result<WorkerCommand, String>,
}

/// Why an embedded command line did not produce output.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The arguments do not parse (clap's message, with usage).
    #[error("{0}")]
    Usage(String),
    /// The run failed; the chain may hold a [`tally_engine::Error`] with its kind and context.
    #[error("{0:#}")]
    Run(anyhow::Error),
}

impl Failure {
    /// The engine error behind a failed run, if it came from the engine.
    pub fn engine_error(&self) -> Option<&tally_engine::Error> {
        match self {
            Failure::Usage(_) => None,
            Failure::Run(e) => e.chain().find_map(|c| c.downcast_ref::<tally_engine::Error>()),
        }
    }
}

/// The state of the embedded run on this thread: captured stdout and the worker command.
struct Active {
    stdout: Vec<u8>,
    worker: Result<WorkerCommand, String>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Clears the thread's embedded state however [`invoke`] ends.
struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        ACTIVE.with_borrow_mut(|a| *a = None);
    }
}

/// Runs one command line (without the program name) and returns its standard output. `--help` and
/// `--version` return their text as output.
pub fn invoke<I, S>(args: I, embedding: &Embedding) -> Result<Vec<u8>, Failure>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("tally")).chain(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => return Ok(e.render().to_string().into_bytes()),
        Err(e) => return Err(Failure::Usage(e.render().to_string())),
    };
    if let Command::Worker = cli.command {
        return Err(Failure::Usage("the worker subcommand runs only as its own process".into()));
    }
    if ACTIVE.with_borrow(Option::is_some) {
        return Err(Failure::Run(anyhow::anyhow!("an embedded tally run is already active on this thread")));
    }
    let _reset = Reset;
    let worker = embedding.worker.clone();
    ACTIVE.with_borrow_mut(|a| *a = Some(Active { stdout: Vec::new(), worker }));
    crate::run(cli, &embedding.cancel).map_err(Failure::Run)?;
    Ok(ACTIVE.with_borrow_mut(|a| a.take().map(|a| a.stdout).unwrap_or_default()))
}

/// The subcommands a host can [`invoke`], with their one-line help: hosts expose each one, including those
/// added after the host was written.
pub fn commands() -> Vec<(String, String)> {
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| (c.get_name().to_string(), c.get_about().map(|a| a.to_string()).unwrap_or_default()))
        .collect()
}

/// Whether an embedded run is active on this thread.
pub(crate) fn active() -> bool {
    ACTIVE.with_borrow(Option::is_some)
}

/// The worker command of the embedded run on this thread (`None`: not embedded, use our own executable).
pub(crate) fn worker_command() -> Option<anyhow::Result<WorkerCommand>> {
    ACTIVE.with_borrow(|a| a.as_ref().map(|a| a.worker.clone().map_err(anyhow::Error::msg)))
}

/// Runs `write` against the captured standard output of the embedded run on this thread.
pub(crate) fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let mut buffer = ACTIVE.with_borrow_mut(|a| a.as_mut().map(|a| std::mem::take(&mut a.stdout))).unwrap_or_default();
    let result = write(&mut buffer);
    ACTIVE.with_borrow_mut(|a| {
        if let Some(a) = a.as_mut() {
            a.stdout = buffer;
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedding() -> Embedding {
        Embedding { cancel: Cancel::default(), worker: Err("no workers in unit tests".into()) }
    }

    #[test]
    fn usage_errors_are_clap_messages() {
        let err = invoke(["describe"], &embedding()).unwrap_err();
        assert!(matches!(&err, Failure::Usage(m) if m.contains("<PATH>")), "{err}");
        assert!(err.engine_error().is_none());
    }

    #[test]
    fn commands_are_the_visible_subcommands() {
        let names: Vec<String> = commands().into_iter().map(|(n, _)| n).collect();
        assert!(names.iter().any(|n| n == "describe") && names.iter().any(|n| n == "gen"), "{names:?}");
        assert!(!names.iter().any(|n| n == "__worker" || n == "help"), "{names:?}");
    }

    #[test]
    fn help_is_output() {
        let out = invoke(["describe", "--help"], &embedding()).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("--columns"));
        assert!(!active(), "the thread's state is cleared");
    }

    #[test]
    fn engine_errors_keep_kind_and_file() {
        let err = invoke(["describe", "/nonexistent/x.arrow", "--executor", "serial"], &embedding()).unwrap_err();
        let engine = err.engine_error().expect("an engine error");
        assert_eq!(engine.kind(), tally_engine::ErrorKind::Input);
        assert_eq!(engine.context().file.as_deref(), Some(std::path::Path::new("/nonexistent/x.arrow")));
        assert!(!active(), "the thread's state is cleared after a failure too");
    }

    #[test]
    fn processes_without_a_worker_program_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.arrow");
        let path = path.to_str().unwrap();
        invoke(["gen", path, "--rows", "10", "-q"], &embedding()).unwrap();
        let err = invoke(["describe", path, "--executor", "processes"], &embedding()).unwrap_err();
        assert!(err.to_string().contains("no workers in unit tests"), "{err}");
    }

    #[test]
    fn output_is_captured_not_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.arrow");
        let path = path.to_str().unwrap();
        invoke(["gen", path, "--rows", "100", "-q"], &embedding()).unwrap();
        let out =
            invoke(["describe", path, "--executor", "serial", "--format", "json", "--columns", "k1"], &embedding())
                .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["columns"][0]["name"], "k1");
        assert_eq!(json["columns"][0]["count"], 100);
    }
}

//! The blocking call: the run happens on its own thread while the calling thread, GIL released, waits in
//! short slices and checks for Python signals between them. Python delivers Ctrl-C only to the main thread
//! and only when it runs Python code, so a run that merely released the GIL would ignore Ctrl-C until it
//! finished; here a pending `KeyboardInterrupt` sets the engine's cancel cell, the run stops its workers and
//! returns, and only then is the `KeyboardInterrupt` raised: no worker or shared-memory segment outlives it.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tally_cli::embed::{Embedding, Failure};
use tally_engine::exec::Cancel;
use tally_engine::exec::processes::WorkerCommand;

use crate::errors::to_python;

/// How long the waiting thread sleeps between signal checks: short enough that Ctrl-C feels instant,
/// long enough to cost nothing.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// The signal number recorded in the cancel cell, as the CLI's SIGINT handler records it.
const SIGINT: usize = 2;

/// Runs `args` (a `tally` command line without the program name) and returns its standard output.
/// `worker` is the command line that starts one worker process (a `tally` binary with `__worker`, or
/// this interpreter with `-m tally._worker`); when it is `None`, `missing_worker` says why, and becomes the
/// error of a run that needs workers.
#[pyfunction]
#[pyo3(signature = (args, worker, missing_worker))]
pub(crate) fn invoke(
    py: Python<'_>,
    args: Vec<String>,
    worker: Option<Vec<String>>,
    missing_worker: String,
) -> PyResult<Py<PyBytes>> {
    let cancel = Cancel::default();
    let worker = match worker.as_deref() {
        Some([program, args @ ..]) => {
            Ok(WorkerCommand::new(PathBuf::from(program), args.iter().map(Into::into).collect()))
        }
        Some([]) => Err("the worker command is empty".to_string()),
        None => Err(missing_worker),
    };
    let embedding = Embedding { cancel: cancel.clone(), worker };
    let (done, result) = channel();
    // `detach` needs `Sync` captures; only this thread ever receives.
    let result = Mutex::new(result);
    let receive = |timeout: Option<Duration>| {
        let rx = result.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match timeout {
            Some(t) => rx.recv_timeout(t),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        }
    };
    let thread = std::thread::Builder::new()
        .name("tally-run".into())
        .spawn(move || {
            let _ = done.send(tally_cli::embed::invoke(args, &embedding));
        })
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("cannot start the run thread: {e}")))?;
    let outcome: Result<Vec<u8>, Failure> = loop {
        match py.detach(|| receive(Some(SIGNAL_POLL))) {
            Ok(outcome) => break outcome,
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.cancel(SIGINT);
                    // The run sees the cell within milliseconds, stops and reaps its workers.
                    let _ = py.detach(|| receive(None));
                    let _ = thread.join();
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = thread.join();
                return Err(pyo3::exceptions::PyRuntimeError::new_err("tally's run thread panicked (a bug)"));
            }
        }
    };
    let _ = thread.join();
    match outcome {
        Ok(stdout) => Ok(PyBytes::new(py, &stdout).unbind()),
        Err(failure) => Err(to_python(py, &failure)),
    }
}

/// The body of a worker process started as `python -m tally._worker`: serves the parent over stdin and
/// stdout as the `tally` binary's hidden `__worker` subcommand does, then ends the process with its exit
/// code (the worker protocol owns the process; nothing of the interpreter runs after it).
#[pyfunction]
pub(crate) fn worker_main() {
    std::process::exit(tally_engine::exec::processes::worker_main())
}

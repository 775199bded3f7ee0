//! The worker process: the same `tally` binary started by the supervisor with a hidden subcommand.
//!
//! ```text
//!  stdin  ── Hello{plan, input} ──────►  open the store once (map the inherited file / memfd)
//!  stdout ◄── Ready{pid} ───────────────
//!  stdin  ── Pass{id, entries} ───────►  remember the pass
//!  stdin  ── Task{pass, chunk} ───────►  kernel::compute_chunk
//!  stdout ◄── Done{pass, chunk, partial, memory}   (repeat; further Pass frames start later passes)
//!  stdin  ── EOF ─────────────────────►  exit 0
//! ```
//!
//! A worker never outlives its parent: it asks the kernel for SIGKILL when the parent dies
//! (`PR_SET_PDEATHSIG`), checks that the parent did not die before that request took effect, and exits on
//! end of input. Its stdout carries only frames; logs go to stderr, which the supervisor prefixes with
//! the worker's id.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::fault::{self, Action, FAULT_ENV};
use super::protocol::{InputSpec, ToParent, ToWorker, read_frame, write_frame, write_frame_with};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::memory::MemoryUse;
use crate::kernel::compute_chunk;
use crate::plan::{Pass, Plan};
use crate::source::Input;
use crate::source::dataset::Dataset;
use crate::source::ipc::IpcFile;
use crate::source::npy::NpyFile;
use crate::store::Store;
use crate::store::segment::{SealedSegment, claim_inherited_file};

/// The environment variable through which the supervisor tells a worker its parent's pid.
pub(crate) const PARENT_PID_ENV: &str = "TALLY_PARENT_PID";

/// Set by a verbose parent: `1` (`-v`) logs opening times, `2` (`-vv`) one line per chunk too, on stderr.
pub(crate) const VERBOSE_ENV: &str = "TALLY_WORKER_VERBOSE";

/// Runs a worker on stdin/stdout until its input ends. Returns the process exit code.
pub fn worker_main() -> i32 {
    if let Err(e) = tie_to_parent() {
        eprintln!("{e}");
        return 1;
    }
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    match serve(&mut input, &mut output) {
        Ok(()) => 0,
        Err(e) => {
            // Tell the parent what went wrong with its context; if the pipe is gone, stderr still has it.
            let failed = ToParent::Failed { message: e.to_string(), input_error: e.kind() == ErrorKind::Input };
            if write_frame(&mut output, &failed).is_err() {
                eprintln!("{e}");
            }
            1
        }
    }
}

/// Dies with the parent: SIGKILL on parent death, and exit now if the parent is already gone.
fn tie_to_parent() -> Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(|e| Error::io("cannot set the parent-death signal", e.into()))?;
    let expected = std::env::var(PARENT_PID_ENV).ok().and_then(|p| p.parse::<i32>().ok());
    let actual = rustix::process::getppid().map(|p| p.as_raw_nonzero().get());
    match expected {
        Some(pid) if actual != Some(pid) => {
            Err(Error::new(ErrorKind::Worker, "parent exited before the worker started"))
        }
        _ => Ok(()),
    }
}

/// Least time between two memory samples of a worker (exec/memory.rs).
const MEMORY_SAMPLE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(5);

fn serve(input: &mut impl std::io::Read, output: &mut impl Write) -> Result<()> {
    let faults = match std::env::var(FAULT_ENV) {
        Ok(spec) => fault::parse(&spec)?,
        Err(_) => Vec::new(),
    };
    let (worker, input_spec, plan) = match read_frame::<ToWorker>(input)? {
        Some(ToWorker::Hello { worker, input, plan }) => (worker, input, plan),
        Some(other) => return Err(Error::new(ErrorKind::Protocol, format!("expected Hello, got {other:?}"))),
        None => return Ok(()),
    };
    let verbose: u8 = std::env::var(VERBOSE_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let opened = Instant::now();
    let store = open_store(&input_spec, &plan)?;
    if verbose >= 1 {
        eprintln!("opened {} in {:.1} ms", store.path().display(), opened.elapsed().as_secs_f64() * 1e3);
    }
    if let Some(Action::Hang) = fault::find_start(&faults, worker) {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    write_frame(output, &ToParent::Ready { pid: std::process::id() })?;
    let mut pass: Option<Pass> = None;
    let mut memory = MemoryUse::sample();
    let mut sampled = Instant::now();
    let mut frame = Vec::new();
    while let Some(message) = read_frame::<ToWorker>(input)? {
        let (pass_id, chunk) = match message {
            ToWorker::Pass(next) => {
                plan.check_pass(&next)?;
                if let Some(Action::Exit) = fault::find_pass(&faults, worker, next.id) {
                    std::process::exit(3);
                }
                pass = Some(next);
                continue;
            }
            ToWorker::Task { pass, chunk } => (pass, chunk),
            ToWorker::Hello { .. } => return Err(Error::new(ErrorKind::Protocol, "unexpected second Hello")),
        };
        let current = pass.as_ref().filter(|p| p.id == pass_id).ok_or_else(|| {
            Error::new(ErrorKind::Protocol, format!("task for pass {pass_id} before that pass was sent"))
        })?;
        if chunk.rows.end > plan.num_rows || chunk.rows.start > chunk.rows.end {
            return Err(Error::new(ErrorKind::Protocol, format!("chunk {} rows out of range", chunk.id)));
        }
        match fault::find(&faults, worker, chunk.id) {
            Some(Action::Abort) => std::process::abort(),
            Some(Action::Exit) => std::process::exit(3),
            Some(Action::Hang) => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
            Some(Action::Error) => {
                return Err(Error::input("injected fault").with_chunk(chunk.id, chunk.rows.clone()));
            }
            None => {}
        }
        let started = Instant::now();
        let partial = compute_chunk(&plan, current, &store, &chunk)?;
        // Reading /proc costs tens of microseconds: every chunk of the usual size (which takes longer than
        // the interval), but not every one of a run of tiny chunks.
        if sampled.elapsed() >= MEMORY_SAMPLE_INTERVAL {
            memory.update();
            sampled = Instant::now();
        }
        write_frame_with(output, &ToParent::Done { pass: pass_id, chunk: chunk.id, partial, memory }, &mut frame)?;
        if verbose >= 2 {
            let (rows, ms) = (chunk.rows.end - chunk.rows.start, started.elapsed().as_secs_f64() * 1e3);
            eprintln!(
                "pass {pass_id} chunk {} (rows {}..{}): {rows} rows in {ms:.2} ms",
                chunk.id, chunk.rows.start, chunk.rows.end
            );
        }
    }
    Ok(())
}

/// The input a spec names, and a label for errors (a dataset's first file).
fn input_of(spec: &InputSpec) -> Result<(Input, PathBuf)> {
    Ok(match spec {
        InputSpec::Path(path) => (Input::Ipc(IpcFile::open(path)?), path.clone()),
        InputSpec::File { fd, device, inode, label } => {
            let file = claim_inherited_file(*fd, *device, *inode)?;
            (Input::Ipc(IpcFile::from_file(&file, label)?), label.clone())
        }
        InputSpec::Segment { fd, label } => {
            let segment = Arc::new(SealedSegment::from_inherited_fd(*fd)?);
            (Input::Ipc(IpcFile::from_segment(segment, label)?), label.clone())
        }
        InputSpec::Parquet { fd, device, inode, label } => (parquet_input(*fd, *device, *inode, label)?, label.clone()),
        InputSpec::Npy { fd, device, inode, label, names } => {
            let file = claim_inherited_file(*fd, *device, *inode)?;
            (Input::Npy(NpyFile::from_file(&file, label, Some(names))?), label.clone())
        }
        InputSpec::Many(specs) => {
            let members =
                specs.iter().map(|s| input_of(s).map(|(input, label)| (label, input))).collect::<Result<Vec<_>>>()?;
            let label = members.first().map(|(l, _)| l.clone()).unwrap_or_default();
            (Input::Dataset(Dataset::try_new(members)?), label)
        }
    })
}

#[cfg(feature = "parquet")]
fn parquet_input(fd: i32, device: u64, inode: u64, label: &Path) -> Result<Input> {
    let file = claim_inherited_file(fd, device, inode)?;
    Ok(Input::Parquet(crate::source::parquet::ParquetFile::from_file(&file, label)?))
}

#[cfg(not(feature = "parquet"))]
fn parquet_input(_: i32, _: u64, _: u64, label: &Path) -> Result<Input> {
    Err(Error::new(ErrorKind::Protocol, "this worker was built without Parquet support").with_file(label))
}

/// Opens the same data the parent planned on, and checks that it still is the same shape.
fn open_store(spec: &InputSpec, plan: &Plan) -> Result<Store> {
    let (file, label) = input_of(spec)?;
    if file.num_rows() != plan.num_rows {
        return Err(Error::input(format!(
            "the input changed while tally was reading it: {} rows now, {} when planned",
            file.num_rows(),
            plan.num_rows
        ))
        .with_file(&label));
    }
    let store = file.into_store(&plan.projection())?;
    for (field, column) in store.schema().fields().iter().zip(&plan.columns) {
        if field.data_type().to_string() != column.type_name {
            return Err(Error::input(format!(
                "the input changed while tally was reading it: column type {}",
                field.data_type()
            ))
            .with_column(&column.name));
        }
    }
    Ok(store)
}

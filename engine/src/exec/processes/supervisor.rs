//! The supervisor: starts workers once per session, sends each pass, hands out chunk ids, collects
//! partials, and replaces dead workers (between passes too).
//!
//! One event loop on the calling thread owns all decisions; per worker, one thread reads its stdout
//! frames and one forwards its stderr lines, both feeding the loop through a channel. Scheduling is
//! dynamic: each worker holds at most [`IN_FLIGHT`] chunks (one computing, one queued in its pipe), and
//! every reply pulls the next chunk, preferring the chunks that worker computed in an earlier pass
//! ([`ChunkQueue`]: their pages are mapped in it already). When a worker dies, the chunk it was computing is charged one
//! attempt and every chunk it held goes back to the front of the queue for a fresh worker. Any exit from
//! this module, error or panic included, kills and reaps every worker ([`Pool`]'s `Drop`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::Processes;
use super::chunk_queue::ChunkQueue;
use super::protocol::{ToParent, ToWorker, input_spec, read_frame_with, write_frame};
use super::worker::{PARENT_PID_ENV, VERBOSE_ENV};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::Session;
use crate::exec::memory::MemoryUse;
use crate::exec::{ExecReport, OnPartial};
use crate::plan::{Chunk, Pass, Plan};
use crate::store::Store;

/// Chunks a worker holds at once: one computing, one waiting in its pipe so it never idles.
const IN_FLIGHT: usize = 2;
/// How often the loop wakes to check cancellation and timeouts.
const TICK: Duration = Duration::from_millis(20);
/// The least time a starting worker gets to report ready under `--chunk-timeout`.
const STARTUP_GRACE: Duration = Duration::from_secs(2);
/// Workers that die before doing any work, in a row, before we stop respawning.
const MAX_STARTUP_FAILURES: u32 = 3;

enum Event {
    Frame(usize, ToParent),
    /// The worker's stdout ended (it exited or crashed), or carried a corrupt frame.
    Closed(usize, Option<Error>),
}

struct Worker {
    id: usize,
    child: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    ready: bool,
    in_flight: VecDeque<usize>,
    /// When the chunk at the front of `in_flight` started computing.
    busy_since: Instant,
    timed_out: bool,
    done_any: bool,
}

/// Live workers; killing and reaping them is guaranteed by `Drop`.
struct Pool<'a> {
    exec: &'a Processes,
    plan: &'a Plan,
    store: &'a Store,
    workers: Vec<Worker>,
    spawned: usize,
    events: Sender<Event>,
    /// The pass being run; sent to every worker that starts while it runs.
    pass: Option<Pass>,
    /// Per worker id: time between handing it a chunk and its answer ([`ExecReport::busy`]).
    busy: Vec<Duration>,
    /// Per worker id: its memory use as last reported ([`ExecReport::worker_memory`]).
    memory: Vec<MemoryUse>,
    /// When the session started spawning, and when all of its first workers had reported ready.
    started: Instant,
    all_ready: Option<Instant>,
    target: usize,
    pinned: Vec<(usize, usize)>,
}

impl Drop for Pool<'_> {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.child.kill();
        }
        for w in &mut self.workers {
            let _ = w.child.wait();
        }
    }
}

/// A running pool: the workers, their event channel and the bookkeeping shared by passes.
pub(super) struct ProcessSession<'a> {
    pool: Pool<'a>,
    rx: Receiver<Event>,
    chunks: Vec<Chunk>,
    target: usize,
    startup_failures: u32,
    passes: usize,
    compute: Duration,
    /// Per chunk id: the worker that computed it last (its pages are mapped there).
    owner: Vec<Option<usize>>,
}

pub(super) fn start<'a>(exec: &'a Processes, plan: &'a Plan, store: &'a Store) -> Result<ProcessSession<'a>> {
    let chunks = plan.chunks();
    let owner = vec![None; chunks.len()];
    let (tx, rx) = mpsc::channel();
    let target = exec.workers.min(chunks.len()).max(1);
    let mut pool = Pool {
        exec,
        plan,
        store,
        workers: Vec::new(),
        spawned: 0,
        events: tx,
        pass: None,
        busy: Vec::new(),
        memory: Vec::new(),
        started: Instant::now(),
        all_ready: None,
        target,
        pinned: Vec::new(),
    };
    for _ in 0..target {
        pool.spawn()?;
    }
    Ok(ProcessSession { pool, rx, chunks, target, startup_failures: 0, passes: 0, compute: Duration::ZERO, owner })
}

impl Session for ProcessSession<'_> {
    fn run_pass(&mut self, pass: &Pass, on_partial: OnPartial<'_>) -> Result<()> {
        let start = Instant::now();
        self.pool.plan.check_pass(pass)?;
        self.pool.pass = Some(pass.clone());
        for w in &mut self.pool.workers {
            // A failed write means the worker is dying: its Closed event replaces it.
            if let Some(stdin) = w.stdin.as_mut() {
                let _ = write_frame(stdin, &ToWorker::Pass(pass.clone()));
            }
        }
        let mut state = Schedule {
            pass: pass.id,
            queue: ChunkQueue::new(
                self.chunks.iter().map(|c| c.id),
                &self.owner,
                &self.pool.workers.iter().map(|w| w.id).collect::<Vec<_>>(),
            ),
            owner: std::mem::take(&mut self.owner),
            attempts: vec![0; self.chunks.len()],
            remaining: self.chunks.len(),
            startup_failures: self.startup_failures,
            target: self.target,
        };
        for id in self.pool.workers.iter().map(|w| w.id).collect::<Vec<_>>() {
            state.feed(&mut self.pool, id, &self.chunks);
        }
        let outcome = state.drive(&mut self.pool, &self.rx, &self.chunks, on_partial);
        self.owner = std::mem::take(&mut state.owner);
        self.startup_failures = state.startup_failures;
        self.passes += 1;
        // The first pass also waits for the workers to become ready: that part is `spawn`.
        let computing_since = self.pool.all_ready.map_or(start, |ready| ready.max(start));
        self.compute += computing_since.elapsed();
        outcome
    }

    fn close(mut self: Box<Self>) -> ExecReport {
        // Graceful: close stdins and reap. On errors the session is dropped instead, and Pool's Drop kills.
        self.pool.shut_down();
        self.report()
    }

    fn report(&self) -> ExecReport {
        ExecReport {
            chunks: self.chunks.len(),
            passes: self.passes,
            workers: self.target,
            spawned: self.pool.spawned,
            elapsed: self.pool.started.elapsed(),
            spawn: self.pool.all_ready.map_or(Duration::ZERO, |ready| ready - self.pool.started),
            compute: self.compute,
            busy: self.pool.busy.clone(),
            worker_memory: self.pool.memory.clone(),
            pinned: self.pool.pinned.clone(),
            ..ExecReport::default()
        }
    }
}

struct Schedule {
    pass: u32,
    queue: ChunkQueue,
    /// Per chunk id: the worker that computed it last, updated as partials arrive.
    owner: Vec<Option<usize>>,
    attempts: Vec<u32>,
    remaining: usize,
    startup_failures: u32,
    target: usize,
}

impl Schedule {
    fn drive(
        &mut self,
        pool: &mut Pool<'_>,
        rx: &Receiver<Event>,
        chunks: &[Chunk],
        on_partial: OnPartial<'_>,
    ) -> Result<()> {
        while self.remaining > 0 {
            pool.exec.cancel.check()?;
            match rx.recv_timeout(TICK) {
                Ok(Event::Frame(id, message)) => self.on_frame(pool, id, message, chunks, on_partial)?,
                Ok(Event::Closed(id, error)) => self.on_death(pool, id, error, chunks)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(Error::internal("worker event channel closed")),
            }
            pool.kill_overdue();
        }
        Ok(())
    }

    fn on_frame(
        &mut self,
        pool: &mut Pool<'_>,
        id: usize,
        message: ToParent,
        chunks: &[Chunk],
        on_partial: OnPartial<'_>,
    ) -> Result<()> {
        let Some(w) = pool.find(id) else { return Ok(()) };
        match message {
            ToParent::Ready { pid } => {
                w.pid = pid;
                w.ready = true;
                w.busy_since = Instant::now();
                if pool.all_ready.is_none() && pool.workers.iter().filter(|w| w.ready).count() >= pool.target {
                    pool.all_ready = Some(Instant::now());
                }
            }
            ToParent::Done { pass, chunk, partial, memory } => {
                if pass != self.pass || w.in_flight.front() != Some(&chunk) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("worker {id} answered chunk {chunk} of pass {pass} out of turn"),
                    ));
                }
                w.in_flight.pop_front();
                let now = Instant::now();
                let computed = now - w.busy_since;
                w.busy_since = now;
                w.done_any = true;
                if let Some(busy) = pool.busy.get_mut(id) {
                    *busy += computed;
                }
                if let Some(peak) = pool.memory.get_mut(id) {
                    *peak = peak.max(memory);
                }
                self.startup_failures = 0;
                self.remaining -= 1;
                if let Some(owner) = self.owner.get_mut(chunk) {
                    *owner = Some(id);
                }
                on_partial(chunk, partial)?;
            }
            ToParent::Failed { message, input_error } => {
                let kind = if input_error { ErrorKind::Input } else { ErrorKind::Worker };
                let mut e = Error::new(kind, message).with_worker(describe_worker(w));
                if let Some(&c) = w.in_flight.front() {
                    e = e.with_chunk(c, chunks[c].rows.clone());
                }
                return Err(e);
            }
        }
        self.feed(pool, id, chunks);
        Ok(())
    }

    /// Tops up a ready worker with queued chunks.
    fn feed(&mut self, pool: &mut Pool<'_>, id: usize, chunks: &[Chunk]) {
        let Some(w) = pool.find(id) else { return };
        if !w.ready {
            return;
        }
        while w.in_flight.len() < IN_FLIGHT {
            let Some(next) = self.queue.next_for(id) else { break };
            let Some(stdin) = w.stdin.as_mut() else { break };
            if w.in_flight.is_empty() {
                w.busy_since = Instant::now();
            }
            w.in_flight.push_back(next);
            // A failed write means the worker is dying: its Closed event requeues the chunk.
            if write_frame(stdin, &ToWorker::Task { pass: self.pass, chunk: chunks[next].clone() }).is_err() {
                break;
            }
        }
    }

    fn on_death(&mut self, pool: &mut Pool<'_>, id: usize, error: Option<Error>, chunks: &[Chunk]) -> Result<()> {
        let Some(index) = pool.workers.iter().position(|w| w.id == id) else { return Ok(()) };
        let mut w = pool.workers.swap_remove(index);
        let _ = w.child.kill();
        let status = w.child.wait().map_err(|e| Error::io("cannot reap a worker", e))?;
        let computing = w.in_flight.front().copied();
        let how = match (w.timed_out, w.ready) {
            (true, true) => format!(
                "was killed after exceeding --chunk-timeout of {}",
                seconds(pool.exec.chunk_timeout.unwrap_or_default())
            ),
            (true, false) => format!(
                "was killed: it did not become ready within {} (the --chunk-timeout, at least {})",
                seconds(pool.exec.chunk_timeout.unwrap_or_default().max(STARTUP_GRACE)),
                seconds(STARTUP_GRACE)
            ),
            (false, _) => exit_description(status, error.as_ref()),
        };
        let doing = match computing {
            Some(c) => format!(" while computing chunk {c} (rows {}..{})", chunks[c].rows.start, chunks[c].rows.end),
            None if !w.ready => " before it was ready".to_string(),
            None => String::new(),
        };
        tracing::warn!("{} {how}{doing}; its chunks go to another worker", describe_worker(&w));
        if let Some(blamed) = computing {
            // A death while computing is charged to that chunk: a poisonous chunk fails the run by name.
            self.attempts[blamed] += 1;
            if self.attempts[blamed] >= pool.exec.max_attempts {
                return Err(Error::new(
                    ErrorKind::Worker,
                    format!("chunk failed {} times; the last worker {how}", self.attempts[blamed]),
                )
                .with_file(pool.store.path())
                .with_chunk(blamed, chunks[blamed].rows.clone())
                .with_worker(describe_worker(&w)));
            }
        } else if !w.done_any {
            // Dying before any work points at the binary or the environment, not at a chunk.
            self.startup_failures += 1;
            if self.startup_failures >= MAX_STARTUP_FAILURES {
                return Err(Error::new(
                    ErrorKind::Worker,
                    format!(
                        "{} workers in a row died before computing a chunk; the last one {how}",
                        self.startup_failures
                    ),
                )
                .with_file(pool.store.path())
                .with_worker(describe_worker(&w)));
            }
        }
        self.queue.forget(id);
        for &c in w.in_flight.iter().rev() {
            self.queue.requeue(c);
        }
        if pool.workers.len() < self.target && !self.queue.is_empty() {
            pool.spawn()?;
        }
        // Survivors may have room for the requeued chunks.
        let ids: Vec<usize> = pool.workers.iter().map(|w| w.id).collect();
        for id in ids {
            self.feed(pool, id, chunks);
        }
        Ok(())
    }
}

impl Pool<'_> {
    fn find(&mut self, id: usize) -> Option<&mut Worker> {
        self.workers.iter_mut().find(|w| w.id == id)
    }

    /// Starts worker number `self.spawned` and sends it its Hello.
    fn spawn(&mut self) -> Result<()> {
        let id = self.spawned;
        self.spawned += 1;
        let cmd = &self.exec.command;
        let mut command = Command::new(&cmd.program);
        command
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .env(PARENT_PID_ENV, std::process::id().to_string())
            .env(VERBOSE_ENV, verbosity())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a terminal's Ctrl-C reaches only the parent, which shuts workers down.
            .process_group(0);
        // The segment's inheritable descriptor must live until the child has started, and no longer.
        let (input, _inherited) = input_spec(self.store.origin(), self.store.path())?;
        let mut child = command.spawn().map_err(|e| {
            Error::new(ErrorKind::Worker, format!("cannot start worker process {}: {e}", cmd.program.display()))
        })?;
        drop(_inherited);
        let pid = child.id();
        self.busy.push(Duration::ZERO);
        self.memory.push(MemoryUse::default());
        if let Some(cpu) = crate::exec::pin::cpu_for(&self.exec.pin, id) {
            // Before the worker has mapped anything: it starts computing on its own core.
            match crate::exec::pin::pin(Some(pid), cpu) {
                Ok(()) => self.pinned.push((id, cpu)),
                Err(e) => tracing::warn!("worker {id} (pid {pid}): {e}"),
            }
        }
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let mut stdin = child.stdin.take();
        let hello = ToWorker::Hello { worker: id, input, plan: self.plan.clone() };
        if let Some(s) = stdin.as_mut() {
            // If this fails the worker is already dead; its reader thread reports it.
            let _ = write_frame(s, &hello);
            if let Some(pass) = &self.pass {
                let _ = write_frame(s, &ToWorker::Pass(pass.clone()));
            }
        }
        let events = self.events.clone();
        if let Some(mut out) = stdout {
            std::thread::Builder::new()
                .name(format!("tally-worker-{id}-frames"))
                .spawn(move || read_frames(id, &mut out, &events))
                .map_err(|e| Error::io("cannot start a reader thread", e))?;
        }
        if let Some(err) = stderr {
            std::thread::Builder::new()
                .name(format!("tally-worker-{id}-log"))
                .spawn(move || forward_log(id, pid, err))
                .map_err(|e| Error::io("cannot start a log thread", e))?;
        }
        let now = Instant::now();
        self.workers.push(Worker {
            id,
            child,
            stdin,
            pid,
            ready: false,
            in_flight: VecDeque::new(),
            busy_since: now,
            timed_out: false,
            done_any: false,
        });
        Ok(())
    }

    /// Kills workers stuck on one chunk past the timeout; their Closed event does the rest.
    fn kill_overdue(&mut self) {
        let Some(limit) = self.exec.chunk_timeout else { return };
        for w in &mut self.workers {
            // `busy_since` is the spawn time until the worker is ready: a hang at start-up times out too,
            // but starting (exec, map, validate) gets at least STARTUP_GRACE, so a timeout meant for
            // chunks never kills every worker before its first chunk.
            let allowed = if w.ready { limit } else { limit.max(STARTUP_GRACE) };
            let busy = !w.in_flight.is_empty() || !w.ready;
            if !w.timed_out && busy && w.busy_since.elapsed() > allowed {
                w.timed_out = true;
                let _ = w.child.kill();
            }
        }
    }

    /// Closes every worker's stdin (their signal to exit) and reaps them, killing any that linger.
    fn shut_down(&mut self) {
        for w in &mut self.workers {
            w.stdin = None;
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for w in &mut self.workers {
            while Instant::now() < deadline {
                match w.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        }
        // Drop kills whatever is left and reaps everyone.
    }
}

fn read_frames(id: usize, out: &mut impl std::io::Read, events: &Sender<Event>) {
    let mut out = BufReader::with_capacity(1 << 16, out);
    let mut body = Vec::new();
    loop {
        match read_frame_with::<ToParent>(&mut out, &mut body) {
            Ok(Some(message)) => {
                if events.send(Event::Frame(id, message)).is_err() {
                    return;
                }
            }
            Ok(None) => return drop(events.send(Event::Closed(id, None))),
            Err(e) => return drop(events.send(Event::Closed(id, Some(e)))),
        }
    }
}

/// Copies a worker's stderr to ours, one prefixed line at a time.
fn forward_log(id: usize, pid: u32, err: impl std::io::Read) {
    for line in BufReader::new(err).lines() {
        match line {
            Ok(line) => eprintln!("tally: worker {id} (pid {pid}): {line}"),
            Err(_) => return,
        }
    }
}

fn describe_worker(w: &Worker) -> String {
    format!("worker {} (pid {})", w.id, w.pid)
}

/// "exited with status 3", "was killed by signal 9 (SIGKILL)". A broken last frame is only mentioned when
/// the process itself did not fail: a worker that crashed mid-write leaves a cut frame as a consequence.
fn exit_description(status: ExitStatus, error: Option<&Error>) -> String {
    let mut text = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig} ({})", signal_name(sig)),
        _ => format!("ended with {status}"),
    };
    if let (Some(e), true) = (error, status.success()) {
        text.push_str(&format!(" after sending a broken frame ({e})"));
    }
    text
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The worker log level matching ours: 2 at TRACE (`-vv`, per-chunk lines), 1 at DEBUG (`-v`), else 0.
fn verbosity() -> &'static str {
    if tracing::enabled!(tracing::Level::TRACE) {
        "2"
    } else if tracing::enabled!(tracing::Level::DEBUG) {
        "1"
    } else {
        "0"
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    }
}

//! The one error type of the engine.
//!
//! Errors happen at the edges (opening and decoding input, talking to workers, writing output); kernels
//! get validated typed slices and cannot fail. Every error carries a [`ErrorKind`] so callers (the CLI's
//! exit codes, the process supervisor's retry logic) can decide without parsing messages, and a
//! [`Context`] naming where it happened: the file, column, batch, byte offset, chunk, rows and worker.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What went wrong, coarsely: decides exit codes and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is missing, unreadable, malformed or unsupported, or an option names something absent.
    Input,
    /// A worker process died, hung or reported a failure.
    Worker,
    /// An operating-system call failed on something that is not the input (output file, pipes, memfd).
    Io,
    /// A peer sent a frame we cannot decode (version skew, truncated message).
    Protocol,
    /// The run was interrupted (Ctrl-C, SIGTERM).
    Cancelled,
    /// A broken invariant inside tally: a bug, please report it.
    Internal,
}

/// Where an error happened. Every field is optional; the message prints those that are set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    pub file: Option<PathBuf>,
    pub column: Option<String>,
    pub batch: Option<usize>,
    pub byte_offset: Option<u64>,
    pub chunk: Option<usize>,
    pub rows: Option<Range<u64>>,
    pub worker: Option<String>,
}

/// The engine's error: a kind, a one-line message and its context.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    context: Box<Context>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message and no context yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), context: Box::default(), source: None }
    }

    /// An input error: the file or an option is at fault.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message)
    }

    /// A bug in tally.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An I/O failure on something other than the input.
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, message).with_source(source)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn with_file(mut self, path: &Path) -> Self {
        self.context.file.get_or_insert_with(|| path.to_path_buf());
        self
    }

    pub fn with_column(mut self, name: &str) -> Self {
        self.context.column.get_or_insert_with(|| name.to_string());
        self
    }

    pub fn with_batch(mut self, batch: usize) -> Self {
        self.context.batch.get_or_insert(batch);
        self
    }

    pub fn with_byte_offset(mut self, offset: u64) -> Self {
        self.context.byte_offset.get_or_insert(offset);
        self
    }

    pub fn with_chunk(mut self, chunk: usize, rows: Range<u64>) -> Self {
        self.context.chunk.get_or_insert(chunk);
        self.context.rows.get_or_insert(rows);
        self
    }

    pub fn with_worker(mut self, worker: impl Into<String>) -> Self {
        self.context.worker.get_or_insert_with(|| worker.into());
        self
    }
}

impl fmt::Display for Error {
    /// `file: column "x": batch 3: byte offset 1024: chunk 7 (rows 0..100): worker 2 (pid 17): message`,
    /// one line, so scripts can grep it and people can read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &*self.context;
        if let Some(file) = &c.file {
            write!(f, "{}: ", file.display())?;
        }
        if let Some(column) = &c.column {
            write!(f, "column {column:?}: ")?;
        }
        if let Some(batch) = c.batch {
            write!(f, "record batch {batch}: ")?;
        }
        if let Some(offset) = c.byte_offset {
            write!(f, "byte offset {offset}: ")?;
        }
        if let Some(chunk) = c.chunk {
            write!(f, "chunk {chunk}")?;
            if let Some(rows) = &c.rows {
                write!(f, " (rows {}..{})", rows.start, rows.end)?;
            }
            write!(f, ": ")?;
        }
        if let Some(worker) = &c.worker {
            write!(f, "{worker}: ")?;
        }
        if self.kind == ErrorKind::Internal {
            write!(f, "internal error (a bug in tally, please report it): ")?;
        }
        f.write_str(&self.message)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_every_context_field_in_order() {
        let e = Error::input("truncated footer")
            .with_file(Path::new("data.arrow"))
            .with_column("a")
            .with_batch(3)
            .with_byte_offset(1024)
            .with_chunk(7, 0..100)
            .with_worker("worker 2 (pid 17)");
        assert_eq!(
            e.to_string(),
            "data.arrow: column \"a\": record batch 3: byte offset 1024: chunk 7 (rows 0..100): \
             worker 2 (pid 17): truncated footer"
        );
    }

    #[test]
    fn first_context_wins() {
        let e = Error::input("x").with_column("inner").with_column("outer");
        assert_eq!(e.context().column.as_deref(), Some("inner"));
        assert_eq!(Error::internal("oops").to_string(), "internal error (a bug in tally, please report it): oops");
    }
}

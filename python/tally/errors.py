"""Exceptions raised by tally: one class per kind of failure, each carrying the engine's context.

Every exception is a :class:`TallyError`. Its attributes say where the failure happened, as far as the
engine knows (``None`` otherwise): ``file``, ``column``, ``batch`` (record batch), ``byte_offset``, ``chunk``,
``rows`` (``(start, end)`` of the chunk), ``worker``, and ``reason`` (the message without the context).
"""

from __future__ import annotations


class TallyError(Exception):
    """A tally run failed; ``str(e)`` is the message ``tally`` would print."""

    kind = "other"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        batch: int | None = None,
        byte_offset: int | None = None,
        chunk: int | None = None,
        rows: tuple[int, int] | None = None,
        worker: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.column = column
        self.batch = batch
        self.byte_offset = byte_offset
        self.chunk = chunk
        self.rows = rows
        self.worker = worker
        self.reason = reason if reason is not None else message


class UsageError(TallyError, ValueError):
    """The arguments are wrong: an unknown flag, a bad value, a missing file argument (``tally`` exit 2)."""

    kind = "usage"


class InputError(TallyError):
    """The input is missing, unreadable, malformed or unsupported, or an option names something absent."""

    kind = "input"


class WorkerError(TallyError):
    """A worker process died, hung or reported a failure (after the retries the executor allows)."""

    kind = "worker"


class TallyIOError(TallyError):
    """An operating-system call failed on something that is not the input (output file, pipes, memfd)."""

    kind = "io"


class ProtocolError(TallyError):
    """A worker sent a frame that cannot be decoded: usually a ``tally`` binary of another version."""

    kind = "protocol"


class Cancelled(TallyError):
    """The run was stopped by a signal other than the Ctrl-C that raises ``KeyboardInterrupt``."""

    kind = "cancelled"


class InternalError(TallyError):
    """A broken invariant inside tally: a bug, please report it."""

    kind = "internal"


_BY_KIND = {
    cls.kind: cls
    for cls in (UsageError, InputError, WorkerError, TallyIOError, ProtocolError, Cancelled, InternalError)
}


def from_native(kind: str, message: str, **context: object) -> TallyError:
    """The exception for a failure reported by ``tally._native`` (used by the extension module)."""
    return _BY_KIND.get(kind, TallyError)(message, **context)  # type: ignore[arg-type]

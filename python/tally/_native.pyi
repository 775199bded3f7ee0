"""Type stubs of the Rust extension ``tally._native`` (python/src/)."""

from typing import Any

STATE_FORMAT_VERSION: int

def invoke(args: list[str], worker: list[str] | None, missing_worker: str) -> bytes:
    """Runs a ``tally`` command line (without the program name) in-process, GIL released, and returns its
    standard output; raises ``tally.errors`` exceptions, or ``KeyboardInterrupt`` after a clean cancel.
    ``worker`` is the command line of one worker process (``None``: ``missing_worker`` says why)."""

def worker_main() -> None:
    """Serves a parent run as one worker process over stdin/stdout, then exits the process."""

def arrow_result(ipc: bytes) -> ArrowResult:
    """Decodes the Arrow IPC file printed by ``--format arrow``."""

def commands() -> list[tuple[str, str]]:
    """The subcommands of this build, with their one-line help."""

class ArrowResult:
    """A result table that any Arrow PyCapsule consumer takes without copying."""

    @property
    def num_rows(self) -> int: ...
    def __arrow_c_stream__(self, requested_schema: Any | None = None) -> Any: ...
    def buffer_addresses(self) -> list[list[list[int]]]:
        """Value-buffer addresses per batch and column (validity bitmaps excluded)."""

"""The one generic call: keyword arguments → ``tally`` flags → the CLI's parser and runner, in-process.

Nothing here knows what a subcommand does: the named functions in ``tally/__init__.py`` are thin wrappers
over :func:`run`, and a subcommand without a wrapper is still callable as ``tally.run("name", ...)`` or
``tally.name(...)``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from . import _native
from .errors import UsageError

#: ``format=`` values that are not ``tally --format`` values: the Arrow result handed to another library.
_ARROW_CONSUMERS = ("arrow", "polars", "capsule")


def worker_binary() -> tuple[str | None, str]:
    """The ``tally`` binary that ``executor="processes"`` starts workers from, and where it was looked for.

    In order: ``$TALLY_BIN``; ``tally/_bin/tally`` inside this package (wheels built by ``.ci/python``
    bundle it there); ``PATH``. ``(None, why)`` when there is none (or ``$TALLY_BIN`` is not one).
    """
    from_env = os.environ.get("TALLY_BIN")
    if from_env:
        if os.access(from_env, os.X_OK) and os.path.isfile(from_env):
            return from_env, ""
        return None, f"TALLY_BIN={from_env} is not an executable file"
    bundled = Path(__file__).parent / "_bin" / "tally"
    if os.access(bundled, os.X_OK) and bundled.is_file():
        return str(bundled), ""
    on_path = shutil.which("tally")
    if on_path:
        return on_path, ""
    return None, f"no `tally` binary (looked at $TALLY_BIN, {bundled} and PATH)"


def worker_command() -> tuple[list[str] | None, str]:
    """The command line that starts one worker process of ``executor="processes"``, or why there is none.

    A ``tally`` binary (:func:`worker_binary`) with its hidden ``__worker`` subcommand when there is one
    (it starts fastest); otherwise this very interpreter running ``-m tally._worker``, whose extension serves
    the same worker protocol, so a plain ``pip install`` needs no binary. Only an explicit ``$TALLY_BIN``
    that is not an executable is an error: it names a binary the user meant to be used.
    """
    binary, missing = worker_binary()
    if binary is not None:
        return [binary, "__worker"], ""
    if os.environ.get("TALLY_BIN"):
        return None, missing
    return [sys.executable, "-m", "tally._worker"], ""


def _flag_value(name: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_flag_value(name, v) for v in value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same double
    if isinstance(value, (str, int, os.PathLike)):
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    raise UsageError(f"{name}={value!r}: expected a string, number, path or a list of them")


def arguments(command: str, positional: tuple[Any, ...], flags: dict[str, Any]) -> list[str]:
    """The ``tally`` command line (without the program name) for a call: ``name=value`` → ``--name value``
    (``_`` → ``-``), ``True`` → ``--name``, ``False``/``None`` → nothing, lists → comma-separated."""
    argv = [command]
    for value in positional:
        argv.append(_flag_value(command, value))
    for name, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        else:
            # `--name=value`, so values that start with `-` are never taken for flags.
            argv.append(f"{flag}={_flag_value(name, value)}")
    return argv


def run(command: str, *positional: Any, format: str | None = "json", **flags: Any) -> Any:
    """Runs ``tally COMMAND POSITIONAL... --FLAG VALUE...`` in-process and returns its result.

    ``format="json"`` (the default) returns the JSON output as dicts and lists, ``"csv"`` and ``"table"``
    the text, ``"arrow"`` a ``pyarrow.Table``, ``"polars"`` a ``polars.DataFrame``, ``"capsule"`` an object
    with ``__arrow_c_stream__`` for any Arrow consumer; ``None`` passes no ``--format`` (for subcommands
    without one) and returns the text printed, or ``None`` when nothing was. With ``output=`` the result is
    written to that file, as by the CLI, and ``None`` returned.

    The GIL is released while the run lasts; Ctrl-C stops it (its workers are gone when
    ``KeyboardInterrupt`` is raised). Failures raise :class:`tally.TallyError` subclasses.
    """
    cli_format = "arrow" if format in _ARROW_CONSUMERS else format
    if cli_format is not None:
        flags = {**flags, "format": cli_format}
    argv = arguments(command, positional, flags)
    worker, missing = worker_command()
    stdout = _native.invoke(argv, worker, missing)
    if flags.get("output") is not None:
        return None
    if format == "json":
        return json.loads(stdout)
    if format in _ARROW_CONSUMERS:
        result = _native.arrow_result(stdout)
        if format == "capsule":
            return result
        if format == "polars":
            import polars

            return polars.DataFrame(result)
        import pyarrow

        return pyarrow.table(result)
    text = stdout.decode()
    return text if text or format is not None else None

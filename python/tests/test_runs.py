"""How runs behave inside a Python process: the GIL is released, and Ctrl-C stops a run cleanly."""

from __future__ import annotations

import _thread
import os
import threading
import time
from pathlib import Path

import pytest

import tally


def children() -> list[int]:
    """The live child processes of this process (from /proc), zombies included."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesised command: state, ppid, ...
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("big") / "big.arrow"
    tally.gen(path, rows=3_000_000, seed=5)
    return str(path)


def slow_describe(path: str) -> dict:
    # 16-row chunks and exact sums: 190,000 round trips to the workers, seconds on any machine.
    return tally.describe(path, exact=True, chunk_rows=16, workers=2, executor="processes")


def test_ctrl_c_stops_the_run_and_leaves_no_worker(big_file: str) -> None:
    assert children() == []
    fired = threading.Event()
    workers_seen: list[int] = []

    def interrupt() -> None:
        # Interrupt once the workers run, so the test shows they are stopped, not merely never started.
        while not workers_seen:
            workers_seen.extend(children())
            time.sleep(0.01)
        time.sleep(0.2)
        fired.set()
        fired.at = time.monotonic()  # type: ignore[attr-defined]
        _thread.interrupt_main()  # what Ctrl-C does to the main thread

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        slow_describe(big_file)
        pytest.fail("the run finished before the interrupt; make it longer")
    stopped = time.monotonic() - fired.at  # type: ignore[attr-defined]
    assert fired.is_set() and len(workers_seen) >= 1
    assert stopped < 2.0, f"stopping took {stopped:.2f} s"
    assert children() == [], "every worker is reaped before KeyboardInterrupt is raised"
    # The next run starts afresh.
    assert tally.describe(big_file, columns=["k1"], executor="threads")["rows"] == 3_000_000


def test_the_gil_is_released_during_a_run(big_file: str) -> None:
    result: dict = {}
    # Chunks of 2,000 rows: 1,500 round trips to the workers keep the run going for tens of milliseconds
    # whatever the kernels' speed (one chunk per worker finished in under 5 ms once describe got faster).
    run = lambda: result.update(tally.describe(big_file, columns=["a"], workers=2, chunk_rows=2000))  # noqa: E731
    worker = threading.Thread(target=run)
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert result["rows"] == 3_000_000
    assert ticks > 5, "Python code ran while the run was going"


def test_without_a_binary_the_interpreter_runs_the_workers(gen_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain `pip install` has no `tally` binary: the workers are this interpreter running the extension.
    monkeypatch.delenv("TALLY_BIN", raising=False)
    monkeypatch.setattr(tally._run, "worker_binary", lambda: (None, "no binary in this test"))
    command, _ = tally.worker_command()
    assert command is not None and command[1:] == ["-m", "tally._worker"]
    by_interpreter = tally.describe(gen_file, executor="processes", workers=2, chunk_rows=3000)
    by_threads = tally.describe(gen_file, executor="threads", workers=2, chunk_rows=3000)
    assert by_interpreter == by_threads
    # The command is really what starts the workers: a missing interpreter is a worker error.
    monkeypatch.setattr(tally._run.sys, "executable", "/nonexistent/python3")
    with pytest.raises(tally.WorkerError, match="nonexistent"):
        tally.describe(gen_file, executor="processes", workers=2)

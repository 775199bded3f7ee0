"""Executes every notebook in notebooks/ headless (nbclient) and fails on any failed cell or assertion.
Also refuses notebooks committed with outputs: they are committed clean, outputs live only in this run."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

here = Path(__file__).resolve().parents[1] / "notebooks"
failed = []
for path in sorted(here.glob("*.ipynb")):
    book = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(book.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    if dirty:
        failed.append(f"{path.name}: committed with outputs in cells {dirty}")
        continue
    start = time.monotonic()
    try:
        NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(here)}}).execute()
    except Exception as e:  # CellExecutionError carries the cell's traceback
        failed.append(f"{path.name}: {e}")
        continue
    print(f"{path.name}: {len(book.cells)} cells ok in {time.monotonic() - start:.1f} s")
for f in failed:
    print(f, file=sys.stderr)
print(f"{len(list(here.glob('*.ipynb'))) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)

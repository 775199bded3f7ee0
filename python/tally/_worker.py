"""A worker process of ``executor="processes"``, started as ``python -m tally._worker`` when no ``tally``
binary is around (a plain ``pip install ./python``): the extension serves the parent run over stdin and
stdout exactly as ``tally __worker`` does, then ends this process. Not for calling by hand."""

from tally import _native

if __name__ == "__main__":
    _native.worker_main()

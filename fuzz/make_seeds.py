"""Writes small valid inputs of every fuzzed format into corpus/<target>/, the seeds of a fuzz run.

Run with a Python that has pyarrow and numpy: `python make_seeds.py` (from this directory). The seeds cover
the types and layouts the engine reads: several batches, nulls, dictionaries (also delta dictionaries in
streams), decimals, temporal types, strings, structs, compressed bodies, Parquet codecs and row groups,
CSV dialects, and .npy dtypes and orders.
"""

import datetime as dt
import decimal
import io
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))


def table(n=12):
    st = pa.StructArray.from_arrays(
        [pa.array([i if i % 3 else None for i in range(n)]), pa.array([f"y{i % 2}" for i in range(n)])],
        names=["x", "y"],
        mask=pa.array([i % 5 == 4 for i in range(n)]),
    )
    return pa.table(
        {
            "i": pa.array([i * 7 - 20 if i % 4 else None for i in range(n)], pa.int64()),
            "f": pa.array([i / 3 if i % 5 else float("nan") for i in range(n)]),
            "h": pa.array(np.arange(n, dtype=np.float16)),
            "s": pa.array([f"s{i}" if i % 3 else None for i in range(n)]),
            "d": pa.array([f"k{i % 3}" for i in range(n)]).dictionary_encode(),
            "dec": pa.array([decimal.Decimal(i) / 4 for i in range(n)], pa.decimal128(10, 2)),
            "ts": pa.array([dt.datetime(2020, 1, 1) + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("ms", "UTC")),
            "date": pa.array([dt.date(2000, 1, 1) + dt.timedelta(days=i * 40) for i in range(n)]),
            "dur": pa.array([i * 1000 for i in range(n)], pa.duration("us")),
            "b": pa.array([i % 2 == 0 for i in range(n)]),
            "st": st,
            "l": pa.array([[i, i + 1] for i in range(n)]),
        }
    )


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ipc_bytes(t, stream, compression=None, batch=5):
    sink = io.BytesIO()
    options = ipc.IpcWriteOptions(compression=compression, emit_dictionary_deltas=True)
    new = ipc.new_stream if stream else ipc.new_file
    with new(sink, t.schema, options=options) as w:
        for b in t.to_batches(max_chunksize=batch):
            w.write_batch(b)
    return sink.getvalue()


t = table()
numeric = t.select(["i", "f"])
for name, tt in [("all", t), ("numeric", numeric)]:
    write("ipc_file", f"{name}.arrow", ipc_bytes(tt, False))
    write("ipc_file", f"{name}_zstd.arrow", ipc_bytes(tt, False, "zstd"))
    write("ipc_stream", f"{name}.arrows", ipc_bytes(tt, True))
    write("ipc_stream", f"{name}_lz4.arrows", ipc_bytes(tt, True, "lz4"))
# A stream whose dictionary grows batch by batch (delta dictionaries).
growing = pa.table({"d": pa.array([f"v{i}" for i in range(9)]).dictionary_encode()})
sink = io.BytesIO()
with ipc.new_stream(sink, growing.schema, options=ipc.IpcWriteOptions(emit_dictionary_deltas=True)) as w:
    for k in range(3):
        w.write_batch(pa.record_batch([pa.array([f"v{i}" for i in range(3 * k + 3)]).dictionary_encode()], names=["d"]))
write("ipc_stream", "delta.arrows", sink.getvalue())

for codec in ["snappy", "zstd", "gzip", "none"]:
    sink = io.BytesIO()
    pq.write_table(t, sink, compression=codec, row_group_size=5)
    write("parquet", f"all_{codec}.parquet", sink.getvalue())
sink = io.BytesIO()
pq.write_table(numeric, sink, row_group_size=4, use_dictionary=False, data_page_version="2.0")
write("parquet", "numeric_v2.parquet", sink.getvalue())

flat = t.select(["i", "f", "s", "dec", "date", "b"])
sink = io.BytesIO()
pcsv.write_csv(flat, sink)
write("csv", "all.csv", sink.getvalue())
write("csv", "semicolon.csv", b'a;b;c\n1;2.5;"x;y"\nNA;-3;"multi\nline"\n4;;z\n')
write("csv", "noheader.csv", b"1,2,3\n4,5,6\n")

for name, arr in [
    ("f64.npy", np.arange(10, dtype="<f8")),
    ("i32_2d.npy", np.arange(12, dtype="<i4").reshape(4, 3)),
    ("u8_fortran.npy", np.asfortranarray(np.arange(12, dtype="u1").reshape(3, 4))),
    ("f32_c.npy", np.arange(6, dtype="<f4").reshape(2, 3)),
]:
    sink = io.BytesIO()
    np.save(sink, arr)
    write("npy", name, sink.getvalue())

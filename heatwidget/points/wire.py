"""The canonical table ⇄ Arrow IPC stream bytes, the payload of the ``_points`` trait.

Uncompressed IPC stream, one or more record batches, columns ``lon`` float64, ``lat`` float64
and optionally ``weight`` float32 and ``time`` float64 (docs/architecture.md, "Wire format").
The encoder is picked in one place, :func:`_encoder`: pyarrow when installed, else arro3
(``arro3-core`` + ``arro3-io``, which publish Pyodide wheels). Both write the same stream;
tests check they decode to one table. Neither needs numpy.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from . import deps
from .columns import default_ops
from .schema import COLUMN_TYPES, PointColumns, arro3_table, build

__all__ = ["decode", "encode"]

_ORDERS = (
    ["lon", "lat"],
    ["lon", "lat", "weight"],
    ["lon", "lat", "time"],
    ["lon", "lat", "weight", "time"],
)
_ARROW_NAMES = {"float64": ("double", "Float64"), "float32": ("float", "Float32")}


def _type_name(t: Any) -> str:
    """'float64'/'float32' for the Arrow type of a pyarrow or arro3 field, else its str."""
    text = str(t).split("<")[-1].rstrip(">").strip()
    for name, spellings in _ARROW_NAMES.items():
        if text in spellings:
            return name
    return text


def _check(table: Any) -> None:
    names = list(table.column_names)
    if names not in _ORDERS:
        raise ValueError(f"not a canonical table: columns {names}, want lon, lat[, weight][, time]")
    if isinstance(table, PointColumns):
        return  # its constructor checked the types
    for name, field in zip(names, table.schema, strict=True):
        if _type_name(field.type) != COLUMN_TYPES[name]:
            raise ValueError(f"column {name!r} is {field.type}, want {COLUMN_TYPES[name]}")


def _encode_pyarrow(table: Any) -> bytes:
    pa = deps.require("pyarrow", "encoding points with pyarrow")
    if isinstance(table, PointColumns):
        table = build(table.columns)
    elif not isinstance(table, pa.Table):
        table = pa.table(table)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=None)
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _encode_arro3(table: Any) -> bytes:
    aio = deps.require("arro3.io", "encoding points without pyarrow")
    sink = io.BytesIO()
    # arro3 compresses with LZ4 by default; the front end reads uncompressed streams only.
    aio.write_ipc_stream(arro3_table(table), sink, compression=None)
    return sink.getvalue()


def _encoder() -> Callable[[Any], bytes]:
    """The IPC stream encoder to use (the one place that chooses an Arrow library)."""
    return _encode_pyarrow if deps.pyarrow() is not None else _encode_arro3


def encode(table: Any) -> bytes:
    """A canonical table → Arrow IPC stream bytes (no compression)."""
    _check(table)
    return _encoder()(table)


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Arrow IPC stream bytes → a pyarrow Table (a PointColumns without pyarrow, of numpy
    columns, or of ``array.array`` ones without numpy)."""
    pa = deps.pyarrow()
    if pa is not None:
        with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
            return reader.read_all()
    aio = deps.require("arro3.io", "decoding points without pyarrow")
    ac = deps.require("arro3.core", "decoding points without pyarrow")
    table = ac.Table.from_arrow(aio.read_ipc_stream(io.BytesIO(bytes(data))))
    ops = default_ops()
    columns: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name)
        kind = COLUMN_TYPES.get(name, "float64")
        empty = col.num_chunks == 0  # arro3 cannot export a column of no chunks
        columns[name] = ops.full(0, 0.0, kind) if empty else ops.column(col, kind)
    return PointColumns(columns)

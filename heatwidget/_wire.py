"""The canonical table ⇄ Arrow IPC stream bytes, the payload of the ``_points`` trait.

Uncompressed IPC stream, one or more record batches, columns ``lon`` float64, ``lat`` float64
and optionally ``weight`` float32 (docs/architecture.md, "Wire format"). The encoder is picked
in one place, :func:`_encoder`, so another Arrow library (arro3, where pyarrow is missing) can
be slotted in there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

__all__ = ["decode", "encode"]

_COLUMNS = {"lon": pa.float64(), "lat": pa.float64(), "weight": pa.float32()}


def _check(table: Any) -> None:
    names = list(table.column_names)
    if names not in (["lon", "lat"], ["lon", "lat", "weight"]):
        raise ValueError(f"not a canonical table: columns {names}, want lon, lat[, weight]")
    for name, field_type in zip(names, table.schema.types, strict=True):
        if field_type != _COLUMNS[name]:
            raise ValueError(f"column {name!r} is {field_type}, want {_COLUMNS[name]}")


def _encode_pyarrow(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=None)
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _encoder() -> Callable[[Any], bytes]:
    """The IPC stream encoder to use (the one place that chooses an Arrow library)."""
    return _encode_pyarrow


def encode(table: Any) -> bytes:
    """A canonical table → Arrow IPC stream bytes (no compression)."""
    _check(table)
    return _encoder()(table)


def decode(data: bytes | bytearray | memoryview) -> pa.Table:
    """Arrow IPC stream bytes → a pyarrow Table (the inverse of :func:`encode`)."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all()

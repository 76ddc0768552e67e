"""The canonical table ⇄ the wire: Arrow IPC stream bytes, the payload of ``_points``.

Wire format 2 (docs/architecture.md, "Wire format"): an uncompressed IPC stream whose columns
are the kernel's own fixed-point Web Mercator ``x`` and ``y`` (uint32, heat.h "Coordinates",
computed here once, bit for bit as the kernel would: :mod:`heatwidget.points.fixed`) and
optionally ``weight`` float32 and ``time`` float64 ms; the schema's metadata says
``heatwidget.wire: 2``, so a front end refuses a format it does not know. 8 bytes a row
unweighted, 12 weighted, at 1/64 px at zoom 18.

The encoder is picked in one place, :func:`_encoder`: pyarrow when installed, else arro3
(``arro3-core`` + ``arro3-io``, which publish Pyodide wheels). Both write the same stream;
tests check they decode to one table. Neither needs numpy: the projection runs over the
column ops (numpy: about 54 ms a million rows; pure Python: about 3.5 µs a row).
:func:`decode` gives readers (tests, benchmarks) lon/lat back, at each unit's centre.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from . import deps
from .columns import ColumnOps, default_ops, ops_of
from .fixed import Projector
from .schema import COLUMN_TYPES, PointColumns, build

__all__ = [
    "WIRE_KEY",
    "WIRE_TYPES",
    "WIRE_VERSION",
    "decode",
    "decode_wire",
    "encode",
    "encode_buffer",
]

#: The wire format's version, in the schema's metadata under :data:`WIRE_KEY`.
WIRE_VERSION = 2
WIRE_KEY = "heatwidget.wire"
#: The wire's columns and their types, in their order (weight and time optional).
WIRE_TYPES = {"x": "uint32", "y": "uint32", "weight": "float32", "time": "float64"}

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


def _wire_columns(table: Any, project: Projector | None) -> tuple[ColumnOps, dict[str, Any]]:
    """The canonical table's rows as the wire's columns (x, y projected once, here)."""
    names = list(table.column_names)
    col = table.column("lon")
    ops = ops_of(col) or default_ops()
    lon = ops.column(col, "float64")
    lat = ops.column(table.column("lat"), "float64")
    x, y = ops.mercator_fixed(lon, lat, project)
    cols: dict[str, Any] = {"x": x, "y": y}
    for name in ("weight", "time"):
        if name in names:
            cols[name] = ops.column(table.column(name), COLUMN_TYPES[name])
    return ops, cols


def _encode_pyarrow(table: Any, project: Projector | None = None) -> memoryview:
    pa = deps.require("pyarrow", "encoding points with pyarrow")
    ops, cols = _wire_columns(table, project)
    fields = [pa.field(n, getattr(pa, WIRE_TYPES[n])(), nullable=False) for n in cols]
    schema = pa.schema(fields, metadata={WIRE_KEY: str(WIRE_VERSION)})
    arrays = [ops.pyarrow_array(c, WIRE_TYPES[n]) for n, c in cols.items()]
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=None)
    with pa.ipc.new_stream(sink, schema, options=options) as writer:
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    # The Arrow buffer itself, not a bytes copy of it (10 ms a million rows).
    return memoryview(sink.getvalue()).cast("B")


def _encode_arro3(table: Any, project: Projector | None = None) -> memoryview:
    ac = deps.require("arro3.core", "encoding points without pyarrow")
    aio = deps.require("arro3.io", "encoding points without pyarrow")
    ops, cols = _wire_columns(table, project)
    fields = [ac.Field(n, getattr(ac.DataType, WIRE_TYPES[n])(), nullable=False) for n in cols]
    schema = ac.Schema(fields, metadata={WIRE_KEY: str(WIRE_VERSION)})
    arrays = [ops.arro3_array(c, WIRE_TYPES[n]) for n, c in cols.items()]
    sink = io.BytesIO()
    # arro3 compresses with LZ4 by default; the front end reads uncompressed streams only.
    aio.write_ipc_stream(ac.Table.from_arrays(arrays, schema=schema), sink, compression=None)
    return sink.getbuffer()


def _encoder() -> Callable[[Any, Projector | None], memoryview]:
    """The IPC stream encoder to use (the one place that chooses an Arrow library)."""
    return _encode_pyarrow if deps.pyarrow() is not None else _encode_arro3


def encode_buffer(table: Any, project: Projector | None = None) -> memoryview:
    """A canonical table → wire-format-2 Arrow IPC stream (no compression), as a read-only
    view of the Arrow library's own buffer: sent as a message's buffer without a copy.
    ``project``: a faster projection to the same x, y (:data:`~.fixed.Projector`)."""
    _check(table)
    view = _encoder()(table, project)
    return view.toreadonly()


def encode(table: Any, project: Projector | None = None) -> bytes:
    """:func:`encode_buffer` as bytes (a trait's value)."""
    return bytes(encode_buffer(table, project))


def _metadata(schema: Any) -> dict[str, str]:
    raw = schema.metadata or {}
    return {
        (k.decode() if isinstance(k, bytes) else str(k)): (
            v.decode() if isinstance(v, bytes) else str(v)
        )
        for k, v in raw.items()
    }


def _check_version(schema: Any) -> None:
    version = _metadata(schema).get(WIRE_KEY)
    if version != str(WIRE_VERSION):
        raise ValueError(
            f"the points' wire format is {version!r} ({WIRE_KEY!r} in the Arrow schema's "
            f"metadata), this heatwidget reads {WIRE_VERSION!r}: encode them with "
            "heatwidget.points.wire.encode of the same version"
        )


def decode_wire(data: bytes | bytearray | memoryview) -> Any:
    """Wire bytes → the wire table as sent (``x``, ``y`` uint32, …): a pyarrow Table, or an
    arro3 Table without pyarrow. Refuses another wire version."""
    pa = deps.pyarrow()
    if pa is not None:
        with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
            table = reader.read_all()
    else:
        aio = deps.require("arro3.io", "decoding points without pyarrow")
        ac = deps.require("arro3.core", "decoding points without pyarrow")
        table = ac.Table.from_arrow(aio.read_ipc_stream(io.BytesIO(bytes(data))))
    _check_version(table.schema)
    return table


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Wire bytes → a canonical table, lon/lat at the centre of each fixed-point unit (within
    1/128 px at zoom 18 of the rows encoded; encoding it again gives the same bytes): a pyarrow
    Table, else a PointColumns (numpy columns, or ``array.array`` ones without numpy)."""
    table = decode_wire(data)
    ops = default_ops()
    names = list(table.column_names)
    cols: dict[str, Any] = {}
    for name in names:
        col = table.column(name)
        kind = WIRE_TYPES.get(name, "float64")
        # arro3 cannot export a column of no chunks
        cols[name] = ops.full(0, 0.0, kind) if col.num_chunks == 0 else _column(ops, col, kind)
    lon, lat = ops.mercator_degrees(cols.pop("x"), cols.pop("y"))
    return build({"lon": lon, "lat": lat, **cols})


def _column(ops: ColumnOps, col: Any, kind: str) -> Any:
    if kind != "uint32":
        return ops.column(col, kind)
    if hasattr(col, "to_pylist") and ops.name == "pure":
        return col.to_pylist()
    values = col.to_numpy() if hasattr(col, "to_numpy") else col
    return values

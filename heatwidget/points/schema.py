"""The canonical table of points: its columns and types, and what ``to_table`` reports.

The canonical table (docs/architecture.md, "Wire format") has the columns

* ``lon`` float64: degrees, wrapped into [-180, 180);
* ``lat`` float64: degrees within ±MAX_LATITUDE, Web Mercator's edge;
* ``weight`` float32, optional: finite and ≥ 0; absent means 1 per point;
* ``time`` float64, optional: milliseconds since the Unix epoch, UTC.

It is a pyarrow Table when pyarrow is installed, else a :class:`PointColumns` (numpy columns,
or ``array.array`` ones without numpy), encoded with arro3: see :func:`build`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..constants import Bounds
from . import deps
from .columns import ColumnOps, ops_of

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMN_TYPES",
    "LAT_NAMES",
    "LON_NAMES",
    "DroppedRowsWarning",
    "InputReport",
    "MercatorEdgeWarning",
    "PointColumns",
    "WeightUnderflowWarning",
    "arro3_table",
    "build",
    "canonical_schema",
]

#: Types of the canonical columns, in their order.
COLUMN_TYPES = {"lon": "float64", "lat": "float64", "weight": "float32", "time": "float64"}

#: Column names auto-detected (case-insensitively) when ``lat=``/``lon=`` are not given.
#: ``x``/``y`` are left out on purpose: they are as often projected metres as degrees.
LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")


class DroppedRowsWarning(UserWarning):
    """Rows were dropped because their latitude, longitude or time is missing (NaN, None, null,
    NaT, a null or empty geometry)."""


class MercatorEdgeWarning(UserWarning):
    """Latitudes between 85.0511° and 90° were moved to Web Mercator's edge."""


class WeightUnderflowWarning(UserWarning):
    """Weights too small for float32 (the type they are drawn in) became 0: they add no heat."""


@dataclass(frozen=True)
class InputReport:
    """What :func:`heatwidget.points.to_table` did to the rows it was given."""

    rows_in: int
    """Rows given (points, for MultiPoint geometries)."""
    rows: int
    """Rows in the table (``rows_in - dropped``)."""
    dropped: int = 0
    """Rows dropped for a missing (NaN/None/null/NaT) latitude, longitude or time."""
    clamped: int = 0
    """Rows with 85.0511° < |lat| ≤ 90°, moved to the Mercator edge."""
    wrapped: int = 0
    """Rows whose longitude was outside [-180, 180) and was wrapped into it."""
    bounds: Bounds | None = None
    """``(south, west, north, east)`` of the rows kept, or None when there are none."""
    lat_column: str | None = None
    """The source column read as latitude (None for plain arrays)."""
    lon_column: str | None = None
    weight_column: str | None = None
    time_column: str | None = None


class PointColumns:
    """The canonical table as numpy columns, or ``array.array`` columns without numpy: what
    :func:`heatwidget.points.to_table` returns without pyarrow.

    Speaks the Arrow PyCapsule interface through arro3 (``pa.table(cols)`` works too).
    """

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self.columns = {k: columns[k] for k in COLUMN_TYPES if k in columns}
        for name, arr in self.columns.items():
            want = COLUMN_TYPES[name]
            ops = ops_of(arr)
            if ops is None or ops.kind(arr) != want:
                typecode = getattr(arr, "typecode", None)
                have = f"array({typecode!r})" if typecode else getattr(arr, "dtype", type(arr))
                raise ValueError(f"column {name!r} is {have}, want {want}")

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def num_rows(self) -> int:
        return len(self.columns["lon"]) if self.columns else 0

    def column(self, name: str) -> Any:
        """A numpy array, or an ``array.array`` on the pure-Python path."""
        return self.columns[name]

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        return f"PointColumns({', '.join(self.columns)}; {self.num_rows} rows)"

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return arro3_table(self).__arrow_c_stream__(requested_schema)


def canonical_schema(with_weight: bool, with_time: bool = False) -> pa.Schema:
    """The pyarrow schema of the canonical table (needs pyarrow)."""
    pa = deps.require("pyarrow", "canonical_schema()")
    fields = [pa.field("lon", pa.float64(), nullable=False), pa.field("lat", pa.float64(), False)]
    if with_weight:
        fields.append(pa.field("weight", pa.float32(), nullable=False))
    if with_time:
        fields.append(pa.field("time", pa.float64(), nullable=False))
    return pa.schema(fields)


def _pyarrow_arrays(columns: Mapping[str, Any]) -> tuple[list[Any], pa.Schema]:
    schema = canonical_schema("weight" in columns, "time" in columns)
    arrays = []
    for f in schema:
        col = columns[f.name]
        ops = ops_of(col)
        if ops is None:
            raise ValueError(f"column {f.name!r} is {type(col).__name__}, not a column")
        arrays.append(ops.pyarrow_array(col, COLUMN_TYPES[f.name]))
    return arrays, schema


def build(columns: Mapping[str, Any]) -> Any:
    """Backend columns → the canonical table (pyarrow Table, or PointColumns without
    pyarrow)."""
    pa = deps.pyarrow()
    if pa is None:
        return PointColumns(columns)
    arrays, schema = _pyarrow_arrays(columns)
    return pa.Table.from_arrays(arrays, schema=schema)


def build_chunks(
    chunks: Sequence[Mapping[str, Any]], names: tuple[str, ...], ops: ColumnOps
) -> Any:
    """Chunks of backend columns (each with the columns ``names``) → one canonical table: a
    pyarrow Table of one batch per chunk (no copy), else a PointColumns (concatenated)."""
    pa = deps.pyarrow()
    if not chunks:
        return build({n: ops.full(0, 0.0, COLUMN_TYPES[n]) for n in names})
    if pa is None:
        return build({n: ops.concat([c[n] for c in chunks], COLUMN_TYPES[n]) for n in names})
    batches = []
    schema = None
    for chunk in chunks:
        arrays, schema = _pyarrow_arrays(chunk)
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def arro3_table(table: Any) -> Any:
    """A canonical table (pyarrow Table, PointColumns or arro3 Table) as an arro3 Table."""
    ac = deps.require("arro3.core", "encoding points without pyarrow")
    if not isinstance(table, PointColumns):
        return ac.Table.from_arrow(table)
    types = {"float64": ac.DataType.float64(), "float32": ac.DataType.float32()}
    names = table.column_names
    fields = [ac.Field(n, types[COLUMN_TYPES[n]], nullable=False) for n in names]
    arrays = []
    for name in names:
        col = table.column(name)
        ops = ops_of(col)
        assert ops is not None  # PointColumns checked it
        arrays.append(ops.arro3_array(col, COLUMN_TYPES[name]))
    return ac.Table.from_arrays(arrays, schema=ac.Schema(fields))

"""Every input form → the one canonical table of points (:mod:`heatwidget.points.schema`).

Longitudes within ±540 are wrapped exactly into [-180, 180) silently (a longitude of 190
becomes -170: the same place); beyond ±540 they are an error (not degrees: projected metres?).
Latitudes beyond ±90 are an error; those between 85.0511… and 90 are kept, moved to the edge
(where the map draws them anyway) and reported with a warning. Weights must be finite and ≥ 0,
fit float32 and add up to at most 1e38 (an error otherwise); weights that float32 rounds to 0
are a :class:`WeightUnderflowWarning`; absent means 1 per point. Rows whose latitude, longitude
or time is missing (NaN, None, null, NaT, a null or empty geometry) are dropped with a
:class:`DroppedRowsWarning` (the report and ``point_count`` count the rows kept); an infinite
one is an error, and so is a time beyond Python's datetimes (years 1 to 9999), naming the
column, the row, the value and ``time_unit=``. Duplicate points are kept: each adds its heat.

Accepted inputs (one small reader per form, :mod:`heatwidget.points.forms`):

* a pandas or polars DataFrame, a pyarrow Table or RecordBatch, any object with
  ``__arrow_c_stream__`` (polars, arro3, duckdb results, …), a dict of columns, a numpy
  structured array;
* ``lat=``/``lon=``/``weight=``/``time=`` arrays (numpy, lists, pandas Series, Arrow arrays);
* geometry: a geopandas GeoDataFrame of Points/MultiPoints (any CRS: reprojected to WGS84),
  an Arrow table with a GeoArrow point or WKB column (GeoParquet), a GeoJSON FeatureCollection
  (a dict). Other geometry types are an error naming the type and the fix (``gdf.centroid``);
  a MultiPoint counts as one point per member, each with its feature's weight;
* a file path (str or pathlib.Path): .csv/.tsv, .parquet/.geoparquet, .geojson/.json, .arrow.

Times: datetime64 (any unit) / pandas Timestamps / Arrow timestamps and dates (dictionary-encoded
Arrow columns are decoded, numbers too); time-zone aware values are
converted to UTC, naive ones are taken as UTC. Plain numbers are seconds since the epoch
(POSIX time, like ``time.time()``) unless ``time_unit=`` says "ms", "us" or "ns". A column
mixing kinds (numbers and datetimes, naive and aware datetimes, strings) is an error.

Without numpy (JupyterLite offline) the same checks run over ``array.array`` columns
(:mod:`heatwidget.points.columns`), with the same errors and warnings; lists, tuples,
``array.array``, a dict of those and Arrow tables/arrays (through arro3) are read then.
Nothing else in the package knows about input forms.
"""

from __future__ import annotations

from typing import Any

from .checks import check
from .columns import ColumnOps, default_ops
from .forms import raw_from_arrays, raw_from_source, source
from .schema import InputReport, build

__all__ = ["empty_table", "to_table"]


def empty_table(with_weight: bool = False, ops: ColumnOps | None = None) -> Any:
    """A canonical table with no rows."""
    ops = default_ops() if ops is None else ops
    cols = {"lon": ops.full(0, 0.0, "float64"), "lat": ops.full(0, 0.0, "float64")}
    if with_weight:
        cols["weight"] = ops.full(0, 0.0, "float32")
    return build(cols)


def to_table(
    data: Any = None,
    *,
    lat: Any = None,
    lon: Any = None,
    weight: Any = None,
    time: Any = None,
    time_unit: str = "s",
    stacklevel: int = 2,
    ops: ColumnOps | None = None,
) -> tuple[Any, InputReport]:
    """Turn any accepted input into ``(canonical table, report)``; see the module docstring.

    Raises ``ValueError`` (missing or non-numeric column, mismatched lengths, latitude beyond
    ±90, negative/NaN/infinite weight, mixed kinds of time, non-point geometry),
    ``TypeError`` (unsupported input), ``FileNotFoundError`` (a path that is not a file) and
    ``ImportError`` (an optional library a form needs, naming the extra) with messages that
    name the column, the row and value, and a fix. ``stacklevel`` is passed to the warnings.
    ``ops`` picks the column backend (default: numpy's if it can be imported).
    """
    ops = default_ops() if ops is None else ops
    if data is None:
        if lat is None and lon is None:
            for role, v in (("weight", weight), ("time", time)):
                if v is not None:
                    raise ValueError(f"{role}= was given without lat= and lon=.")
            return empty_table(ops=ops), InputReport(rows_in=0, rows=0)
        raw = raw_from_arrays(lat, lon, weight, time)
    else:
        raw = raw_from_source(source(data), lat, lon, weight, time)
    columns, report = check(raw, ops, time_unit, stacklevel + 1)
    return build(columns), report

"""Every input form → the one canonical table of points.

The canonical table (docs/architecture.md, "Wire format") has the columns

* ``lon`` float64: degrees, wrapped into [-180, 180) (a longitude of 190 becomes -170: this is
  silent, since it is the same place);
* ``lat`` float64: degrees within ±85.0511287798, Web Mercator's edge. Latitudes beyond ±90
  are an error; those between 85.0511… and 90 are kept, moved to the edge (where the map draws
  them anyway) and reported with a warning;
* ``weight`` float32, optional: finite and ≥ 0 (an error otherwise); absent means 1 per point;
* ``time`` float64, optional (``time=``): milliseconds since the Unix epoch, UTC.

It is a pyarrow Table when pyarrow is installed, else a :class:`PointColumns` (numpy columns,
encoded by :mod:`heatwidget.points.wire` with arro3): pyarrow is not the only way in.

numpy is not the only way in either (JupyterLite offline has neither numpy nor pyarrow): when
numpy cannot be imported, :func:`to_table` reads lists, tuples, ``array.array``, a dict of those,
and Arrow tables/arrays through arro3, with the same checks, errors and warnings in pure Python
(section "without numpy" below), and returns a :class:`PointColumns` of ``array.array``
columns. DataFrames, files, GeoJSON and geometry columns need numpy.

Rows whose latitude, longitude or time is missing (NaN, None, null, NaT) or infinite are
dropped with a :class:`DroppedRowsWarning` (the report and ``point_count`` count the rows
kept). Duplicate points are kept: each one adds its heat. Accepted inputs (one small reader per
form, chosen in :func:`_source`):

* a pandas or polars DataFrame, a pyarrow Table or RecordBatch, any object with
  ``__arrow_c_stream__`` (polars, arro3, duckdb results, …), a dict of columns, a numpy
  structured array;
* ``lat=``/``lon=``/``weight=``/``time=`` arrays (numpy, lists, pandas Series, Arrow arrays);
* geometry: a geopandas GeoDataFrame of Points/MultiPoints (any CRS: reprojected to WGS84),
  an Arrow table with a GeoArrow point or WKB column (GeoParquet), a GeoJSON FeatureCollection
  (a dict). Other geometry types are an error naming the type and the fix (``gdf.centroid``);
  a MultiPoint counts as one point per member, each with its feature's weight;
* a file path (str or pathlib.Path): .csv/.tsv, .parquet/.geoparquet, .geojson/.json, .arrow.

With a table-like ``data``, ``lat``/``lon``/``weight``/``time`` are column names (GeoJSON:
property names); ``lat``/``lon`` default to the geometry column if there is one, else to an
unambiguous column name (:data:`LAT_NAMES`, :data:`LON_NAMES`, any case).

Times: datetime64 / pandas Timestamps / Arrow timestamps and dates; time-zone aware values are
converted to UTC, naive ones are taken as UTC. Plain numbers are seconds since the epoch
(POSIX time, like ``time.time()``) unless ``time_unit=`` says "ms", "us" or "ns". A column
mixing kinds (numbers and datetimes, naive and aware datetimes, strings) is an error.

Nothing else in the package knows about input forms.
"""

from __future__ import annotations

import array
import datetime as _dt
import difflib
import importlib
import math
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from . import sources as _sources

    HAS_NUMPY: bool
else:
    # numpy is optional (JupyterLite): without it the pure-Python path below is used, and
    # _sources (which needs numpy) is never imported.
    try:
        import numpy as np
    except ImportError:
        np = None
    HAS_NUMPY = np is not None
    if HAS_NUMPY:
        from . import sources as _sources

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "MAX_LATITUDE",
    "DroppedRowsWarning",
    "InputReport",
    "MercatorEdgeWarning",
    "PointColumns",
    "canonical_schema",
    "empty_table",
    "to_table",
]

#: Leaflet's SphericalMercator.MAX_LATITUDE (heat.h clamps to the same value).
MAX_LATITUDE = 85.0511287798

#: Column names auto-detected (case-insensitively) when ``lat=``/``lon=`` are not given.
#: ``x``/``y`` are left out on purpose: they are as often projected metres as degrees.
LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")

#: Types of the canonical columns, in their order.
COLUMN_TYPES = {"lon": "float64", "lat": "float64", "weight": "float32", "time": "float64"}

Bounds = tuple[float, float, float, float]


def _require(module: str, why: str) -> Any:
    """Import ``module`` or raise an ImportError naming the extra (``_sources.require``'s
    message; usable without numpy)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = {"arro3.core": "arro3", "arro3.io": "arro3", "pyarrow": "parquet"}.get(
            module, module
        )
        raise ImportError(
            f"{why} needs {module.split('.')[0]}, which is not installed: "
            f'pip install "heatwidget[{extra}]"'
        ) from e


def _pa() -> Any:
    """pyarrow, or None when it is not installed (JupyterLite without it, say)."""
    if "pyarrow" in sys.modules:
        return sys.modules["pyarrow"]  # None when blocked on purpose
    try:
        return importlib.import_module("pyarrow")
    except ImportError:
        return None


class DroppedRowsWarning(UserWarning):
    """Rows were dropped because their latitude, longitude or time is missing or not finite."""


class MercatorEdgeWarning(UserWarning):
    """Latitudes between 85.0511° and 90° were moved to Web Mercator's edge."""


@dataclass(frozen=True)
class InputReport:
    """What :func:`to_table` did to the rows it was given."""

    rows_in: int
    """Rows given (points, for MultiPoint geometries)."""
    rows: int
    """Rows in the table (``rows_in - dropped``)."""
    dropped: int = 0
    """Rows dropped for a missing (NaN/None/null) or infinite latitude, longitude or time."""
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


#: array.array type codes of the canonical column types (the pure-Python path's columns).
TYPECODES = {"float64": "d", "float32": "f"}


class PointColumns:
    """The canonical table as numpy columns, or ``array.array`` columns without numpy: what
    :func:`to_table` returns without pyarrow.

    Speaks the Arrow PyCapsule interface through arro3 (``pa.table(cols)`` works too).
    """

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self.columns = {k: columns[k] for k in COLUMN_TYPES if k in columns}
        for name, arr in self.columns.items():
            want = COLUMN_TYPES[name]
            if isinstance(arr, array.array):
                if arr.typecode != TYPECODES[want]:
                    raise ValueError(f"column {name!r} is array({arr.typecode!r}), want {want}")
            elif not HAS_NUMPY or arr.dtype != np.dtype(want) or arr.ndim != 1:
                raise ValueError(
                    f"column {name!r} is {getattr(arr, 'dtype', type(arr))}, want {want}"
                )

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
        from . import wire as _wire

        return _wire.arro3_table(self).__arrow_c_stream__(requested_schema)


def canonical_schema(with_weight: bool, with_time: bool = False) -> pa.Schema:
    """The pyarrow schema of the canonical table (needs pyarrow)."""
    pa = _require("pyarrow", "canonical_schema()")
    fields = [pa.field("lon", pa.float64(), nullable=False), pa.field("lat", pa.float64(), False)]
    if with_weight:
        fields.append(pa.field("weight", pa.float32(), nullable=False))
    if with_time:
        fields.append(pa.field("time", pa.float64(), nullable=False))
    return pa.schema(fields)


def _build(columns: Mapping[str, Any]) -> Any:
    """numpy (or array.array) columns → the canonical table (pyarrow Table, or PointColumns
    without pyarrow)."""
    pa = _pa()
    if pa is None:
        return PointColumns(columns)
    schema = canonical_schema("weight" in columns, "time" in columns)
    arrays = []
    for f in schema:
        col = columns[f.name]
        if isinstance(col, array.array):  # no numpy: wrap the buffer (no copy, no numpy)
            arrays.append(pa.Array.from_buffers(f.type, len(col), [None, pa.py_buffer(col)]))
        else:
            arrays.append(pa.array(col, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def empty_table(with_weight: bool = False) -> Any:
    """A canonical table with no rows."""
    if not HAS_NUMPY:
        cols: dict[str, Any] = {"lon": array.array("d"), "lat": array.array("d")}
        if with_weight:
            cols["weight"] = array.array("f")
        return _build(cols)
    cols = {"lon": np.empty(0), "lat": np.empty(0)}
    if with_weight:
        cols["weight"] = np.empty(0, np.float32)
    return _build(cols)


# ---- column access: one small reader per input form ----------------------------------------


class _Source:
    """Uniform access to the columns of one table-like input (and its points, if geometric)."""

    def __init__(self, kind: str, columns: Sequence[Any], get: Callable[[Any], Any]) -> None:
        self.kind = kind
        self.columns = [str(c) for c in columns]
        self._keys = {str(c): c for c in columns}
        self._get = get
        self.index_label: Callable[[int], Any] | None = None
        self.points: _sources.Points | None = None
        """Coordinates decoded from a geometry column, used when lat=/lon= are not given."""
        self.geometry_column: str | None = None

    def get(self, name: str) -> Any:
        return self._get(self._keys[name])


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _is_dataframe(obj: Any) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_series(obj: Any) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.Series)


def _from_pandas(df: Any) -> _Source:
    src = _Source("DataFrame", list(df.columns), lambda k: df[k])
    pd = _pandas()
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        src.index_label = lambda i: df.index[i]
    return src


def _from_geopandas(gdf: Any) -> _Source:
    geometry = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geometry]
    src = _from_pandas(gdf[columns])
    src.kind = "GeoDataFrame"
    src.points = _sources.geodataframe_points(gdf)
    src.geometry_column = str(geometry)
    return src


def _from_arrow(table: Any, kind: str) -> _Source:
    """A pyarrow Table/RecordBatch or an arro3 Table; GeoArrow/WKB columns become points."""
    found = _sources.arrow_geometry(table, kind)
    names = list(table.column_names)
    src = _Source(kind, [n for n in names if found is None or n != found[0]], table.column)
    if found is not None:
        src.geometry_column, src.points = found
    return src


def _from_capsule(data: Any) -> _Source:
    """polars, duckdb, arro3, … : anything speaking the Arrow PyCapsule stream interface."""
    pa = _pa()
    if pa is not None:
        return _from_arrow(pa.table(data), type(data).__name__)
    ac = _sources.require("arro3.core", f"reading a {type(data).__name__} without pyarrow")
    return _from_arrow(ac.Table.from_arrow(data), type(data).__name__)


def _from_geojson(obj: Mapping[str, Any]) -> _Source:
    columns, points = _sources.geojson_columns(obj)
    src = _Source("GeoJSON properties", list(columns), columns.__getitem__)
    src.points = points
    src.geometry_column = "geometry"
    return src


def _from_structured(arr: np.ndarray) -> _Source:
    return _Source("structured array", list(arr.dtype.names or ()), arr.__getitem__)


def _source(data: Any) -> _Source:
    """Dispatch on the type of ``data`` to its reader."""
    if not HAS_NUMPY:
        from .inputs_pure import _source_pure

        return _source_pure(data)
    if isinstance(data, (str, os.PathLike)):
        return _source(_sources.read_path(data))
    if _sources.is_geodataframe(data):
        return _from_geopandas(data)
    if _is_dataframe(data):
        return _from_pandas(data)
    pa = _pa() if "pyarrow" in sys.modules else None
    if pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        return _from_arrow(data, type(data).__name__)
    if _sources.is_geojson(data):
        return _from_geojson(data)
    if isinstance(data, Mapping):
        return _Source("dict", list(data.keys()), data.__getitem__)
    if hasattr(data, "__arrow_c_stream__"):
        return _from_capsule(data)
    if isinstance(data, np.ndarray):
        if data.dtype.names:
            return _from_structured(data)
        raise TypeError(
            f"data is a numpy array of shape {data.shape}; heatwidget needs to know which "
            "values are latitudes: pass lat=arr[:, 0], lon=arr[:, 1] (or whichever columns "
            "they are) instead of data."
        )
    raise TypeError(
        f"unsupported data of type {type(data).__module__}.{type(data).__qualname__}: pass a "
        "pandas or polars DataFrame, a pyarrow Table or RecordBatch, a dict of columns, an "
        "object with __arrow_c_stream__, a geopandas GeoDataFrame, a GeoJSON dict, a file "
        "path (.csv, .parquet, .geojson), or lat=/lon=/weight= arrays."
    )


def _find_column(src: _Source, given: Any, role: str, candidates: Sequence[str]) -> str:
    """The column of ``src`` to read for ``role`` ("lat", "lon", "weight")."""
    available = ", ".join(map(repr, src.columns)) or "none"
    if given is not None:
        if not isinstance(given, str):
            raise TypeError(
                f"with data given, {role}= must be a column name (a str), not "
                f"{type(given).__name__}. To pass arrays, leave data out: "
                f"Heatmap(lat=..., lon=..., weight=...)."
            )
        if given in src.columns:
            return given
        close = difflib.get_close_matches(given, src.columns, n=1)
        hint = f" Did you mean {role}={close[0]!r}?" if close else ""
        raise ValueError(
            f"column {given!r} (given as {role}=) is not in the {src.kind}; available "
            f"columns: {available}.{hint}"
        )
    lowered = {name.lower(): name for name in candidates}
    found = [c for c in src.columns if c.lower() in lowered]
    what = "latitude" if role == "lat" else "longitude"
    if len(found) == 1:
        return found[0]
    tried = ", ".join(map(repr, candidates))
    if not found:
        raise ValueError(
            f"no {what} column found: tried {tried} (any case); available columns: "
            f"{available}. Name it with {role}='<column>'."
        )
    raise ValueError(
        f"more than one {what} column: {', '.join(map(repr, found))}. Choose one with "
        f"{role}='<column>'."
    )


# ---- values → numpy ------------------------------------------------------------------------


def _is_numeric_arrow(t: Any) -> bool:
    pa = _pa()
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _missing_scalar() -> Any:
    pd = _pandas()
    return pd.NA if pd is not None else None


def _is_missing(v: Any) -> bool:
    if v is None or v is _missing_scalar():
        return True
    pd = _pandas()
    if pd is not None and v is pd.NaT:
        return True
    return HAS_NUMPY and isinstance(v, np.datetime64) and bool(np.isnat(v))


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool) or (HAS_NUMPY and isinstance(v, np.bool_))


def _first_bad(values: Any) -> tuple[int, Any]:
    """Row and value of the first element that is neither a real number nor missing."""
    na = _missing_scalar()
    for i, v in enumerate(values):
        if v is None or v is na:
            continue
        # Real numbers, and Decimal (a Number that is not Complex); bools are not numbers here.
        real = isinstance(v, numbers.Real) or (
            isinstance(v, numbers.Number) and not isinstance(v, numbers.Complex)
        )
        if real and not _is_bool(v):
            continue
        return i, v
    return -1, None


def _show(value: Any) -> str:
    """repr of a value as the user wrote it (numpy scalars as plain Python ones)."""
    item = getattr(value, "item", None)
    if HAS_NUMPY and isinstance(value, np.generic) and item is not None:
        value = item()
    return repr(value)


def _non_numeric(label: str, dtype: Any, row: int, value: Any) -> ValueError:
    where = f"; first non-number {_show(value)} at row {row}" if row >= 0 else ""
    return ValueError(
        f"{label} is not numeric (dtype {dtype}){where}. Convert it to numbers first, e.g. "
        "pandas.to_numeric(df[col], errors='coerce') (unparseable values become NaN and are "
        "dropped), or pass a different column."
    )


def _is_arrow_array(values: Any) -> bool:
    return not (HAS_NUMPY and isinstance(values, np.ndarray)) and (
        hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__")
    )


def _arrow_to_float(values: Any, label: str, dtype: type[np.floating[Any]]) -> np.ndarray:
    """A pyarrow Array/ChunkedArray → float numpy (NaN for nulls)."""
    pa = _pa()
    if pa.types.is_null(values.type):
        return np.full(len(values), np.nan, dtype=dtype)
    if not _is_numeric_arrow(values.type):
        first = values.drop_null()[:1].to_pylist() if len(values) else []
        row = -1
        if first:
            row = int(np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))[0])
        raise _non_numeric(label, values.type, row, first[0] if first else None)
    arr = values.cast(pa.float64() if dtype is np.float64 else pa.float32())
    # Float arrays with nulls come out with NaN in their place.
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def _arro3_to_float(values: Any, label: str, dtype: type[np.floating[Any]]) -> np.ndarray:
    """Any Arrow array without pyarrow (through arro3) → float numpy (NaN for nulls)."""
    ac = _require("arro3.core", f"reading {label} without pyarrow")
    col = ac.ChunkedArray.from_arrow(values)
    t = col.type
    if t.is_null(t):
        return np.full(len(col), np.nan, dtype=dtype)
    if not (t.is_integer(t) or t.is_floating(t) or t.is_decimal(t)):
        listed = col.to_pylist()
        row = next((i for i, v in enumerate(listed) if v is not None), -1)
        raise _non_numeric(label, t, row, listed[row] if row >= 0 else None)
    if col.null_count or t.is_decimal(t):
        return np.array([np.nan if v is None else v for v in col.to_pylist()], dtype=dtype)
    if col.num_chunks == 0:
        return np.empty(0, dtype=dtype)
    return np.asarray(col.to_numpy(), dtype=dtype)


def _to_float(values: Any, label: str, dtype: type[np.floating[Any]] | None = None) -> np.ndarray:
    """``values`` → a 1-D float array (NaN for missing). Never modify the result in place."""
    dtype = np.float64 if dtype is None else dtype
    pa = _pa() if "pyarrow" in sys.modules else None
    if pa is not None and isinstance(values, (pa.ChunkedArray, pa.Array)):
        return _arrow_to_float(values, label, dtype)
    if _is_series(values):
        pd = _pandas()
        api = pd.api.types
        if api.is_numeric_dtype(values.dtype) and not api.is_bool_dtype(values.dtype):
            return np.asarray(values.to_numpy(dtype=dtype, na_value=np.nan))
        values = values.to_numpy(dtype=object)
        if not values.size or values.dtype != object:
            return np.asarray(values, dtype=dtype)
    elif _is_arrow_array(values):
        # polars Series, arro3 arrays, … (a polars Series also has to_numpy, but nulls in
        # integer columns are better handled through Arrow).
        pa = _pa()
        if pa is not None:
            chunked = pa.chunked_array(values) if hasattr(values, "__arrow_c_stream__") else None
            return _arrow_to_float(
                chunked if chunked is not None else pa.array(values), label, dtype
            )
        return _arro3_to_float(values, label, dtype)
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 0 or arr.size == 0 else arr
        if arr.ndim != 1:
            raise ValueError(f"{label} must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iuf":
        out: np.ndarray = arr.astype(dtype, copy=False)
        return out
    if kind == "O":
        row, bad = _first_bad(arr)
        if row >= 0:
            raise _non_numeric(label, "object", row, bad)
        try:
            na = _missing_scalar()
            return np.array([np.nan if v is None or v is na else v for v in arr], dtype=dtype)
        except (TypeError, ValueError) as e:  # pragma: no cover - guarded by _first_bad
            raise _non_numeric(label, "object", -1, None) from e
    row = 0 if arr.size else -1
    raise _non_numeric(label, arr.dtype, row, arr[0] if arr.size else None)


# ---- times → float64 milliseconds since the epoch (UTC) -------------------------------------

_UNIT_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _datetime64_ms(arr: np.ndarray) -> np.ndarray:
    """datetime64 of any unit → float64 ms (NaN for NaT)."""
    ns = arr.astype("datetime64[ns]") if arr.dtype.itemsize and arr.dtype != "M8[ns]" else arr
    out = ns.view(np.int64).astype(np.float64) / 1e6
    out[np.isnat(ns)] = np.nan
    return out


def _time_kind(v: Any) -> str:
    if _is_bool(v):
        return "bool"
    if isinstance(v, numbers.Real):
        return "number"
    if isinstance(v, _dt.datetime):  # pandas Timestamp is a datetime
        return "aware datetime" if v.tzinfo is not None else "naive datetime"
    if HAS_NUMPY and isinstance(v, np.datetime64):
        return "naive datetime"
    if isinstance(v, _dt.date):
        return "date"
    return type(v).__name__


def _object_times_ms(arr: np.ndarray, label: str, unit_ms: float) -> np.ndarray:
    return np.array(_times_ms_list(list(arr), label, unit_ms), dtype=np.float64)


def _times_ms_list(arr: Sequence[Any], label: str, unit_ms: float) -> list[float]:
    """Python objects (numbers, datetimes, dates; None/NaN missing) → ms since the epoch, UTC
    (NaN for missing); a column mixing kinds is an error. Needs no numpy."""
    kinds: dict[str, tuple[int, Any]] = {}
    for i, v in enumerate(arr):
        if _is_missing(v) or (isinstance(v, float) and v != v):
            continue
        kinds.setdefault(_time_kind(v), (i, v))
    bad = [k for k in kinds if k not in ("number", "aware datetime", "naive datetime", "date")]
    if bad:
        i, v = kinds[bad[0]]
        fix = (
            "parse them first: pandas.to_datetime(df[col], utc=True)"
            if bad[0] == "str"
            else "give datetimes or numbers (seconds since 1970-01-01 UTC)"
        )
        raise ValueError(f"{label} has {_show(v)} ({bad[0]}) at row {i}: {fix}.")
    if len(kinds) > 1:
        parts = ", ".join(f"{k} (first at row {i}: {_show(v)})" for k, (i, v) in kinds.items())
        raise ValueError(
            f"{label} mixes kinds of time: {parts}. Give one kind: e.g. "
            "pandas.to_datetime(df[col], utc=True) for datetimes (naive ones are taken as UTC), "
            "or numbers (seconds since 1970-01-01 UTC, see time_unit=)."
        )
    out = [math.nan] * len(arr)
    for i, v in enumerate(arr):
        if _is_missing(v) or (isinstance(v, float) and v != v):
            continue
        if isinstance(v, numbers.Real):
            out[i] = float(v) * unit_ms
        elif HAS_NUMPY and isinstance(v, np.datetime64):
            out[i] = float(_datetime64_ms(np.array([v]))[0])
        elif isinstance(v, _dt.datetime):
            aware = v if v.tzinfo is not None else v.replace(tzinfo=_dt.timezone.utc)
            ns = getattr(v, "nanosecond", 0)
            out[i] = (aware - _EPOCH) / _dt.timedelta(milliseconds=1) + ns / 1e6
        else:  # a date
            out[i] = (v - _dt.date(1970, 1, 1)).days * 86_400_000.0
    return out


def _to_time_ms(values: Any, label: str, unit: str) -> np.ndarray:
    """Times of any accepted kind → float64 ms since the epoch, UTC (NaN for missing)."""
    if unit not in _UNIT_MS:
        raise ValueError(f"time_unit={unit!r}: use one of {', '.join(map(repr, _UNIT_MS))}.")
    unit_ms = _UNIT_MS[unit]
    if _is_series(values):
        pd = _pandas()
        api = pd.api.types
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        if api.is_datetime64_dtype(values.dtype):
            return _datetime64_ms(values.to_numpy())
        if api.is_numeric_dtype(values.dtype) and not api.is_bool_dtype(values.dtype):
            secs: np.ndarray = values.to_numpy(dtype=np.float64, na_value=np.nan)
            return secs * unit_ms
        values = values.to_numpy(dtype=object)
    elif _is_arrow_array(values):
        pa = _pa()
        if pa is not None:
            col = pa.chunked_array(values) if hasattr(values, "__arrow_c_stream__") else values
            col = col if isinstance(col, (pa.Array, pa.ChunkedArray)) else pa.array(col)
            t = col.type
            if pa.types.is_timestamp(t) or pa.types.is_date(t):
                if pa.types.is_date(t):
                    col = col.cast(pa.timestamp("ms"))
                # Arrow timestamps are UTC instants whatever their time zone.
                ints = col.cast(pa.timestamp(col.type.unit)).cast(pa.int64())
                per = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}[col.type.unit]
                return _arrow_to_float(ints, label, np.float64) * per
            return _arrow_to_float(col, label, np.float64) * unit_ms
        ac = _sources.require("arro3.core", f"reading {label} without pyarrow")
        values = np.array(ac.ChunkedArray.from_arrow(values).to_pylist(), dtype=object)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "M":
        return _datetime64_ms(arr)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64) * unit_ms
    if arr.dtype.kind == "O" or arr.dtype.kind in "UST":
        return _object_times_ms(arr.astype(object), label, unit_ms)
    raise ValueError(
        f"{label} has dtype {arr.dtype}: give datetimes or numbers (seconds since the epoch)."
    )


# ---- the one entry point -------------------------------------------------------------------


def _row_text(row: int, index_label: Callable[[int], Any] | None) -> str:
    if index_label is None:
        return f"row {row}"
    return f"row {row} (index label {_show(index_label(row))})"


@dataclass
class _Raw:
    """The values to read, before conversion; labels name them in messages."""

    lat: Any
    lon: Any
    weight: Any
    time: Any
    lat_label: str = "lat"
    lon_label: str = "lon"
    weight_label: str = "weight"
    time_label: str = "time"
    lat_col: str | None = None
    lon_col: str | None = None
    weight_col: str | None = None
    time_col: str | None = None
    row_of: np.ndarray | None = None
    """For geometry inputs with MultiPoints: the source row of each point."""
    index_label: Callable[[int], Any] | None = None

    def report(self, **counts: Any) -> InputReport:
        """The report of these inputs: ``counts`` (rows_in, rows, dropped, ...) and the source
        column names."""
        return InputReport(
            **counts,
            lat_column=self.lat_col,
            lon_column=self.lon_col,
            weight_column=self.weight_col,
            time_column=self.time_col,
        )


def _raw_from_arrays(lat: Any, lon: Any, weight: Any, time: Any) -> _Raw:
    if lat is None or lon is None:
        missing = "lat" if lat is None else "lon"
        raise ValueError(
            f"{missing}= is missing: pass both lat= and lon= (arrays), or a table as data."
        )
    for role, v in (("lat", lat), ("lon", lon), ("weight", weight), ("time", time)):
        if isinstance(v, str):
            raise TypeError(
                f"{role}={v!r} is a column name but no data was given: pass the table "
                f"too, e.g. Heatmap(df, {role}={v!r})."
            )
    return _Raw(lat, lon, weight, time)


def _raw_from_source(src: _Source, lat: Any, lon: Any, weight: Any, time: Any) -> _Raw:
    raw = _Raw(None, None, None, None, index_label=src.index_label)
    if src.points is not None and lat is None and lon is None:
        raw.lat, raw.lon = src.points.lat, src.points.lon
        raw.lat_label = f"latitude of {src.points.label}"
        raw.lon_label = f"longitude of {src.points.label}"
        raw.lat_col = raw.lon_col = src.geometry_column
        raw.row_of = src.points.row_of
    else:
        raw.lat_col = _find_column(src, lat, "lat", LAT_NAMES)
        raw.lon_col = _find_column(src, lon, "lon", LON_NAMES)
        if raw.lat_col == raw.lon_col:
            raise ValueError(f"lat and lon are the same column {raw.lat_col!r}.")
        raw.lat_label = f"latitude column {raw.lat_col!r}"
        raw.lon_label = f"longitude column {raw.lon_col!r}"
        raw.lat, raw.lon = src.get(raw.lat_col), src.get(raw.lon_col)
    if weight is not None:
        raw.weight_col = _find_column(src, weight, "weight", ())
        raw.weight_label = f"weight column {raw.weight_col!r}"
        raw.weight = src.get(raw.weight_col)
    if time is not None:
        raw.time_col = _find_column(src, time, "time", ())
        raw.time_label = f"time column {raw.time_col!r}"
        raw.time = src.get(raw.time_col)
    return raw


def _wrap_lons(lons: np.ndarray) -> tuple[np.ndarray, int]:
    lon_min, lon_max = float(lons.min()), float(lons.max())
    if lon_min >= -180.0 and lon_max < 180.0:
        return lons, 0
    # k = 0 for longitudes in range, and lons - 0 is exact: they are not changed.
    original = lons
    lons = lons - 360.0 * np.floor((lons + 180.0) / 360.0)
    # Rounding of lon + 180 can land a hair outside [-180, 180): fold it back.
    if float(lons.min()) < -180.0 or float(lons.max()) >= 180.0:
        lons[lons >= 180.0] -= 360.0
        lons[lons < -180.0] += 360.0
    return lons, int(np.count_nonzero(lons != original))


def _check_weights(weights: np.ndarray, label: str, row: Callable[[int], str]) -> np.ndarray:
    n = len(weights)
    w_min = float(weights.min()) if n else 0.0
    w_max = float(weights.max()) if n else 0.0
    if not (w_min >= 0.0) or not np.isfinite(w_max):  # NaN fails both comparisons
        bad = ~(weights >= 0.0) | ~np.isfinite(weights)
        i = int(np.flatnonzero(bad)[0])
        v = float(weights[i])
        if np.isnan(v):
            fix = "fill them (e.g. df[col].fillna(0)) or drop those rows"
        elif v < 0:
            fix = "weights must be >= 0: clip them (np.clip(w, 0, None)) or shift them"
        else:
            fix = "weights must be finite"
        raise ValueError(f"{label} has {v!r} at {row(i)}: {fix}.")
    with np.errstate(over="ignore"):  # overflow is reported just below
        w32 = weights.astype(np.float32, copy=False)
    if n and not np.isfinite(float(w32.max())):
        i = int(np.flatnonzero(~np.isfinite(w32))[0])
        raise ValueError(
            f"{label} has {float(weights[i])!r} at {row(i)}, beyond float32's "
            "range (3.4e38): scale the weights down."
        )
    return w32


def to_table(
    data: Any = None,
    *,
    lat: Any = None,
    lon: Any = None,
    weight: Any = None,
    time: Any = None,
    time_unit: str = "s",
    stacklevel: int = 2,
) -> tuple[Any, InputReport]:
    """Turn any accepted input into ``(canonical table, report)``; see the module docstring.

    Raises ``ValueError`` (missing or non-numeric column, mismatched lengths, latitude beyond
    ±90, negative/NaN/infinite weight, mixed kinds of time, non-point geometry),
    ``TypeError`` (unsupported input), ``FileNotFoundError`` (a path that is not a file) and
    ``ImportError`` (an optional library a form needs, naming the extra) with messages that
    name the column, the row and value, and a fix. ``stacklevel`` is passed to the warnings.
    """
    if data is None:
        if lat is None and lon is None:
            for role, v in (("weight", weight), ("time", time)):
                if v is not None:
                    raise ValueError(f"{role}= was given without lat= and lon=.")
            return empty_table(), InputReport(rows_in=0, rows=0)
        raw = _raw_from_arrays(lat, lon, weight, time)
    else:
        raw = _raw_from_source(_source(data), lat, lon, weight, time)
    if not HAS_NUMPY:
        from .inputs_pure import _to_table_pure

        return _to_table_pure(raw, time_unit, stacklevel + 1)

    lats = _to_float(raw.lat, raw.lat_label)
    lons = _to_float(raw.lon, raw.lon_label)
    weights = None if raw.weight is None else _to_float(raw.weight, raw.weight_label)
    times = None if raw.time is None else _to_time_ms(raw.time, raw.time_label, time_unit)
    if raw.row_of is not None:  # MultiPoints: each member takes its feature's values
        weights = None if weights is None else weights[raw.row_of]
        times = None if times is None else times[raw.row_of]
    lengths = {raw.lat_label: len(lats), raw.lon_label: len(lons)}
    if weights is not None:
        lengths[raw.weight_label] = len(weights)
    if times is not None:
        lengths[raw.time_label] = len(times)
    if len(set(lengths.values())) > 1:
        parts = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"columns have different lengths: {parts}. Give one value per point.")

    index_label = raw.index_label if raw.row_of is None else None
    n_in = len(lats)
    kept: np.ndarray | None = None  # mask of the rows kept, when some were dropped
    dropped = 0
    check = lats.min() + lats.max() + lons.min() + lons.max() if n_in else 0.0
    if times is not None and n_in:
        check += times.min() + times.max()
    if n_in and not np.isfinite(check):
        # min/max propagate NaN, so this full pass runs only when something is not finite.
        kept = np.isfinite(lats)
        kept &= np.isfinite(lons)
        what = "latitude or longitude"
        if times is not None:
            kept &= np.isfinite(times)
            what = "latitude, longitude or time"
        dropped = n_in - int(np.count_nonzero(kept))
        first = int(np.argmin(kept))
        warnings.warn(
            f"heatwidget dropped {dropped:,} of {n_in:,} rows whose {what} is missing "
            f"(NaN/None) or infinite (first at {_row_text(first, index_label)}). "
            "Drop or fill them first to silence this.",
            DroppedRowsWarning,
            stacklevel=stacklevel,
        )
        lats, lons = lats[kept], lons[kept]
        weights = None if weights is None else weights[kept]
        times = None if times is None else times[kept]

    def original_row(i: int) -> str:
        row = i if kept is None else int(np.flatnonzero(kept)[i])
        return _row_text(row, index_label)

    n = len(lats)
    clamped = wrapped = 0
    bounds: Bounds | None = None
    if n:
        lat_min, lat_max = float(lats.min()), float(lats.max())
        if lat_min < -90.0 or lat_max > 90.0:
            i = int(np.flatnonzero(np.abs(lats) > 90.0)[0])
            swap = ""
            if float(np.abs(lons).max()) <= 90.0 and max(-lat_min, lat_max) <= 180.0:
                swap = " Are latitude and longitude swapped? Pass lat=/lon= explicitly."
            raise ValueError(
                f"{raw.lat_label} has {_show(lats[i])} at {original_row(i)}: latitudes must be "
                f"within ±90 degrees.{swap} If the values are projected coordinates (metres), "
                "convert them to degrees (EPSG:4326) first."
            )
        if lat_min < -MAX_LATITUDE or lat_max > MAX_LATITUDE:
            edge = np.abs(lats) > MAX_LATITUDE
            clamped = int(np.count_nonzero(edge))
            lats = np.clip(lats, -MAX_LATITUDE, MAX_LATITUDE)
            warnings.warn(
                f"{clamped:,} rows have latitudes beyond ±{MAX_LATITUDE:.4f}°, the edge of the "
                "Web Mercator map: they are drawn at its top or bottom edge.",
                MercatorEdgeWarning,
                stacklevel=stacklevel,
            )
        lons, wrapped = _wrap_lons(lons)
        bounds = (float(lats.min()), float(lons.min()), float(lats.max()), float(lons.max()))

    columns: dict[str, np.ndarray] = {
        "lon": np.asarray(lons, np.float64),
        "lat": np.asarray(lats, np.float64),
    }
    if weights is not None:
        columns["weight"] = _check_weights(weights, raw.weight_label, original_row)
    if times is not None:
        columns["time"] = np.asarray(times, np.float64)

    report = raw.report(
        rows_in=n_in, rows=n, dropped=dropped, clamped=clamped, wrapped=wrapped, bounds=bounds
    )
    return _build(columns), report

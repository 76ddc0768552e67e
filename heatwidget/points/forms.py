"""Input forms → where their columns are: one small reader per form, chosen in :func:`source`.

With a table-like ``data``, ``lat``/``lon``/``weight``/``time`` are column names (GeoJSON:
property names); ``lat``/``lon`` default to the geometry column if there is one, else to an
unambiguous column name (:data:`LAT_NAMES`, :data:`LON_NAMES`, any case). Without numpy only
dicts of columns and Arrow tables (through arro3) are read.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import deps
from .checks import Raw
from .schema import LAT_NAMES, LON_NAMES

if TYPE_CHECKING:
    from . import readers as _readers

__all__ = ["Source", "raw_from_arrays", "raw_from_source", "source"]

_GEOJSON_TYPES = frozenset(
    {"FeatureCollection", "Feature", "Point", "MultiPoint", "GeometryCollection"}
)
_NO_NUMPY = (
    "numpy is not installed: without it heatwidget reads lat=/lon=/weight=/time= as lists, "
    "tuples or array.array, a dict of such columns, or an Arrow table or array (through "
    "arro3). Install numpy (pip install numpy; in JupyterLite %pip install numpy) for "
    "DataFrames, files, GeoJSON and geometry columns."
)


class Source:
    """Uniform access to the columns of one table-like input (and its points, if geometric)."""

    def __init__(self, kind: str, columns: Sequence[Any], get: Callable[[Any], Any]) -> None:
        self.kind = kind
        self.columns = [str(c) for c in columns]
        self._keys = {str(c): c for c in columns}
        self._get = get
        self.index_label: Callable[[int], Any] | None = None
        self.points: _readers.Points | None = None
        """Coordinates decoded from a geometry column, used when lat=/lon= are not given."""
        self.geometry_column: str | None = None

    def get(self, name: str) -> Any:
        return self._get(self._keys[name])


def _is_dataframe(obj: Any) -> bool:
    pd = deps.pandas()
    return pd is not None and isinstance(obj, pd.DataFrame)


def _from_pandas(df: Any) -> Source:
    src = Source("DataFrame", list(df.columns), lambda k: df[k])
    pd = deps.pandas()
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        src.index_label = lambda i: df.index[i]
    return src


def _from_geopandas(gdf: Any) -> Source:
    from . import readers  # needs numpy

    geometry = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geometry]
    src = _from_pandas(gdf[columns])
    src.kind = "GeoDataFrame"
    src.points = readers.geodataframe_points(gdf)
    src.geometry_column = str(geometry)
    return src


def _from_arrow(table: Any, kind: str) -> Source:
    """A pyarrow Table/RecordBatch or an arro3 Table; GeoArrow/WKB columns become points."""
    from . import geoarrow  # needs numpy

    found = geoarrow.arrow_geometry(table, kind)
    names = list(table.column_names)
    src = Source(kind, [n for n in names if found is None or n != found[0]], table.column)
    if found is not None:
        src.geometry_column, src.points = found
    return src


def _from_capsule(data: Any) -> Source:
    """polars, duckdb, arro3, … : anything speaking the Arrow PyCapsule stream interface."""
    pa = deps.pyarrow()
    if pa is not None:
        try:
            table = pa.table(data)
        except pa.ArrowException as e:  # a column type pyarrow cannot import
            raise ValueError(
                f"could not read the {type(data).__name__} through the Arrow interface "
                f"(pyarrow: {e}). Cast the columns of types Arrow lacks (such as polars' Int128 "
                "for integers beyond int64) first, e.g. "
                'df.with_columns(pl.col("lon").cast(pl.Float64)), or pass lat=/lon= arrays.'
            ) from None
        return _from_arrow(table, type(data).__name__)
    ac = deps.require("arro3.core", f"reading a {type(data).__name__} without pyarrow")
    return _from_arrow(ac.Table.from_arrow(data), type(data).__name__)


def _from_geojson(obj: Mapping[str, Any]) -> Source:
    from . import readers  # needs numpy

    columns, points = readers.geojson_columns(obj)
    src = Source("GeoJSON properties", list(columns), columns.__getitem__)
    src.points = points
    src.geometry_column = "geometry"
    return src


def _source_without_numpy(data: Any) -> Source:
    """:func:`source` without numpy: dicts of columns and Arrow tables (through arro3)."""
    if isinstance(data, (str, os.PathLike)):
        raise ImportError(f"reading the file {os.fspath(data)!r} needs numpy; {_NO_NUMPY}")
    if isinstance(data, Mapping):
        if data.get("type") in _GEOJSON_TYPES and "lat" not in data and "lon" not in data:
            raise ImportError(f"reading a GeoJSON {data.get('type')} needs numpy; {_NO_NUMPY}")
        return Source("dict", list(data.keys()), data.__getitem__)
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        ac = deps.require("arro3.core", f"reading a {type(data).__name__} without pyarrow")
        table = ac.Table.from_arrow(data)
        return Source(type(data).__name__, list(table.column_names), table.column)
    raise TypeError(
        f"unsupported data of type {type(data).__module__}.{type(data).__qualname__}: {_NO_NUMPY}"
    )


def source(data: Any) -> Source:
    """Dispatch on the type of ``data`` to its reader."""
    if not deps.has_numpy():
        return _source_without_numpy(data)
    import numpy as np

    from . import readers  # needs numpy

    if isinstance(data, (str, os.PathLike)):
        return source(readers.read_path(data))
    if readers.is_geodataframe(data):
        return _from_geopandas(data)
    if _is_dataframe(data):
        return _from_pandas(data)
    pa = deps.pyarrow() if "pyarrow" in sys.modules else None
    if pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        return _from_arrow(data, type(data).__name__)
    if readers.is_geojson(data):
        return _from_geojson(data)
    if isinstance(data, Mapping):
        return Source("dict", list(data.keys()), data.__getitem__)
    if hasattr(data, "__arrow_c_stream__"):
        return _from_capsule(data)
    if isinstance(data, np.ndarray):
        if data.dtype.names:
            return Source("structured array", list(data.dtype.names), data.__getitem__)
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


def _find_column(src: Source, given: Any, role: str, candidates: Sequence[str]) -> str:
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


def raw_from_arrays(lat: Any, lon: Any, weight: Any, time: Any) -> Raw:
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
    return Raw(lat, lon, weight, time)


def raw_from_source(src: Source, lat: Any, lon: Any, weight: Any, time: Any) -> Raw:
    raw = Raw(None, None, None, None, index_label=src.index_label)
    if src.points is not None and lat is None and lon is None:
        raw.lat, raw.lon = src.points.lat, src.points.lon
        raw.lat_label = f"latitude of {src.points.label}"
        raw.lon_label = f"longitude of {src.points.label}"
        raw.lat_col = raw.lon_col = src.geometry_column
        raw.row_of = src.points.row_of
        raw.geometry_label = src.points.label
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

"""Readers for the input forms that are not plain columns: files, GeoJSON, geometries.

Each function here (and in :mod:`heatwidget.points.geoarrow`, for geometry columns of Arrow
tables) turns one form into something :mod:`heatwidget.points.forms` already reads (a
table-like object) or into point coordinates (:class:`Points`): file paths (CSV, Parquet,
GeoParquet, Arrow IPC, GeoJSON), GeoJSON FeatureCollections, geopandas GeoDataFrames, and
GeoArrow / WKB geometry columns of Arrow tables.

Decisions (documented in :func:`heatwidget.points.to_table` too):

* Only Point and MultiPoint geometries are accepted; any other type is an error that names the
  type, the row and the fix (``gdf.centroid`` or ``gdf.representative_point()``): a heatmap of
  polygon centroids is a choice the user should make knowingly, not one made silently.
* A MultiPoint is one point per member; each member carries its feature's weight and time.
* Null or empty geometries (``shapely.Point()``, an empty MultiPoint) become NaN coordinates,
  so they are dropped with the usual warning, which counts them.
* Coordinates in another CRS are reprojected to WGS84 (geopandas ``to_crs(4326)``, pyproj for
  GeoArrow/GeoParquet); GeoJSON is WGS84 by definition (RFC 7946).

Optional libraries are imported lazily; a missing one is an ImportError naming the extra.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .deps import require

__all__ = [
    "GEO_HINT",
    "Points",
    "geodataframe_points",
    "geojson_columns",
    "installed",
    "is_geodataframe",
    "is_geojson",
    "read_path",
]

GEO_HINT = "gdf.centroid (or gdf.representative_point(), which lies inside each shape)"


@dataclass(frozen=True)
class Points:
    """Point coordinates decoded from geometries, in degrees (WGS84)."""

    lon: np.ndarray
    lat: np.ndarray
    row_of: np.ndarray | None
    """For each point, the source row it came from (None when it is one point per row)."""
    label: str
    """How to name the geometry in messages, e.g. "geometry column 'geometry'"."""


# ---- files ---------------------------------------------------------------------------------

_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.bz2", ".csv.zst")
_PARQUET = (".parquet", ".geoparquet", ".pq", ".parq")
_JSON = (".geojson", ".json")
_ARROW = (".arrow", ".feather", ".ipc", ".arrows")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*_CSV, *_PARQUET, *_JSON, *_ARROW):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def read_path(path: str | os.PathLike[str]) -> Any:
    """A file → a table (pyarrow Table, pandas DataFrame or arro3 Table) or a GeoJSON dict."""
    p = Path(path).expanduser()
    if not p.is_file():
        what = "a directory" if p.is_dir() else "no such file"
        raise FileNotFoundError(
            f"data={str(path)!r} is {what}. Pass the path of a .csv, .parquet, .geoparquet, "
            ".geojson/.json or .arrow file (or the data itself)."
        )
    suffix = _suffix(p)
    if suffix in _JSON:
        with p.open("rb") as f:
            obj = json.load(f)
        if not is_geojson(obj):
            kind = obj.get("type") if isinstance(obj, Mapping) else type(obj).__name__
            raise ValueError(
                f"{p.name} is JSON but not a GeoJSON FeatureCollection/Feature (type {kind!r}). "
                "For a table of columns, load it with pandas.read_json and pass the DataFrame."
            )
        return obj
    if suffix in _CSV:
        return _read_csv(p, suffix)
    if suffix in _PARQUET:
        return _read_parquet(p)
    if suffix in _ARROW:
        return _read_ipc(p)
    raise ValueError(
        f"don't know how to read {p.name!r} (suffix {suffix or 'none'!r}): heatwidget reads "
        f"{', '.join(_CSV[:2] + _PARQUET[:2] + _JSON + _ARROW[:2])} files. Load it yourself "
        "(pandas, polars, geopandas) and pass the table."
    )


def installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _read_csv(p: Path, suffix: str) -> Any:
    sep = "\t" if suffix.startswith(".tsv") else ","
    if installed("pyarrow"):
        import pyarrow.csv as pacsv

        return pacsv.read_csv(p, parse_options=pacsv.ParseOptions(delimiter=sep))
    if installed("pandas"):
        import pandas as pd

        return pd.read_csv(p, sep=sep)
    aio = require("arro3.io", f"reading {p.name}")
    return aio.read_csv(str(p), aio.infer_csv_schema(str(p), delimiter=sep), delimiter=sep)


def _read_parquet(p: Path) -> Any:
    if installed("pyarrow"):
        import pyarrow.parquet as pq

        return pq.read_table(p)
    aio = require("arro3.io", f"reading {p.name}")
    return aio.read_parquet(str(p)).read_all()


def _read_ipc(p: Path) -> Any:
    if installed("pyarrow"):
        import pyarrow as pa
        import pyarrow.ipc as ipc

        with p.open("rb") as f:
            head = f.read(6)
        if head == b"ARROW1":
            return ipc.open_file(p).read_all()
        with pa.OSFile(str(p)) as f:
            return ipc.open_stream(f).read_all()
    aio = require("arro3.io", f"reading {p.name}")
    with p.open("rb") as f:
        head = f.read(6)
    reader = aio.read_ipc(str(p)) if head == b"ARROW1" else aio.read_ipc_stream(str(p))
    return reader.read_all()


# ---- GeoJSON -------------------------------------------------------------------------------


def is_geojson(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("type") in ("FeatureCollection", "Feature")


def geojson_columns(obj: Mapping[str, Any]) -> tuple[dict[str, list[Any]], Points]:
    """A FeatureCollection (or one Feature) → its properties as columns, and its points.

    Point and MultiPoint features; a null geometry or an empty MultiPoint gives NaN
    coordinates (dropped later with a warning). Properties missing from a feature are None.
    """
    features = obj.get("features") if obj.get("type") == "FeatureCollection" else [obj]
    if not isinstance(features, Sequence):
        raise ValueError("GeoJSON FeatureCollection has no 'features' list.")
    lon: list[float] = []
    lat: list[float] = []
    row_of: list[int] = []
    props: list[Mapping[str, Any]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise ValueError(f"GeoJSON features[{i}] is not a Feature: {str(feature)[:80]}")
        props.append(feature.get("properties") or {})
        geom = feature.get("geometry")
        gtype = geom.get("type") if isinstance(geom, Mapping) else None
        coords = geom.get("coordinates") if isinstance(geom, Mapping) else None
        if geom is None:
            members: list[Any] = [[np.nan, np.nan]]
        elif gtype == "Point":
            members = [coords if coords else [np.nan, np.nan]]
        elif gtype == "MultiPoint":
            members = list(coords or []) or [[np.nan, np.nan]]
        else:
            raise ValueError(
                f"GeoJSON features[{i}] has a {gtype} geometry: heatwidget draws points "
                "(Point, MultiPoint). Turn shapes into points first, e.g. with geopandas: "
                f"gdf = geopandas.read_file(path); gdf.geometry = {GEO_HINT}."
            )
        for c in members:
            if not isinstance(c, Sequence) or len(c) < 2:
                raise ValueError(
                    f"GeoJSON features[{i}] has a bad position {c!r}: want [lon, lat]."
                )
            lon.append(np.nan if c[0] is None else c[0])
            lat.append(np.nan if c[1] is None else c[1])
            row_of.append(i)
    names: dict[str, None] = {}
    for p in props:
        names.update(dict.fromkeys(p))
    columns = {name: [p.get(name) for p in props] for name in names}
    n = len(props)
    try:
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"GeoJSON coordinates are not all numbers: {e}") from e
    rows = np.asarray(row_of, dtype=np.intp)
    same = len(rows) == n and bool(np.array_equal(rows, np.arange(n)))
    return columns, Points(lon_arr, lat_arr, None if same else rows, "GeoJSON geometry")


# ---- geopandas -----------------------------------------------------------------------------


def is_geodataframe(obj: Any) -> bool:
    gpd = sys.modules.get("geopandas")
    return gpd is not None and isinstance(obj, gpd.GeoDataFrame)


def _shapely_points(geoms: np.ndarray, label: str) -> Points:
    """An array of shapely geometries → Points; non-point geometries are an error."""
    shapely = require("shapely", "reading geometries")
    types = shapely.get_type_id(geoms)  # -1 for None; 0 Point, 4 MultiPoint
    bad = ~np.isin(types, (-1, 0, 4))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        gtype = geoms[i].geom_type
        ids, nums = np.unique(types[bad], return_counts=True)
        counts = {str(t): int(c) for t, c in zip(ids, nums, strict=True)}
        raise ValueError(
            f"{label} has a {gtype} at row {i} ({int(bad.sum()):,} non-point geometries, type "
            f"ids {counts}): heatwidget draws points (Point, MultiPoint). Use {GEO_HINT} to "
            "turn shapes into points."
        )
    # Empty geometries (shapely.Point(), an empty MultiPoint) are missing like None: GEOS
    # refuses get_x on them. They become NaN points, dropped with the usual warning.
    empty = shapely.is_empty(geoms)
    if empty.any():
        geoms = geoms.copy()
        geoms[empty] = None
    row_of = None
    if (types == 4).any():
        parts, index = shapely.get_parts(geoms, return_index=True)
        # Rows with a null or empty geometry keep one NaN point, so that they count as dropped.
        missing = np.setdiff1d(np.arange(len(geoms)), index)
        if len(missing):
            parts = np.concatenate([parts, np.full(len(missing), None, dtype=object)])
            index = np.concatenate([index, missing])
            order = np.argsort(index, kind="stable")
            parts, index = parts[order], index[order]
        geoms, row_of = parts, index
    with np.errstate(invalid="ignore"):
        lon = shapely.get_x(geoms)
        lat = shapely.get_y(geoms)
    lon = np.where(shapely.is_missing(geoms), np.nan, lon)
    lat = np.where(shapely.is_missing(geoms), np.nan, lat)
    return Points(np.asarray(lon, np.float64), np.asarray(lat, np.float64), row_of, label)


def geodataframe_points(gdf: Any) -> Points:
    """A GeoDataFrame's active geometry → WGS84 points (reprojected with to_crs(4326))."""
    geo = gdf.geometry
    label = f"geometry column {geo.name!r}"
    if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
        label += f" (reprojected from {gdf.crs.to_string()} to EPSG:4326)"
    return _shapely_points(np.asarray(geo.values, dtype=object), label)

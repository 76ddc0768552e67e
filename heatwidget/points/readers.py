"""Readers for the input forms that are not plain columns: files, GeoJSON, geometries.

Each function here turns one form into something :mod:`heatwidget.points.forms` already reads (a
table-like object) or into point coordinates (:class:`Points`): file paths (CSV, Parquet,
GeoParquet, Arrow IPC, GeoJSON), GeoJSON FeatureCollections, geopandas GeoDataFrames, and
GeoArrow / WKB geometry columns of Arrow tables.

Decisions (documented in :func:`heatwidget.points.to_table` too):

* Only Point and MultiPoint geometries are accepted; any other type is an error that names the
  type, the row and the fix (``gdf.centroid`` or ``gdf.representative_point()``): a heatmap of
  polygon centroids is a choice the user should make knowingly, not one made silently.
* A MultiPoint is one point per member; each member carries its feature's weight and time.
* Null or empty geometries become NaN coordinates, so they are dropped with the usual warning.
* Coordinates in another CRS are reprojected to WGS84 (geopandas ``to_crs(4326)``, pyproj for
  GeoArrow/GeoParquet); GeoJSON is WGS84 by definition (RFC 7946).

Optional libraries are imported lazily; a missing one is an ImportError naming the extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
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
    "arrow_geometry",
    "geodataframe_points",
    "geojson_columns",
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


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _read_csv(p: Path, suffix: str) -> Any:
    sep = "\t" if suffix.startswith(".tsv") else ","
    if _installed("pyarrow"):
        import pyarrow.csv as pacsv

        return pacsv.read_csv(p, parse_options=pacsv.ParseOptions(delimiter=sep))
    if _installed("pandas"):
        import pandas as pd

        return pd.read_csv(p, sep=sep)
    aio = require("arro3.io", f"reading {p.name}")
    return aio.read_csv(str(p), aio.infer_csv_schema(str(p), delimiter=sep), delimiter=sep)


def _read_parquet(p: Path) -> Any:
    if _installed("pyarrow"):
        import pyarrow.parquet as pq

        return pq.read_table(p)
    aio = require("arro3.io", f"reading {p.name}")
    return aio.read_parquet(str(p)).read_all()


def _read_ipc(p: Path) -> Any:
    if _installed("pyarrow"):
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


# ---- GeoArrow / WKB columns of Arrow tables ------------------------------------------------

_EXT_NAME = b"ARROW:extension:name"
_EXT_META = b"ARROW:extension:metadata"
_WGS84_IDS = {("EPSG", "4326"), ("OGC", "CRS84"), ("EPSG", "4979"), ("OGC", "CRS84h")}


def _is_wgs84(crs: Any) -> bool:
    if crs is None or crs == "":
        return True
    if isinstance(crs, str):
        return crs.upper().replace(" ", "") in {"EPSG:4326", "OGC:CRS84", "WGS84", "CRS84"}
    if isinstance(crs, Mapping):
        ident = crs.get("id")
        if isinstance(ident, Mapping):
            return (str(ident.get("authority")), str(ident.get("code"))) in _WGS84_IDS
    return False


def _geo_columns(table: Any) -> dict[str, tuple[str, Any]]:
    """name → (encoding, crs) of the geometry columns of an Arrow table (pyarrow or arro3)."""
    found: dict[str, tuple[str, Any]] = {}
    schema = table.schema
    meta = dict(schema.metadata or {})
    geo = meta.get(b"geo")
    if geo:
        try:
            info = json.loads(geo)
            for name, col in (info.get("columns") or {}).items():
                found[name] = (str(col.get("encoding", "WKB")).lower(), col.get("crs"))
        except (ValueError, AttributeError):
            pass
    for field in schema:
        fmeta = dict(field.metadata or {})
        ext = fmeta.get(_EXT_NAME)
        ext_type = getattr(field.type, "extension_name", None)
        if ext is None and ext_type is not None:
            ext = ext_type.encode()
            ser = getattr(field.type, "__arrow_ext_serialize__", None)
            fmeta[_EXT_META] = ser() if ser else b""
        if ext in (b"geoarrow.point", b"geoarrow.wkb", b"ogc.wkb"):
            crs = None
            with contextlib.suppress(ValueError):
                crs = json.loads(fmeta.get(_EXT_META) or b"{}").get("crs")
            encoding = "point" if ext == b"geoarrow.point" else "wkb"
            found[field.name] = (
                encoding,
                crs if crs is not None else found.get(field.name, ("", None))[1],
            )
    return found


def arrow_geometry(table: Any, kind: str) -> tuple[str, Points] | None:
    """The one geometry column of an Arrow table as WGS84 points, or None when it has none."""
    geo = _geo_columns(table)
    if not geo:
        return None
    meta = dict(table.schema.metadata or {})
    name = next(iter(geo))
    if len(geo) > 1:
        primary = json.loads(meta.get(b"geo", b"{}") or b"{}").get("primary_column")
        if primary not in geo:
            raise ValueError(
                f"the {kind} has several geometry columns ({', '.join(map(repr, geo))}): keep "
                "one, or pass lat=/lon= columns."
            )
        name = primary
    encoding, crs = geo[name]
    label = f"geometry column {name!r}"
    column = table.column(name)
    if encoding == "point":
        lon, lat = _geoarrow_xy(column, label)
        pts = Points(lon, lat, None, label)
    elif encoding in ("wkb", "geoarrow.wkb"):
        fast = _wkb_fast(column)
        if fast is not None:
            pts = Points(fast[0], fast[1], None, label)
        else:
            pts = _wkb_points(_binary_values(column), label)
    else:
        raise ValueError(
            f"{label} has GeoArrow encoding {encoding!r}: heatwidget reads 'point' and 'WKB' "
            "geometry columns."
        )
    if not _is_wgs84(crs):
        pyproj = require("pyproj", f"reprojecting {label} to WGS84")
        transformer = pyproj.Transformer.from_crs(
            pyproj.CRS.from_user_input(crs), "EPSG:4326", always_xy=True
        )
        lon, lat = transformer.transform(pts.lon, pts.lat)
        pts = Points(np.asarray(lon), np.asarray(lat), pts.row_of, label + " (reprojected)")
    return name, pts


def _pyarrow_of(column: Any) -> Any:
    import pyarrow as pa

    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column
    return pa.chunked_array(column)


def _pyarrow_storage(column: Any) -> Any:
    """``column`` as one pyarrow Array, an extension type's storage rather than the wrapper."""
    import pyarrow as pa

    col = _pyarrow_of(column)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if isinstance(col, pa.ExtensionArray):
        col = col.storage
    return col


def _geoarrow_xy(column: Any, label: str) -> tuple[np.ndarray, np.ndarray]:
    """A geoarrow.point column (struct<x, y, ...> or fixed_size_list<double>[2|3|4])."""
    if _installed("pyarrow"):
        import pyarrow as pa

        col = _pyarrow_storage(column)
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        if pa.types.is_struct(col.type):
            x = col.field(0).to_numpy(zero_copy_only=False).astype(np.float64)
            y = col.field(1).to_numpy(zero_copy_only=False).astype(np.float64)
        elif pa.types.is_fixed_size_list(col.type):
            size = col.type.list_size
            flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
            flat = flat.reshape(-1, size)
            x, y = flat[:, 0], flat[:, 1]
        else:
            raise ValueError(f"{label} is geoarrow.point with storage {col.type}: not readable")
        return np.where(valid, x, np.nan), np.where(valid, y, np.nan)
    ac = require("arro3.core", f"reading {label}")
    col = ac.ChunkedArray.from_arrow(column).combine_chunks()
    if col.type.is_struct(col.type):
        x = ac.struct_field(col, [0]).to_numpy()
        y = ac.struct_field(col, [1]).to_numpy()
    else:
        size = col.type.list_size
        flat = ac.list_flatten(col).to_numpy().reshape(-1, size)
        x, y = flat[:, 0], flat[:, 1]
    return np.asarray(x, np.float64), np.asarray(y, np.float64)


def _wkb_fast(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised decoding when every value is a little-endian 2-D WKB Point (21 bytes)."""
    if not _installed("pyarrow"):
        return None
    import pyarrow as pa

    col = _pyarrow_storage(column)
    if col.null_count or not (pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)):
        return None
    n = len(col)
    _, offsets_buf, data_buf = col.buffers()
    off_type = np.int64 if pa.types.is_large_binary(col.type) else np.int32
    offsets = np.frombuffer(offsets_buf, off_type)[col.offset : col.offset + n + 1]
    if n == 0 or not bool(np.all(np.diff(offsets) == 21)):
        return None
    raw = np.frombuffer(data_buf, np.uint8)[offsets[0] : offsets[0] + 21 * n].reshape(n, 21)
    if not bool(np.all(raw[:, 0] == 1)):
        return None
    if not bool(np.all(raw[:, 1:5].copy().view("<u4")[:, 0] == 1)):
        return None
    x = raw[:, 5:13].copy().view("<f8")[:, 0]
    y = raw[:, 13:21].copy().view("<f8")[:, 0]
    return x.astype(np.float64), y.astype(np.float64)


def _binary_values(column: Any) -> list[bytes | None]:
    if _installed("pyarrow"):
        return list(_pyarrow_storage(column).to_pylist())
    ac = require("arro3.core", "reading WKB geometries")
    return list(ac.ChunkedArray.from_arrow(column).to_pylist())


_WKB_NAMES = {
    1: "Point",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _wkb_points(values: Sequence[bytes | None], label: str) -> Points:
    """WKB (ISO or EWKB; 2-D, Z, M, ZM) Points and MultiPoints → coordinates. No shapely needed."""
    lon: list[float] = []
    lat: list[float] = []
    rows: list[int] = []
    for i, wkb in enumerate(values):
        coords = [(np.nan, np.nan)] if wkb is None else _wkb_read(bytes(wkb), i, label)
        for x, y in coords or [(np.nan, np.nan)]:
            lon.append(x)
            lat.append(y)
            rows.append(i)
    row_arr = np.asarray(rows, dtype=np.intp)
    same = len(row_arr) == len(values)
    return Points(
        np.asarray(lon, np.float64), np.asarray(lat, np.float64), None if same else row_arr, label
    )


def _wkb_header(buf: bytes, pos: int) -> tuple[str, int, int, int]:
    """(byte order, base type, dimensions, position after the header)."""
    order = "<" if buf[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    dims = 2
    if code & 0x20000000:  # EWKB SRID
        pos += 4
    if code & 0x80000000:
        dims += 1
    if code & 0x40000000:
        dims += 1
    code &= 0x0FFFFFFF
    base = code % 1000
    dims += {1: 1, 2: 1, 3: 2}.get(code // 1000, 0)
    return order, base, dims, pos


def _wkb_read(buf: bytes, row: int, label: str) -> list[tuple[float, float]]:
    order, base, _dims, pos = _wkb_header(buf, 0)
    if base == 1:
        x, y = struct.unpack_from(order + "dd", buf, pos)
        return [(x, y)]
    if base == 4:
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        out = []
        for _ in range(n):
            o2, _b, d2, pos = _wkb_header(buf, pos)
            x, y = struct.unpack_from(o2 + "dd", buf, pos)
            pos += 8 * d2
            out.append((x, y))
        return out
    name = _WKB_NAMES.get(base, f"geometry type {base}")
    raise ValueError(
        f"{label} has a {name} at row {row}: heatwidget draws points (Point, MultiPoint). "
        f"Turn shapes into points first, e.g. with geopandas: {GEO_HINT}."
    )

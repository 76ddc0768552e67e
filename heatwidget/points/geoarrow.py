"""GeoArrow point and WKB geometry columns of Arrow tables (GeoParquet) → :class:`Points`.

Only Point and MultiPoint geometries are accepted (see :mod:`heatwidget.points.readers`);
coordinates in another CRS are reprojected to WGS84 with pyproj.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .deps import require
from .readers import GEO_HINT, Points, installed

__all__ = ["arrow_geometry"]


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
    if installed("pyarrow"):
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
    if not installed("pyarrow"):
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
    if installed("pyarrow"):
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

"""``Shape``: a selection as a checked GeoJSON Polygon or MultiPolygon in lon/lat degrees.

Accepted: a GeoJSON geometry dict (``{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}``
or a MultiPolygon), a GeoJSON Feature holding one, or anything with ``__geo_interface__``
(shapely, geopandas geometries). Checked, with errors that name the ring, the vertex and the
fix (:class:`SelectionError`, a ValueError):

* coordinates are finite numbers, latitudes within ±90;
* every ring is closed (its last position repeats its first, as GeoJSON requires) and has at
  least 3 distinct vertices;
* no two edges cross or touch (a lasso drawn over itself): our own check (``crossings.py``),
  the same whether shapely is installed or not.

Across the antimeridian: each edge goes the short way round, so consecutive vertices are
never 180° of longitude or more apart (add a vertex in between for a wider edge). A box from
lon 170 to lon -170 is the 20° across the antimeridian, not the 340° around the world; a ring
may also be given with longitudes beyond ±180 (170 to 190: the same box).

Inside (``contains``): planar in lon/lat, as GeoJSON and shapely take it; points on the
boundary count as inside (``inside.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .crossings import Crossings
from .errors import SelectionError
from .inside import TOLERANCE, EvenOdd

__all__ = ["SelectionError", "Shape"]


_EXAMPLE = '{"type": "Polygon", "coordinates": [[[lon, lat], [lon, lat], [lon, lat], [lon, lat]]]}'


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise SelectionError(
            f"selection: {where} has a non-numeric coordinate {value!r}: positions are "
            "[lon, lat] numbers in degrees."
        )
    v = float(value)
    if not math.isfinite(v):
        raise SelectionError(f"selection: {where} has a non-finite coordinate {value!r}.")
    return v


def _unwrap(lons: np.ndarray, where: str) -> np.ndarray:
    """Longitudes of a ring made continuous: each edge the short way round."""
    step = np.diff(lons)
    wide = np.flatnonzero(np.abs((step + 180.0) % 360.0 - 180.0) == 180.0)
    if len(wide):
        k = int(wide[0])
        raise SelectionError(
            f"selection: {where}: vertices {k} and {k + 1} are exactly 180° of longitude "
            "apart, so the edge between them could go either way round: add a vertex between "
            "them."
        )
    # whole turns only, so the values stay exactly as given where no edge crosses the line
    turns = np.floor((step + 180.0) / 360.0)
    return lons - 360.0 * np.concatenate([[0.0], np.cumsum(turns)])


def _ring(positions: Any, where: str) -> np.ndarray:
    if isinstance(positions, (str, bytes)) or not isinstance(positions, Sequence):
        raise SelectionError(
            f"selection: {where} is not a list of [lon, lat] positions; want {_EXAMPLE}."
        )
    pts: list[tuple[float, float]] = []
    for k, p in enumerate(positions):
        at = f"{where}, vertex {k}"
        if isinstance(p, (str, bytes)) or not isinstance(p, Sequence) or len(p) < 2:
            raise SelectionError(f"selection: {at} is {p!r}, not a [lon, lat] position.")
        lon, lat = _number(p[0], at), _number(p[1], at)
        if abs(lat) > 90.0:
            raise SelectionError(
                f"selection: {at} has latitude {lat!r}: latitudes are within ±90 (is it "
                "[lat, lon]? GeoJSON positions are [lon, lat])."
            )
        pts.append((lon, lat))
    if pts and pts[0] != pts[-1]:
        raise SelectionError(
            f"selection: {where} is not closed: its last vertex {list(pts[-1])} differs "
            f"from its first {list(pts[0])}. Repeat the first vertex at the end (GeoJSON "
            "rings are closed)."
        )
    arr = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    if len(arr):
        arr[:, 0] = _unwrap(arr[:, 0], where)
        if arr[-1, 0] != arr[0, 0]:
            raise SelectionError(
                f"selection: {where} goes once around the world (its longitudes wind by "
                f"{arr[-1, 0] - arr[0, 0]:+.0f}°): a selection cannot circle a pole; split it."
            )
    # repeated consecutive vertices say nothing
    if len(arr) > 1:
        arr = arr[np.concatenate([[True], np.any(arr[1:] != arr[:-1], axis=1)])]
    distinct = len({(float(x), float(y)) for x, y in arr[:-1]}) if len(arr) else 0
    if distinct < 3:
        raise SelectionError(
            f"selection: {where} has {distinct} distinct vertices: a ring needs at least 3 "
            f"(and the first repeated at the end), e.g. {_EXAMPLE}."
        )
    return arr


def _geometry(value: Any) -> Mapping[str, Any]:
    if hasattr(value, "__geo_interface__") and not isinstance(value, Mapping):
        value = value.__geo_interface__
    if not isinstance(value, Mapping):
        raise SelectionError(
            f"selection must be None or a GeoJSON Polygon/MultiPolygon dict, not "
            f"{type(value).__name__}; e.g. {_EXAMPLE}."
        )
    if value.get("type") == "Feature":
        return _geometry(value.get("geometry"))
    return value


class Shape:
    """A checked selection. ``geojson`` is the normalised dict (floats, lists: what the trait
    holds); ``polygons`` the rings of each polygon as (k, 2) arrays, longitudes unwrapped."""

    def __init__(self, geojson: dict[str, Any], polygons: list[list[np.ndarray]]) -> None:
        self.geojson = geojson
        self.polygons = polygons
        self._tests = [EvenOdd(rings) for rings in polygons]

    @classmethod
    def parse(cls, value: Any) -> Shape:
        geom = _geometry(value)
        kind = geom.get("type")
        coords = geom.get("coordinates")
        if kind == "Polygon":
            polygons_in = [coords]
        elif kind == "MultiPolygon":
            if isinstance(coords, (str, bytes)) or not isinstance(coords, Sequence):
                raise SelectionError(
                    "selection: a MultiPolygon's coordinates are a list of polygons; got "
                    f"{coords!r}."
                )
            polygons_in = list(coords)
        else:
            raise SelectionError(
                f"selection must be a GeoJSON Polygon or MultiPolygon, not {kind!r}; e.g. "
                f"{_EXAMPLE}."
            )
        polygons: list[list[np.ndarray]] = []
        out: list[list[list[list[float]]]] = []
        for p, rings_in in enumerate(polygons_in):
            where_p = f"polygon {p}" if kind == "MultiPolygon" else "polygon"
            if (
                isinstance(rings_in, (str, bytes))
                or not isinstance(rings_in, Sequence)
                or not rings_in
            ):
                raise SelectionError(f"selection: {where_p} has no rings; want {_EXAMPLE}.")
            rings = [_ring(r, f"{where_p}, ring {i}") for i, r in enumerate(rings_in)]
            shell = rings[0]
            mid = 0.5 * (shell[:, 0].min() + shell[:, 0].max())
            for k in range(1, len(rings)):  # holes on the shell's side of the antimeridian
                hole = rings[k]
                hmid = 0.5 * (hole[:, 0].min() + hole[:, 0].max())
                rings[k] = hole + np.array([360.0 * round((mid - hmid) / 360.0), 0.0])
            west = min(float(r[:, 0].min()) for r in rings)
            shift = 360.0 * math.floor((west + 180.0) / 360.0)
            rings = [r - np.array([shift, 0.0]) for r in rings]  # west edge in [-180, 180)
            hit = Crossings(rings).first()
            if hit is not None:
                i, j, (x, y) = hit
                raise SelectionError(
                    f"selection: {where_p} crosses itself near lon {x:.6g}, lat {y:.6g} "
                    f"(edges {i} and {j}): a lasso must not cross or touch itself. Draw it "
                    "again without crossing, split it into a MultiPolygon, or repair it with "
                    "shapely: shapely.make_valid(shapely.geometry.shape(geom)).__geo_interface__."
                )
            polygons.append(rings)
            out.append([[list(map(float, v)) for v in r.tolist()] for r in rings])
        geojson: dict[str, Any]
        if kind == "Polygon":
            geojson = {"type": "Polygon", "coordinates": out[0]}
        else:
            geojson = {"type": "MultiPolygon", "coordinates": out}
        return cls(geojson, polygons)

    @classmethod
    def of_rings(cls, polygons: list[list[np.ndarray]]) -> Shape:
        """A Shape from rings known to be valid and closed (traced contours): no checks, no
        unwrapping (their longitudes are continuous already)."""
        out = [[r.tolist() for r in rings] for rings in polygons]
        if len(polygons) == 1:
            return cls({"type": "Polygon", "coordinates": out[0]}, polygons)
        return cls({"type": "MultiPolygon", "coordinates": out}, polygons)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(south, west, north, east); west/east unwrapped (east may exceed 180)."""
        allv = np.concatenate([r for rings in self.polygons for r in rings])
        return (
            float(allv[:, 1].min()),
            float(allv[:, 0].min()),
            float(allv[:, 1].max()),
            float(allv[:, 0].max()),
        )

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Mask of the points (lon in [-180, 180), lat) inside or on the boundary."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        out = np.zeros(len(lon), dtype=bool)
        for rings, test in zip(self.polygons, self._tests, strict=True):
            shell = rings[0]
            w, e = float(shell[:, 0].min()), float(shell[:, 0].max())
            s, n = float(shell[:, 1].min()), float(shell[:, 1].max())
            band = (lat >= s - TOLERANCE) & (lat <= n + TOLERANCE)
            for shift in (0.0, 360.0, -360.0):
                x = lon + shift
                cand = np.flatnonzero(band & (x >= w - TOLERANCE) & (x <= e + TOLERANCE) & ~out)
                if len(cand):
                    out[cand[test.contains(x[cand], lat[cand])]] = True
        return out

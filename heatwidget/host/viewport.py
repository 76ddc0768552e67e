"""Leaflet's EPSG:3857 view maths, in one place.

Everything here reproduces what Leaflet (1.x, 256-px tiles, the default ``L.CRS.EPSG3857``)
computes in the browser, with the same float64 operations in the same order, so a frame
rendered in Python (``to_png()``) has the same top-left world pixel as the frame the browser
draws for the same ``center``/``zoom``/size.

World pixels
    ``project(lat, lon, zoom)`` is Leaflet's ``map.project``: the Web Mercator position scaled to
    a world of ``256 * 2**zoom`` pixels, x to the east and y to the south, (0, 0) at the
    north-west corner (lat 85.0511..., lon -180). Latitudes are clamped to
    ``MAX_LATITUDE`` first; longitudes are not wrapped (lon 540 is one world east of lon 180).

The frame's origin
    A map at rest has its pixel origin at ``round(project(center) - size / 2)`` (Leaflet's
    ``_getNewPixelOrigin``; its ``Point.round`` is JavaScript ``Math.round``, which rounds
    halves up: ``Math.round(-2.5) == -2``). That is the world pixel of the frame's top-left
    corner, the ``(x0, y0)`` of ``hw_density``.

Fitting bounds
    ``fit_bounds`` is ``map.fitBounds(bounds, {padding})`` with ``zoomSnap: 1``: Leaflet's
    ``getBoundsZoom`` (the fitting zoom, rounded to 1/100 then floored to an integer, clamped to
    the zoom range) and ``_getBoundsCenterZoom`` (the centre is the midpoint of the projected
    corners, so it is the Mercator middle, not the mean latitude).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..constants import MAX_LATITUDE, Bounds

__all__ = [
    "MAX_LATITUDE",
    "TILE_SIZE",
    "Bounds",
    "Viewport",
    "fit_bounds",
    "js_round",
    "project",
    "scale",
    "unproject",
]

#: Leaflet's ``SphericalMercator.R`` (metres).
EARTH_RADIUS = 6378137.0
#: Pixels of one tile, so the world is ``TILE_SIZE * 2**zoom`` pixels wide at ``zoom``.
TILE_SIZE = 256.0
#: Zoom range used by ``fit_bounds`` (OSM-like tile layers go to 18 or 19).
MIN_ZOOM = 0
MAX_ZOOM = 18
#: Zoom ``fit_bounds`` uses when the bounds are a single point (Leaflet would zoom to max).
POINT_ZOOM = 12

_D = math.pi / 180.0
# Leaflet's EPSG3857 transformation: scale = 0.5 / (pi * R), Transformation(s, 0.5, -s, 0.5).
_T_SCALE = 0.5 / (math.pi * EARTH_RADIUS)


def scale(zoom: float) -> float:
    """Leaflet's ``crs.scale(zoom)``: the world's width in pixels at ``zoom``."""
    return TILE_SIZE * math.pow(2.0, zoom)


def meters_per_pixel(lat: float, zoom: float) -> float:
    """Ground metres one pixel covers at latitude ``lat`` and ``zoom`` (Web Mercator's scale
    1 / cos(lat), on Leaflet's sphere of radius EARTH_RADIUS)."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    return 2.0 * math.pi * EARTH_RADIUS * math.cos(lat * _D) / scale(zoom)


def _zoom_of_scale(s: float) -> float:
    """Leaflet's ``crs.zoom(scale)`` (inverse of :func:`scale`)."""
    return math.log(s / TILE_SIZE) / math.log(2.0)


def js_round(x: float) -> float:
    """JavaScript ``Math.round``: the nearest integer, halves rounded up (towards +inf).

    Exact for every double (unlike ``floor(x + 0.5)``, which rounds 0.49999999999999994 up).
    """
    if not math.isfinite(x):
        return x
    f = math.floor(x)
    return float(f + 1) if x - f >= 0.5 else float(f)


def project(lat: Any, lon: Any, zoom: float) -> tuple[Any, Any]:
    """World pixel ``(x, y)`` of ``(lat, lon)`` at ``zoom`` (Leaflet's ``map.project``).

    Works on floats or numpy arrays (returns the same kind). Latitudes are clamped to
    ``±MAX_LATITUDE``; longitudes are not wrapped.
    """
    s = scale(zoom)
    lat_c = np.clip(lat, -MAX_LATITUDE, MAX_LATITUDE)
    # SphericalMercator.project, operation for operation.
    sin = np.sin(lat_c * _D)
    mx = EARTH_RADIUS * np.asarray(lon, dtype=np.float64) * _D
    my = EARTH_RADIUS * np.log((1 + sin) / (1 - sin)) / 2
    # Transformation._transform: x = scale * (a * x + b), y = scale * (c * y + d).
    x = s * (_T_SCALE * mx + 0.5)
    y = s * (-_T_SCALE * my + 0.5)
    if np.ndim(x) == 0 and np.ndim(y) == 0:
        return float(x), float(y)
    return x, y


def unproject(x: Any, y: Any, zoom: float) -> tuple[Any, Any]:
    """``(lat, lon)`` of the world pixel ``(x, y)`` at ``zoom`` (Leaflet's ``map.unproject``)."""
    s = scale(zoom)
    # Transformation.untransform: x = (x / scale - b) / a, y = (y / scale - d) / c.
    mx = (np.asarray(x, dtype=np.float64) / s - 0.5) / _T_SCALE
    my = (np.asarray(y, dtype=np.float64) / s - 0.5) / -_T_SCALE
    # SphericalMercator.unproject.
    d = 180 / math.pi
    lat = (2 * np.arctan(np.exp(my / EARTH_RADIUS)) - math.pi / 2) * d
    lon = mx * d / EARTH_RADIUS
    if np.ndim(lat) == 0 and np.ndim(lon) == 0:
        return float(lat), float(lon)
    return lat, lon


@dataclass(frozen=True)
class Viewport:
    """A ``width`` x ``height`` CSS-pixel map at rest, centred on ``center`` = (lat, lon)."""

    center: tuple[float, float]
    zoom: float
    width: int
    height: int

    def __post_init__(self) -> None:
        lat, lon = (float(v) for v in self.center)
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError(f"center must be finite (lat, lon), got {self.center!r}")
        if not math.isfinite(float(self.zoom)):
            raise ValueError(f"zoom must be finite, got {self.zoom!r}")
        if int(self.width) < 1 or int(self.height) < 1:
            raise ValueError(
                f"width and height must be >= 1 pixel, got {self.width!r} x {self.height!r}"
            )
        object.__setattr__(self, "center", (lat, lon))
        object.__setattr__(self, "zoom", float(self.zoom))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    @property
    def origin(self) -> tuple[float, float]:
        """The frame's top-left world pixel: ``round(project(center) - size / 2)``.

        Leaflet's ``_getNewPixelOrigin`` for a map at rest (map pane at (0, 0)), rounded with
        ``Math.round``. Always integral.
        """
        cx, cy = project(self.center[0], self.center[1], self.zoom)
        return js_round(cx - self.width / 2), js_round(cy - self.height / 2)

    @property
    def bounds(self) -> Bounds:
        """``(south, west, north, east)`` of the frame (Leaflet's ``map.getBounds()``).

        West/east are not wrapped: zoomed out they may lie beyond ±180.
        """
        x0, y0 = self.origin
        south, west = unproject(x0, y0 + self.height, self.zoom)
        north, east = unproject(x0 + self.width, y0, self.zoom)
        return (south, west, north, east)


def _padding_xy(padding: float | Sequence[float]) -> tuple[float, float]:
    if isinstance(padding, (int, float)):
        return float(padding), float(padding)
    px, py = padding
    return float(px), float(py)


def fit_bounds(
    bounds: Bounds | None,
    width: int,
    height: int,
    padding: float | Sequence[float] = 0.0,
    *,
    min_zoom: int = MIN_ZOOM,
    max_zoom: int = MAX_ZOOM,
    point_zoom: int = POINT_ZOOM,
) -> tuple[tuple[float, float], int]:
    """``(center, zoom)`` that Leaflet's ``map.fitBounds(bounds, {padding})`` would pick.

    ``bounds`` is ``(south, west, north, east)``; ``padding`` is pixels on every side (a number
    or an ``(x, y)`` pair, Leaflet's ``padding`` option), so the bounds must fit in
    ``width - 2 px`` by ``height - 2 py``. ``zoomSnap`` is 1, so the zoom is an integer: the
    fitting zoom rounded to 1/100, floored, and clamped to ``min_zoom..max_zoom``.

    Degenerate input (where Leaflet would throw or zoom to its maximum):

    * ``None`` (no data) or bounds with a non-finite value: ``((0.0, 0.0), min_zoom)``.
    * a single point (zero width and zero height): centred on it at ``point_zoom``.
    * a line (zero width or zero height): fits the other dimension, as Leaflet does.
    * padding that leaves less than 1 px: as if 1 px were left.
    """
    if bounds is None:
        return (0.0, 0.0), int(min_zoom)
    south, west, north, east = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (south, west, north, east)):
        return (0.0, 0.0), int(min_zoom)
    if south > north:
        south, north = north, south
    if west > east:
        west, east = east, west
    pad_x, pad_y = _padding_xy(padding)
    size_x = max(1.0, float(width) - 2 * pad_x)
    size_y = max(1.0, float(height) - 2 * pad_y)

    # getBoundsZoom, from a fresh map (getZoom() || 0 == 0).
    z0 = 0.0
    se_x, se_y = project(south, east, z0)
    nw_x, nw_y = project(north, west, z0)
    bx, by = abs(se_x - nw_x), abs(se_y - nw_y)
    sx = size_x / bx if bx > 0 else math.inf
    sy = size_y / by if by > 0 else math.inf
    s = min(sx, sy)
    if math.isinf(s):
        zoom = float(point_zoom)
    else:
        zoom = _zoom_of_scale(s * scale(z0))
        zoom = js_round(zoom / (1 / 100)) * (1 / 100)  # don't jump if within 1% of a level
        zoom = float(math.floor(zoom / 1) * 1)
    zoom = max(float(min_zoom), min(float(max_zoom), zoom))
    iz = int(zoom)

    # _getBoundsCenterZoom: centre = unproject(mid of the projected corners) (symmetric padding).
    sw_x, sw_y = project(south, west, iz)
    ne_x, ne_y = project(north, east, iz)
    lat, lon = unproject((sw_x + ne_x) / 2, (sw_y + ne_y) / 2, iz)
    return (float(lat), float(lon)), iz

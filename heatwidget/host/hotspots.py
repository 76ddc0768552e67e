"""Hotspots: the polygons where a frame's density is at least a level, in lon/lat, with the
count and sum of the rows inside each.

Traced by contourpy (matplotlib's contour generator) as filled contours ``level <= density``
with their holes (``FillType.OuterOffset``), over the cell centres of the grid ``density()``
returns: cell (row i, column j) is the container pixel ``[j, j+1) × [i, i+1)``, so its value
sits at ``(j + 0.5, i + 0.5)``, and a contour vertex at container pixel (x, y) is the world pixel
``origin + (x, y)``, unprojected with Leaflet's maths (host/viewport.py). contourpy is an
optional extra: ``pip install "heatwidget[analysis]"``.

Totals use the selection's inside test (selection/shape.py): boundary inside, planar in lon/lat
between the vertices (one vertex per grid cell crossed, so the edges are at most a pixel long
and the difference from Mercator-straight edges is far below a pixel).
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass

import numpy as np

from ..selection.shape import Shape
from .viewport import Viewport, unproject

__all__ = ["ANALYSIS_HINT", "Hotspot", "level_of", "trace"]

ANALYSIS_HINT = 'hotspots() needs contourpy: pip install "heatwidget[analysis]"'


@dataclass(frozen=True)
class Hotspot:
    """One polygon (its rings in container pixels, and as a Shape in lon/lat)."""

    rings_px: list[np.ndarray]
    shape: Shape


def level_of(grid: np.ndarray, level: float | None, quantile: float | None) -> float:
    """The density level: ``level`` as given, else the ``quantile`` (0.95 when neither is
    given) of the non-zero cells."""
    if level is not None and quantile is not None:
        raise ValueError("hotspots(): give level= or quantile=, not both.")
    if level is not None:
        value = float(level)
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"hotspots(): level must be a finite density > 0, got {level!r}.")
        return value
    q = 0.95 if quantile is None else float(quantile)
    if not 0.0 <= q < 1.0:
        raise ValueError(f"hotspots(): quantile must be in [0, 1), got {quantile!r}.")
    nonzero = grid[grid > 0]
    if not len(nonzero):
        return float("inf")
    value = float(np.quantile(nonzero.astype(np.float64), q))
    return value if value > 0 else float(nonzero.min())


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def trace(grid: np.ndarray, view: Viewport, level: float) -> list[Hotspot]:
    """The polygons of ``grid >= level`` (holes kept), largest first."""
    try:
        contourpy = importlib.import_module("contourpy")
    except ImportError as exc:
        raise ImportError(ANALYSIS_HINT) from exc
    h, w = grid.shape
    if not np.isfinite(level) or h < 2 or w < 2:
        return []
    z = np.asarray(grid, dtype=np.float64)
    x = np.arange(w, dtype=np.float64) + 0.5
    y = np.arange(h, dtype=np.float64) + 0.5
    gen = contourpy.contour_generator(x, y, z, fill_type="OuterOffset")
    points_list, offsets_list = gen.filled(level, np.inf)
    x0, y0 = view.origin
    out: list[Hotspot] = []
    for points, offsets in zip(points_list, offsets_list, strict=True):
        rings_px = [points[a:b] for a, b in itertools.pairwise(offsets)]
        rings_ll: list[np.ndarray] = []
        for k, ring in enumerate(rings_px):
            lat, lon = unproject(x0 + ring[:, 0], y0 + ring[:, 1], view.zoom)
            ll = np.column_stack([lon, lat])
            ll[-1] = ll[0]  # closed exactly
            # RFC 7946: exterior rings counterclockwise, holes clockwise
            if (_signed_area(ll) > 0) != (k == 0):
                ll = ll[::-1].copy()
            rings_ll.append(ll)
        out.append(Hotspot(rings_px, Shape.of_rings([rings_ll])))
    out.sort(key=lambda s: -abs(_signed_area(s.rings_px[0])))
    return out

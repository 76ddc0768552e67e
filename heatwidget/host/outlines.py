"""The offline Natural Earth outlines, drawn in Python as the map draws them (js/src/outlines.ts).

The data is the file the front end's bundle inlines (world-atlas's ``countries-110m.json``
TopoJSON), copied by js/build.mjs to ``heatwidget/static/atlas.json``. As in outlines.ts: land
is the ``land`` object, filled ``#f3f1ec`` with a ``#9fb7c2`` edge of 0.8 px; borders are the
arcs two countries share (topojson's ``mesh(countries, (a, b) => a !== b)``), ``#bcb5a8``
0.6 px; rings crossing the antimeridian are made continuous and the world is drawn at its
neighbouring copies too. Rasterised here with numpy (even-odd scanline fill at pixel centres;
lines of sub-pixel width as 1-pixel lines with that coverage), no anti-aliasing of the fill.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from .viewport import Viewport, project, scale

__all__ = ["ATLAS", "BORDER", "COAST", "LAND", "SEA", "draw_outlines"]

ATLAS = Path(__file__).resolve().parent.parent / "static" / "atlas.json"
SEA = (0xD4, 0xE6, 0xEE)
LAND = (0xF3, 0xF1, 0xEC)
COAST = ((0x9F, 0xB7, 0xC2), 0.8)
BORDER = ((0xBC, 0xB5, 0xA8), 0.6)


def _unwrap(line: np.ndarray) -> np.ndarray:
    """Continuous longitudes (outlines.ts ``unwrap``): a jump of more than 180° is a crossing."""
    step = np.diff(line[:, 0])
    offset = np.concatenate(
        [[0.0], np.cumsum(np.where(step > 180, -360.0, 0.0) + np.where(step < -180, 360.0, 0.0))]
    )
    out: np.ndarray = line.copy()
    out[:, 0] += offset
    return out


@functools.lru_cache(maxsize=1)
def shapes() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(land rings, border lines) in lon/lat, each an (n, 2) array, longitudes unwrapped."""
    topo: dict[str, Any] = json.loads(ATLAS.read_text())
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        q = np.cumsum(np.asarray(arc, dtype=np.float64), axis=0)
        arcs.append(np.column_stack([q[:, 0] * sx + tx, q[:, 1] * sy + ty]))

    def ring(indices: list[int]) -> np.ndarray:
        parts = []
        for k, i in enumerate(indices):
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            parts.append(a if k == 0 else a[1:])
        return np.concatenate(parts)

    def polygons(geom: dict[str, Any]) -> list[list[list[int]]]:
        if geom["type"] == "Polygon":
            return [geom["arcs"]]
        if geom["type"] == "MultiPolygon":
            return list(geom["arcs"])
        return []

    land = [
        _unwrap(ring(r))
        for g in topo["objects"]["land"]["geometries"]
        for p in polygons(g)
        for r in p
    ]
    users: dict[int, set[int]] = {}
    for gi, g in enumerate(topo["objects"]["countries"]["geometries"]):
        for p in polygons(g):
            for r in p:
                for i in r:
                    users.setdefault(i if i >= 0 else ~i, set()).add(gi)
    borders = [_unwrap(arcs[i]) for i, who in sorted(users.items()) if len(who) > 1]
    return land, borders


def _to_pixels(lines: list[np.ndarray], view: Viewport) -> list[np.ndarray]:
    """Container pixels of ``lines`` for each world copy (-360, 0, +360) that can be seen."""
    x0, y0 = view.origin
    world = scale(view.zoom)
    out = []
    for line in lines:
        x, y = project(line[:, 1], line[:, 0], view.zoom)
        xy = np.column_stack([np.asarray(x) - x0, np.asarray(y) - y0])
        for shift in (-world, 0.0, world):
            lo, hi = xy[:, 0].min() + shift, xy[:, 0].max() + shift
            if hi >= 0 and lo <= view.width:
                out.append(xy + np.array([shift, 0.0]))
    return out


def _fill(mask_shape: tuple[int, int], rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd fill of ``rings`` (pixel coordinates) at pixel centres."""
    h, w = mask_shape
    if not rings:
        return np.zeros((h, w), dtype=bool)
    a = np.concatenate([r[:-1] for r in rings])
    b = np.concatenate([r[1:] for r in rings])
    # rows whose centre (r + 0.5) is in [min y, max y): the edge crosses them
    ylo, yhi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    r0 = np.clip(np.ceil(ylo - 0.5), 0, h).astype(np.int64)
    r1 = np.clip(np.ceil(yhi - 0.5), 0, h).astype(np.int64)
    n = np.maximum(r1 - r0, 0)
    keep = n > 0
    a, b, r0, n = a[keep], b[keep], r0[keep], n[keep]
    edge = np.repeat(np.arange(len(a)), n)
    rows = np.repeat(r0, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    yc = rows + 0.5
    t = (yc - a[edge, 1]) / (b[edge, 1] - a[edge, 1])
    xc = a[edge, 0] + t * (b[edge, 0] - a[edge, 0])
    # a crossing at x toggles every pixel whose centre is right of it
    col = np.clip(np.ceil(xc - 0.5), 0, w).astype(np.int64)
    hist = np.zeros((h, w + 1), dtype=np.int32)
    np.add.at(hist, (rows, col), 1)
    inside: np.ndarray = (np.cumsum(hist, axis=1)[:, :w] & 1).astype(bool)
    return inside


def _clip(a: np.ndarray, b: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The parts of segments ``a``→``b`` inside the frame (a pixel of margin), Liang-Barsky:
    zoomed in, a coastline's segment can be millions of pixels long, and only the part in
    the frame is sampled."""
    d = b - a
    t0, t1 = np.zeros(len(a)), np.ones(len(a))
    keep = np.ones(len(a), dtype=bool)
    bounds = (
        (-d[:, 0], a[:, 0] + 1.0),
        (d[:, 0], w + 1.0 - a[:, 0]),
        (-d[:, 1], a[:, 1] + 1.0),
        (d[:, 1], h + 1.0 - a[:, 1]),
    )
    for p, q in bounds:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = q / p
        keep &= ~((p == 0) & (q < 0))  # parallel to this edge and outside it
        t0 = np.where(p < 0, np.maximum(t0, r), t0)
        t1 = np.where(p > 0, np.minimum(t1, r), t1)
    keep &= t0 <= t1
    return a[keep] + t0[keep, None] * d[keep], a[keep] + t1[keep, None] * d[keep]


def _stroke(
    img: np.ndarray, lines: list[np.ndarray], rgb: tuple[int, int, int], width: float
) -> None:
    """1-pixel lines through the pixels each segment passes, blended at ``width`` coverage."""
    if not lines:
        return
    h, w = img.shape[:2]
    a, b = _clip(
        np.concatenate([ln[:-1] for ln in lines]), np.concatenate([ln[1:] for ln in lines]), w, h
    )
    length = np.hypot(*(b - a).T)
    n = np.ceil(length / 0.5).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(a)), n)
    t = (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(
        np.maximum(n - 1, 1), n
    )
    px = a[seg, 0] + t * (b[seg, 0] - a[seg, 0])
    py = a[seg, 1] + t * (b[seg, 1] - a[seg, 1])
    ix, iy = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
    ok = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    flat = np.unique(iy[ok] * w + ix[ok])
    view = img.reshape(-1, 3)
    alpha = min(1.0, float(width))
    view[flat] = view[flat] * (1.0 - alpha) + np.asarray(rgb, np.float64) * alpha


def draw_outlines(img: np.ndarray, view: Viewport) -> None:
    """Sea, land and borders onto ``img`` ((h, w, 3) float64) for ``view``."""
    land, borders = shapes()
    img[...] = SEA
    rings = _to_pixels(land, view)
    img[_fill(img.shape[:2], rings)] = LAND
    _stroke(img, rings, *COAST)
    _stroke(img, _to_pixels(borders, view), *BORDER)

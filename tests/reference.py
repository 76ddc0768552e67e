"""A plain numpy reference of the heat kernel's maths (js/kernel/heat.h), for the tests.

Written from heat.h's words, not from the kernel's C: float64 maths, ``np.floor``, 2**32.

* ``fixed_point``: lon/lat → the kernel's 32-bit fixed-point Web Mercator.
* ``frame_cells``: fixed point → frame pixels (pixel (i, j) covers [i, i+1) x [j, j+1) from
  the frame's top-left world pixel), one entry per world copy that meets the frame.
* ``bin_points``: radius-0 density per aggregation (sum, count, mean, max).
* ``gaussian_footprint``: the exact separable Gaussian (sigma = radius / 2) a point's heat
  should spread into, to bound the kernel's three-box-blur approximation.
* ``colorize``: heat.h's colour rules.
"""

from __future__ import annotations

import math

import numpy as np

MAX_LATITUDE = 85.0511287798
TWO32 = 2.0**32

AGG_SUM, AGG_COUNT, AGG_MEAN, AGG_MAX = 0, 1, 2, 3
SCALE_LINEAR, SCALE_SQRT, SCALE_LOG = 0, 1, 2


def world_size(zoom: float) -> float:
    """World width in pixels at ``zoom``: 256 * 2**zoom."""
    return 256.0 * 2.0**zoom


def fixed_point(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, valid): uint32 fixed-point Web Mercator and a mask of drawable points.

    x = floor(nx * 2^32) mod 2^32, y = clamp(floor(ny * 2^32), 0, 2^32 - 1), with
    nx = lon / 360 + 0.5, ny = 0.5 - atanh(sin(lat')) / (2 pi), lat' clamped to 85.0511...
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    valid = np.isfinite(lon) & np.isfinite(lat)
    lon_v = np.where(valid, lon, 0.0)
    lat_v = np.clip(np.where(valid, lat, 0.0), -MAX_LATITUDE, MAX_LATITUDE)
    nx = lon_v / 360.0 + 0.5
    x = np.mod(np.floor(nx * TWO32), TWO32).astype(np.uint64).astype(np.uint32)
    ny = 0.5 - np.arctanh(np.sin(lat_v * (math.pi / 180.0))) / (2.0 * math.pi)
    y = np.clip(np.floor(ny * TWO32), 0.0, TWO32 - 1).astype(np.uint64).astype(np.uint32)
    return x, y, valid


def world_pixels(x: np.ndarray, y: np.ndarray, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """World pixel coordinates at ``zoom`` of fixed-point positions (in [0, world))."""
    s = world_size(zoom) / TWO32
    return x.astype(np.float64) * s, y.astype(np.float64) * s


def frame_cells(
    lon: np.ndarray,
    lat: np.ndarray,
    origin: tuple[float, float],
    zoom: float,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point index, column, row) of every (point, world copy) landing in the frame.

    A point at world pixel (px, py) lands in (floor(px + k*world - x0), floor(py - y0)) for
    every integer k for which that is inside the frame.
    """
    x, y, valid = fixed_point(lon, lat)
    wx, wy = world_pixels(x, y, zoom)
    x0, y0 = origin
    world = world_size(zoom)
    iy = np.floor(wy - y0)
    idx_all, col_all, row_all = [], [], []
    k_lo = math.floor(x0 / world) - 1
    k_hi = math.ceil((x0 + width) / world) + 1
    for k in range(k_lo, k_hi + 1):
        ix = np.floor(wx + k * world - x0)
        ok = valid & (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        idx = np.nonzero(ok)[0]
        idx_all.append(idx)
        col_all.append(ix[idx].astype(np.int64))
        row_all.append(iy[idx].astype(np.int64))
    idx = np.concatenate(idx_all)
    order = np.argsort(idx, kind="stable")  # the kernel visits points in order
    return idx[order], np.concatenate(col_all)[order], np.concatenate(row_all)[order]


def bin_points(
    lon: np.ndarray,
    lat: np.ndarray,
    weight: np.ndarray | None,
    origin: tuple[float, float],
    zoom: float,
    width: int,
    height: int,
    aggregation: int,
) -> np.ndarray:
    """The radius-0 density: each pixel aggregates the points landing in it (float32)."""
    idx, col, row = frame_cells(lon, lat, origin, zoom, width, height)
    w = (
        np.ones(len(np.asarray(lon)), dtype=np.float32)
        if weight is None
        else np.asarray(weight, dtype=np.float32)
    )
    grid = np.zeros((height, width), dtype=np.float32)
    if aggregation == AGG_COUNT:
        np.add.at(grid, (row, col), np.float32(1))
    elif aggregation == AGG_SUM:
        np.add.at(grid, (row, col), w[idx])
    elif aggregation == AGG_MAX:
        np.maximum.at(grid, (row, col), w[idx])
    elif aggregation == AGG_MEAN:
        cnt = np.zeros_like(grid)
        np.add.at(grid, (row, col), w[idx])
        np.add.at(cnt, (row, col), np.float32(1))
        with np.errstate(invalid="ignore", divide="ignore"):
            grid = np.where(cnt > 0, grid / cnt, np.float32(0)).astype(np.float32)
    else:
        raise ValueError(aggregation)
    return grid


def gaussian_1d(radius: float, reach: int) -> np.ndarray:
    """The exact discrete Gaussian (sigma = radius / 2) on offsets -reach..reach, sum 1."""
    sigma = radius / 2.0
    d = np.arange(-reach, reach + 1, dtype=np.float64)
    g = np.exp(-0.5 * (d / sigma) ** 2)
    return g / g.sum()


def gaussian_footprint(radius: float, reach: int) -> np.ndarray:
    """The exact separable 2-D Gaussian a unit point at the centre spreads into (sum 1)."""
    g = gaussian_1d(radius, reach)
    return np.outer(g, g)


def alpha_ramp_lut(lut: bytes) -> np.ndarray:
    """(256, 4) uint8: the LUT with heat.h's alpha ramp min(1, i / 64) applied (rounded)."""
    t = np.frombuffer(lut, dtype=np.uint8).reshape(256, 4).copy()
    ramp = np.minimum(1.0, np.arange(256) / 64.0)
    t[:, 3] = np.floor(t[:, 3] * ramp + 0.5).astype(np.uint8)
    return t


def colorize_index(grid: np.ndarray, vmin: float, vmax: float, scale: int) -> np.ndarray:
    """The LUT index heat.h's rules give each pixel (float64 maths; -1 = transparent v <= 0)."""
    v = grid.astype(np.float64)
    if scale == SCALE_LOG:
        lo = vmin if vmin > 0 else vmax / 1000.0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.log(v / lo) / math.log(vmax / lo)
    else:
        t = (v - vmin) / (vmax - vmin)
    t = np.clip(np.nan_to_num(t, nan=0.0, neginf=0.0), 0.0, 1.0)
    if scale == SCALE_SQRT:
        t = np.sqrt(t)
    return np.floor(t * 255.0 + 0.5).astype(np.int64)


def colorize(
    grid: np.ndarray, vmin: float, vmax: float, scale: int, threshold: float, lut: bytes
) -> np.ndarray:
    """heat.h's hw_colorize: (h, w, 4) uint8."""
    table = alpha_ramp_lut(lut)
    idx = colorize_index(grid, vmin, vmax, scale)
    out = table[idx]
    clear = ~(grid > 0) | (grid < threshold)
    out[clear] = 0
    return out

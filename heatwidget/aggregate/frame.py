"""``GridFrame``: one frame's padded grid, and rows binned into it exactly as frame.c does.

The geometry (``f``, ``margin``, ``gw``, ``gh``) comes from the kernel (``hw_grid_begin``), so
the cell size and the footprint's margin have one definition. The binning below repeats
frame.c's ``splat_setup`` and ``FOR_EACH_XY`` operation for operation in float64 (the same
IEEE operations give the same cells; wasm has no fused multiply-add), so rows binned here
land in the cells a frame from points would put them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["NO_POSITION", "GridFrame"]

#: y of a row without a position (heat.h): never drawn.
NO_POSITION = 0xFFFFFFFF
_FIX = 4294967296.0
#: rows ``GridFrame.bin`` bins at once (a few MB of temporaries)
BIN_ROWS = 1 << 16


@dataclass(frozen=True)
class GridFrame:
    """A ``width`` x ``height`` frame whose top-left is the world pixel ``(x0, y0)`` at
    ``zoom``, binned on ``gw`` x ``gh`` cells of ``f`` px with ``margin`` px on every side."""

    x0: float
    y0: float
    zoom: float
    width: int
    height: int
    f: int
    margin: int
    gw: int
    gh: int

    @property
    def world(self) -> float:
        """The world's width in pixels: exact at integer zooms (the kernel doubles), within an
        ulp of the kernel's series at fractional ones."""
        zi = math.floor(self.zoom)
        zf = self.zoom - zi
        w = math.ldexp(256.0, zi)
        return w * 2.0**zf if zf > 0 else w

    @property
    def exact_level(self) -> int | None:
        """The zoom, when the frame's pixels are whole pixels of that integer zoom (integer
        zoom <= 24 and integer origin): pixel aggregates of that level then bin exactly."""
        z = self.zoom
        if z == math.floor(z) and 0 <= z <= 24 and self.x0.is_integer() and self.y0.is_integer():
            return int(z)
        return None

    def pixel_bounds(self, level: int) -> tuple[int, int, int, int]:
        """``(px0, px1, py0, py1)``: the level-``level`` pixels (inclusive, x unwrapped, y
        clipped to the world) that the padded frame meets."""
        scale = math.ldexp(1.0, level) * 256.0 / self.world
        m = self.margin
        px0 = math.floor((self.x0 - m) * scale) - 1
        px1 = math.floor((self.x0 + self.width + m) * scale) + 1
        top = 256 * 2**level - 1
        py0 = max(0, math.floor((self.y0 - m) * scale) - 1)
        py1 = min(top, math.floor((self.y0 + self.height + m) * scale) + 1)
        return px0, px1, py0, py1

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For fixed-point rows ``x``, ``y``: (cell index into the gw*gh grid, row index), one
        pair per world copy of a row that meets the padded frame (frame.c ``FOR_EACH_XY``)."""
        x = np.asarray(x, dtype=np.uint32)
        y = np.asarray(y, dtype=np.uint32)
        world = self.world
        s = world / _FIX
        m = self.margin
        left = (self.x0 - m) / world
        left -= math.floor(left)
        fx = left * _FIX
        fl = math.floor(fx)
        ox = np.uint32(int(fl) & 0xFFFFFFFF)
        ox_frac_px = (fx - fl) * s
        oy_px = self.y0 - m
        pw = self.width + 2.0 * m
        ph = self.height + 2.0 * m
        inv_f = 1.0 / self.f
        if not pw > world * 0.5:
            # the same IEEE operations as below, in place on every row (rows read for a
            # view are mostly in it): one mask and one gather instead of two of each
            py = y.astype(np.float64)
            py *= s
            py -= oy_px
            px = (x - ox).view(np.int32).astype(np.float64)
            px *= s
            px -= ox_frac_px
            keep = y != NO_POSITION
            keep &= py >= 0.0
            keep &= py < ph
            keep &= px >= 0.0
            keep &= px < pw
            rows = np.flatnonzero(keep)
            cy = py[rows]
            cy *= inv_f
            cx = px[rows]
            cx *= inv_f
            # truncation of a value in [0, 2**32) to int64 is its truncation to uint32
            cell = cy.astype(np.int64)
            cell *= self.gw
            cell += cx.astype(np.int64)
            return cell, rows
        py = y.astype(np.float64) * s - oy_px
        keep = (y != NO_POSITION) & (py >= 0.0) & (py < ph)
        rows = np.flatnonzero(keep)
        py = py[rows]
        px0 = (x[rows] - ox).view(np.int32).astype(np.float64) * s - ox_frac_px
        cy = (py * inv_f).astype(np.uint32)
        # wider than half a world: every copy of the world that meets the frame
        px = np.where(px0 < 0.0, px0 + world, px0)
        out_cells, out_rows = [], []
        live = np.flatnonzero(px < pw)
        while live.size:
            cx = (px[live] * inv_f).astype(np.uint32)
            out_cells.append(cy[live].astype(np.int64) * self.gw + cx)
            out_rows.append(rows[live])
            px[live] += world
            live = live[px[live] < pw]
        if not out_cells:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(out_cells), np.concatenate(out_rows)

    def empty(self) -> np.ndarray:
        """Planes (sum, count, max) of an empty grid: float64 (3, gh, gw)."""
        return np.zeros((3, self.gh, self.gw), np.float64)

    def bin(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray | None,
        planes: np.ndarray | None = None,
        with_max: bool = True,
    ) -> np.ndarray:
        """Rows binned into (sum, count, max) planes (float64 (3, gh, gw); added to
        ``planes`` when given). Weights are taken as float32, as the kernel stages them.
        ``BIN_ROWS`` rows at a time, scattered with ``ufunc.at``: their temporaries stay in
        cache (a pass over a view's millions of rows at once spent more time moving memory
        than computing, and ``np.bincount`` would allocate a whole plane per batch)."""
        out = self.empty() if planes is None else planes
        flat = out.reshape(3, -1)
        x = np.asarray(x, np.uint32)
        y = np.asarray(y, np.uint32)
        weights = None if weight is None else np.asarray(weight, np.float32)
        for a in range(0, x.size, BIN_ROWS):
            cell, rows = self.cells(x[a : a + BIN_ROWS], y[a : a + BIN_ROWS])
            w: np.ndarray | float = 1.0
            if weights is not None:
                w = weights[a : a + BIN_ROWS][rows].astype(np.float64)
            np.add.at(flat[0], cell, w)
            np.add.at(flat[1], cell, 1.0)
            if with_max:
                np.maximum.at(flat[2], cell, w)
        return out

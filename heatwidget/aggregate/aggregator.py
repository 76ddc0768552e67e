"""``Aggregator``: a source's pyramid, and the binned grid of any frame from it.

A frame at an integer zoom ``z`` <= the pyramid's depth with an integer origin is binned from
level ``z`` exactly (its pixels are the frame's pixels). A fractional zoom uses level
``ceil(z) + 2`` when held, each pixel at its centre (within 1/8 px of its rows' positions).
Deeper frames, and every frame with a time window, read the rows in view from the source
(the view's bounds and the window pushed down) and bin them exactly as frame.c: an
in-process engine's batches straight into the planes (``np.bincount``: no sort), a sorted
copy's fixed-point rows by row group (``SortedRows``: no query, no projection), other
engines (Dask) as per-cell aggregates reduced where the rows are.

Exactness against client mode (``Heatmap.density()``, tests/test_aggregate.py): count and
max are equal cell for cell at integer zooms, any radius; sum and mean too when the kernel's
float32 sums are exact (dyadic weights), else within float32 rounding (the server sums in
float64, the browser in float32: ~1e-6 relative). Fractional zooms: within 1% (pyramid
centres). A time window reads rows (no pyramid over time). Time decay (half-life): a
decayed source over the same engine (decayed.py) whose frames read rows.

The grid's geometry (cell size, margin) comes from the kernel (``Kernel.grid_geometry``), and
so does the projection (``project``, e.g. ``heatwidget.host.kernel.project_degrees``): this
layer holds neither copy of the maths.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from . import morton
from .builder import PyramidBuilder
from .frame import GridFrame
from .keys import CellKeys, PixelKeys, Project
from .pyramid import BYTES_PER_PIXEL, DEFAULT_BUDGET, Cells, Pyramid, depth_for, ranges_index
from .sorted_rows import LEVEL, SortedRows
from .source import Filter, Source

__all__ = ["Aggregator"]

#: assumed rows when a source cannot tell without reading them (a conservative depth)
UNKNOWN_ROWS = 1 << 30


class Aggregator:
    def __init__(
        self,
        source: Source,
        project: Project,
        budget: int = DEFAULT_BUDGET,
        cache: str | PathLike[str] | None = None,
        rows: int | None = None,
    ) -> None:
        self.source = source
        self.project = project
        self.budget = int(budget)
        self.cache = None if cache is None else Path(cache)
        self._rows = rows
        self._pyramid: Pyramid | None = None

    @property
    def pyramid(self) -> Pyramid:
        """Built on first use (one pass over the rows), or loaded from ``cache``."""
        if self._pyramid is None:
            if self.cache is not None and self.cache.is_file():
                self._pyramid = Pyramid.load(self.cache)
            else:
                self._pyramid = self.build()
                if self.cache is not None:
                    self._pyramid.save(self.cache)
        return self._pyramid

    def build(self) -> Pyramid:
        """One pass: the deepest level from the rows (batch by batch when the engine runs in
        this process, else reduced by the engine), the others from it."""
        limit = self.budget // 2 // BYTES_PER_PIXEL
        batches = getattr(self.source, "batches", None)
        in_engine = getattr(self.source, "deepest", None)  # keyed and grouped by the engine
        if in_engine is not None:
            deepest, depth = in_engine(limit)
        elif batches is not None:
            builder = PyramidBuilder(self.project, limit)
            for rows in batches(Filter()):
                builder.add(rows)
            deepest, depth = builder.finish()
        else:
            rows = self._rows if self._rows is not None else self.source.row_count()
            depth = depth_for(UNKNOWN_ROWS if rows is None else rows, self.budget)
            deepest = self.source.cells(PixelKeys(self.project, depth), Filter())
            while depth > 0 and deepest.code.size > limit:
                deepest, depth = deepest.parent(), depth - 1
        return Pyramid.of_deepest(deepest, depth, int(deepest.count.sum()), self.budget)

    def grid(
        self, frame: GridFrame, t0: float | None = None, t1: float | None = None
    ) -> np.ndarray:
        """float32 (3, gh, gw) planes (sum, count, largest weight; 0 where empty) of
        ``frame``, for ``Kernel.density_grid``; rows with ``t0 <= time < t1`` when a window
        is given."""
        timed = t0 is not None or t1 is not None
        level = frame.exact_level
        depth = self.pyramid.depth if not timed else -1
        if level is not None and level <= depth:
            return _planes(frame, *self._pyramid_cells(frame, level, centre=False))
        fine = math.ceil(frame.zoom) + 2
        if level is None and fine <= depth:
            return _planes(frame, *self._pyramid_cells(frame, fine, centre=True))
        sorted_rows: SortedRows | None = getattr(self.source, "sorted_rows", None)
        if sorted_rows is not None and not timed:  # fixed-point rows by code: no query
            planes = frame.empty()
            lo, hi = _tile_ranges(*frame.pixel_bounds(LEVEL), LEVEL)
            for x, y, w in sorted_rows.read(lo, hi):
                frame.bin(x, y, w, planes)
            return planes.astype(np.float32)
        m = frame.margin
        where = Filter.of_pixels(
            frame.x0 - m, frame.x0 + frame.width + m, frame.y0 - m, frame.y0 + frame.height + m,
            frame.world, t0, t1,
        )  # fmt: skip
        batches = getattr(self.source, "batches", None)
        if batches is not None:  # rows in this process: straight into the planes, unsorted
            planes = frame.empty()
            for rows in batches(where):
                frame.bin(*self.project(rows.lon, rows.lat), rows.weight, planes)
            return planes.astype(np.float32)
        c = self.source.cells(CellKeys(self.project, frame), where)
        return _planes(frame, c.code.astype(np.int64), c)

    def density(
        self,
        kernel: Any,
        origin: tuple[float, float],
        zoom: float,
        width: int,
        height: int,
        radius: float,
        aggregation: int,
        window: tuple[float | None, float | None] = (None, None),
    ) -> tuple[np.ndarray, float]:
        """``Kernel.density`` of these rows without holding them: the grid from here, drawn
        by ``kernel`` (a ``heatwidget.host.kernel.Kernel``; ``aggregation`` one of its
        ``HW_AGG_*``; ``window`` in the time column's unit). The kernel keeps the frame for
        ``quantile``/``colorize``/``count_near``."""
        f, margin, gw, gh = kernel.grid_geometry(width, height, radius, aggregation)
        x0, y0 = (float(v) for v in origin)
        frame = GridFrame(x0, y0, float(zoom), width, height, f, margin, gw, gh)
        planes = self.grid(frame, *window)
        grid, mx = kernel.density_grid(planes, origin, zoom, width, height, radius, aggregation)
        return grid, float(mx)

    def _pyramid_cells(
        self, frame: GridFrame, level: int, centre: bool
    ) -> tuple[np.ndarray, Cells]:
        cells = self.pyramid.levels[level]
        lo, hi = _tile_ranges(*frame.pixel_bounds(level), level)
        sel = cells.take(ranges_index(cells.code, lo, hi))
        px, py = morton.decode(sel.code)
        shift = np.uint64(24 - level)
        half = np.uint64((1 << (23 - level)) if centre else 0)
        x = ((px << shift) | half).astype(np.uint32)
        y = ((py << shift) | half).astype(np.uint32)
        cell, idx = frame.cells(x, y)
        return cell, sel.take(idx)


def _tile_ranges(
    px0: int, px1: int, py0: int, py1: int, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """Morton code ranges [lo, hi) at ``level`` covering the pixel rectangle (x wraps): aligned
    tiles of 2**k pixels, about 16 a side, each one contiguous run of codes."""
    side = 256 << level
    span = max(px1 - px0 + 1, py1 - py0 + 1)
    k = max(0, math.floor(math.log2(max(span, 1) / 16)))
    if px1 - px0 + 1 >= side:
        px0, px1 = 0, side - 1
    tiles_x = np.unique((np.arange(px0 >> k, (px1 >> k) + 1) % (side >> k)).astype(np.uint64))
    tiles_y = np.arange(py0 >> k, (py1 >> k) + 1, dtype=np.uint64)
    tx, ty = np.meshgrid(tiles_x, tiles_y)
    base = morton.encode(tx.ravel(), ty.ravel())
    kk = np.uint64(2 * k)
    lo = np.sort(base << kk)
    return lo, lo + (np.uint64(1) << kk)


def _planes(frame: GridFrame, cell: np.ndarray, cells: Cells) -> np.ndarray:
    n = frame.gw * frame.gh
    out = np.zeros((3, n), np.float64)
    out[0] = np.bincount(cell, weights=cells.total, minlength=n)
    out[1] = np.bincount(cell, weights=cells.count.astype(np.float64), minlength=n)
    mx = np.zeros(n, np.float32)
    np.maximum.at(mx, cell, cells.largest)
    out[2] = mx
    return out.astype(np.float32).reshape(3, frame.gh, frame.gw)

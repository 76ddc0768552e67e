"""The engines' one small interface (``Source``), the rows they hand over, and the filters a
view pushes down to them.

A source never hands rows to the caller's process unless it is an in-process engine: it is
given a ``keys`` function (picklable, so Dask ships it to workers) that turns a batch of rows
into cell keys, and returns the per-key sums, counts and largest weights (``Cells``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from .pyramid import Cells

__all__ = ["Filter", "Keys", "Rows", "Source", "cells_of_batches"]


class Rows(NamedTuple):
    """A batch of rows: degrees, float32 weights (None: 1 each)."""

    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray | None


#: rows -> (key of each kept row, index of that row): the cells of a pyramid level or a frame.
Keys = Callable[[Rows], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Filter:
    """Rows a query reads: ``lon`` ranges (None: any), a ``lat`` range, and the time window
    ``t0 <= time < t1`` (None: unbounded). Longitudes beyond ±180 always pass (they wrap)."""

    lon: tuple[tuple[float, float], ...] | None = None
    lat: tuple[float, float] | None = None
    t0: float | None = None
    t1: float | None = None

    @property
    def timed(self) -> bool:
        return self.t0 is not None or self.t1 is not None

    def sql(self, lon: str, lat: str, time: str | None) -> str:
        """The filter as a SQL condition on the named columns ("TRUE" when empty)."""
        terms = []
        if self.lon is not None:
            ranges = " OR ".join(f"({lon} >= {a!r} AND {lon} <= {b!r})" for a, b in self.lon)
            terms.append(f"({ranges} OR {lon} < -180.0 OR {lon} > 180.0)")
        if self.lat is not None:
            terms.append(f"{lat} >= {self.lat[0]!r} AND {lat} <= {self.lat[1]!r}")
        if self.timed:
            if time is None:
                return "FALSE"  # a bounded window over rows without times shows nothing
            if self.t0 is not None:
                terms.append(f"{time} >= {self.t0!r}")
            if self.t1 is not None:
                terms.append(f"{time} < {self.t1!r}")
        return " AND ".join(terms) or "TRUE"

    def mask(self, lon: np.ndarray, lat: np.ndarray, time: np.ndarray | None) -> np.ndarray:
        """The filter on numpy columns."""
        keep = np.ones(lon.shape, bool)
        if self.lon is not None:
            inside = (lon < -180.0) | (lon > 180.0)
            for a, b in self.lon:
                inside |= (lon >= a) & (lon <= b)
            keep &= inside
        if self.lat is not None:
            keep &= (lat >= self.lat[0]) & (lat <= self.lat[1])
        if self.timed:
            if time is None:
                return np.zeros(lon.shape, bool)
            if self.t0 is not None:
                keep &= time >= self.t0
            if self.t1 is not None:
                keep &= time < self.t1
        return keep

    @staticmethod
    def of_pixels(
        px0: float,
        px1: float,
        py0: float,
        py1: float,
        world: float,
        t0: float | None,
        t1: float | None,
    ) -> Filter:
        """Rows that may land in world pixels [px0, px1] x [py0, py1] (world ``world`` px),
        with a pixel of slack: the exact binning that follows decides."""
        lon: tuple[tuple[float, float], ...] | None = None
        a = (px0 - 1.0) / world * 360.0 - 180.0
        b = (px1 + 1.0) / world * 360.0 - 180.0
        if b - a < 360.0:
            shift = math.floor((a + 180.0) / 360.0) * 360.0
            a, b = a - shift, b - shift
            lon = ((a, b),) if b <= 180.0 else ((a, 180.0), (-180.0, b - 360.0))
        lat_hi = 90.0 if py0 - 1.0 <= 0.0 else _lat(py0 - 1.0, world)
        lat_lo = -90.0 if py1 + 1.0 >= world else _lat(py1 + 1.0, world)
        return Filter(lon, (lat_lo, lat_hi), t0, t1)


def _lat(py: float, world: float) -> float:
    """Latitude of the world pixel row ``py`` (inverse Web Mercator)."""
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * py / world))))


def cells_of_batches(batches: Iterable[Rows], keys: Keys) -> Cells:
    """The cells of batches of rows, reduced batch by batch (memory: a batch and the cells)."""
    merged, pending, pending_cells = Cells.empty(), [], 0
    for rows in batches:
        code, idx = keys(rows)
        part = Cells.of_keys(code, idx, rows.weight)
        pending.append(part)
        pending_cells += part.code.size
        if pending_cells > max(1 << 20, merged.code.size):
            merged, pending, pending_cells = Cells.merge([merged, *pending]), [], 0
    return Cells.merge([merged, *pending])


class Source(Protocol):
    """An engine's rows, aggregated where they live. Engines that run in this process also
    have ``batches(where) -> Iterator[Rows]``, which the pyramid's pass reads directly."""

    def row_count(self) -> int | None:
        """Rows held, from metadata only (None when unknown without reading data)."""
        ...

    def cells(self, keys: Keys, where: Filter) -> Cells:
        """Per-key aggregates of the rows that pass ``where``, keyed by ``keys``."""
        ...

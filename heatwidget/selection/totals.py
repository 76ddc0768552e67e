"""``SelectionTotals``: how many of the rows held lie inside a shape, and their summed weight.

Exact over the rows the widget holds (every row inside counts, none outside; a row on the
boundary is inside: ``inside.py``). With a ``time_window`` only the rows in it count
(start <= time < end, as the map draws them); ``time_decay`` does not weigh the sum: it is the
plain sum of the weights (1 a row without a weight column). The mask is cached per state of the
rows, shape and window, so ``on_select``'s totals and ``selected()`` test once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .inside import TOLERANCE
from .shape import Shape

__all__ = ["SelectionTotals", "Totals"]

Window = tuple[float | None, float | None]


@dataclass(frozen=True)
class Totals:
    count: int
    sum: float


def _numpy(table: Any, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    col = table.column(name)
    if hasattr(col, "to_numpy"):
        return np.asarray(col.to_numpy(), dtype=np.float64)
    return np.asarray(col, dtype=np.float64)


class SelectionTotals:
    """Masks and totals over ``table()`` (the canonical rows held) for the widget's state
    ``seq()``."""

    def __init__(self, table: Callable[[], Any], seq: Callable[[], int]) -> None:
        self._table = table
        self._seq = seq
        self._cache: tuple[Any, np.ndarray, np.ndarray | None] | None = None

    def mask(self, shape: Shape, window: Window | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(inside mask over the rows held, their weights or None)."""
        key = (self._seq(), shape, window)  # the shape by identity
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        table = self._table()
        lon, lat = _numpy(table, "lon"), _numpy(table, "lat")
        assert lon is not None and lat is not None
        inside = shape.contains(lon, lat)
        if window is not None:
            times = _numpy(table, "time")
            if times is not None:
                t0, t1 = window
                if t0 is not None:
                    inside &= times >= t0
                if t1 is not None:
                    inside &= times < t1
        weights = _numpy(table, "weight")
        self._cache = (key, inside, weights)
        return inside, weights

    def totals(self, shape: Shape, window: Window | None) -> Totals:
        inside, weights = self.mask(shape, window)
        count = int(np.count_nonzero(inside))
        total = float(count) if weights is None else float(weights[inside].sum(dtype=np.float64))
        return Totals(count=count, sum=total)

    def each(self, shapes: list[Shape], window: Window | None) -> list[Totals]:
        """Totals of several shapes over the rows held, reading the rows once."""
        table = self._table()
        lon, lat = _numpy(table, "lon"), _numpy(table, "lat")
        assert lon is not None and lat is not None
        weights = _numpy(table, "weight")
        if window is not None and (times := _numpy(table, "time")) is not None:
            t0, t1 = window
            keep = np.ones(len(lon), dtype=bool)
            if t0 is not None:
                keep &= times >= t0
            if t1 is not None:
                keep &= times < t1
            lon, lat = lon[keep], lat[keep]
            weights = None if weights is None else weights[keep]
        # sorted by latitude once: each shape then tests only the rows of its latitude band
        order = np.argsort(lat, kind="stable")
        lat, lon = lat[order], lon[order]
        weights = None if weights is None else weights[order]
        out = []
        for shape in shapes:
            south, _west, north, _east = shape.bbox
            a, b = np.searchsorted(lat, [south - TOLERANCE, north + TOLERANCE], side="left")
            b = int(np.searchsorted(lat, north + TOLERANCE, side="right"))
            inside = shape.contains(lon[a:b], lat[a:b])
            count = int(np.count_nonzero(inside))
            total = float(count) if weights is None else float(weights[a:b][inside].sum())
            out.append(Totals(count=count, sum=total))
        return out

    def forget(self) -> None:
        self._cache = None

"""``SelectionTotals``: how many of the rows held lie inside a shape, and their summed weight.

Exact over the rows the widget holds (every row inside counts, none outside; a row on the
boundary is inside: ``inside.py``). With a ``time_window`` only the rows in it count
(start <= time < end, as the map draws them); ``time_decay`` does not weigh the sum: it is the
plain sum of the weights (1 a row without a weight column).

The shape's mask is cached for the rows held and follows their changes: an append tests only
the new rows, a sliding window (``max_points``) forgets the oldest, and without a time window
the count and sum are kept as running totals, so an ``on_select`` that fires on every append
costs in proportion to the rows appended, not the rows held. ``set_data`` starts again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class _Inside:
    """The shape's mask over the rows held, in the store's chunks of arrival, with the
    weights inside (float64, or None without a weight column) and their running totals."""

    shape: Shape
    seq: int
    masks: list[np.ndarray] = field(default_factory=list)
    weights: list[np.ndarray | None] = field(default_factory=list)
    rows: int = 0
    count: int = 0
    sum: float = 0.0

    def add(self, table: Any, seq: int) -> None:
        lon, lat = _numpy(table, "lon"), _numpy(table, "lat")
        assert lon is not None and lat is not None
        mask = self.shape.contains(lon, lat)
        weights = _numpy(table, "weight")
        self.masks.append(mask)
        self.weights.append(weights)
        self.rows += len(mask)
        inside = int(np.count_nonzero(mask))
        self.count += inside
        self.sum += float(inside) if weights is None else float(weights[mask].sum())
        self.seq = seq

    def drop_front(self, n: int) -> None:
        while n > 0 and self.masks:
            mask, weights = self.masks[0], self.weights[0]
            take = min(n, len(mask))
            gone = mask[:take]
            inside = int(np.count_nonzero(gone))
            self.count -= inside
            self.sum -= float(inside) if weights is None else float(weights[:take][gone].sum())
            if take == len(mask):
                self.masks.pop(0)
                self.weights.pop(0)
            else:
                self.masks[0] = mask[take:]
                self.weights[0] = None if weights is None else weights[take:]
            self.rows -= take
            n -= take
        if self.count == 0:
            self.sum = 0.0  # no rounding left over from rows that are gone

    def flat(self) -> tuple[np.ndarray, np.ndarray | None]:
        mask = np.concatenate(self.masks) if self.masks else np.zeros(0, dtype=bool)
        if not self.weights or any(w is None for w in self.weights):
            return mask, None
        return mask, np.concatenate([w for w in self.weights if w is not None])


class SelectionTotals:
    """Masks and totals over ``table()`` (the canonical rows held) for the widget's state
    ``seq()``; ``appended``/``trimmed`` keep them up to date as the rows change."""

    def __init__(self, table: Callable[[], Any], seq: Callable[[], int]) -> None:
        self._table = table
        self._seq = seq
        self._inside: _Inside | None = None

    def _of(self, shape: Shape) -> _Inside:
        cached = self._inside
        if cached is not None and cached.shape is shape and cached.seq == self._seq():
            return cached
        fresh = _Inside(shape, self._seq())
        fresh.add(self._table(), self._seq())
        self._inside = fresh
        return fresh

    def appended(self, rows: int, held: int) -> None:
        """``rows`` rows were appended and ``held`` are now held (the oldest dropped by the
        sliding window): test only the new rows."""
        cached = self._inside
        if cached is None:
            return
        dropped = cached.rows + rows - held
        if dropped < 0 or rows < 0:
            self._inside = None  # not the change we were told of: start again when asked
            return
        table = self._table()
        new = min(rows, held)
        if table.num_rows != held:
            self._inside = None
            return
        # Rows that arrive and are dropped by the same append are never tested.
        cached.drop_front(min(dropped, cached.rows))
        if new:
            cached.add(_last_rows(table, new), self._seq())
        cached.seq = self._seq()

    def trimmed(self, held: int) -> None:
        """The sliding window shrank to ``held`` rows."""
        cached = self._inside
        if cached is None:
            return
        if held > cached.rows:
            self._inside = None
            return
        cached.drop_front(cached.rows - held)
        cached.seq = self._seq()

    def mask(self, shape: Shape, window: Window | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(inside mask over the rows held, their weights or None)."""
        inside, weights = self._of(shape).flat()
        if window is not None:
            times = _numpy(self._table(), "time")
            if times is not None:
                inside = inside & _in_window(times, window)
        return inside, weights

    def totals(self, shape: Shape, window: Window | None) -> Totals:
        state = self._of(shape)
        if window is None or "time" not in self._table().column_names:
            return Totals(count=state.count, sum=state.sum)
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
            keep = _in_window(times, window)
            lon, lat = lon[keep], lat[keep]
            weights = None if weights is None else weights[keep]
        # sorted by latitude once: each shape then tests only the rows of its latitude band
        order = np.argsort(lat, kind="stable")
        lat, lon = lat[order], lon[order]
        weights = None if weights is None else weights[order]
        out = []
        for shape in shapes:
            south, _west, north, _east = shape.bbox
            a = int(np.searchsorted(lat, south - TOLERANCE, side="left"))
            b = int(np.searchsorted(lat, north + TOLERANCE, side="right"))
            inside = shape.contains(lon[a:b], lat[a:b])
            count = int(np.count_nonzero(inside))
            total = float(count) if weights is None else float(weights[a:b][inside].sum())
            out.append(Totals(count=count, sum=total))
        return out

    def forget(self) -> None:
        self._inside = None


class _Columns:
    """The last rows of a table without ``slice`` (a PointColumns: no pyarrow)."""

    def __init__(self, table: Any, first: int) -> None:
        self.column_names = table.column_names
        self._table, self._first = table, first

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self._table.column(name), dtype=np.float64)[self._first :]


def _last_rows(table: Any, n: int) -> Any:
    first = table.num_rows - n
    return table.slice(first) if hasattr(table, "slice") else _Columns(table, first)


def _in_window(times: np.ndarray, window: Window) -> np.ndarray:
    t0, t1 = window
    keep = np.ones(len(times), dtype=bool)
    if t0 is not None:
        keep &= times >= t0
    if t1 is not None:
        keep &= times < t1
    return keep

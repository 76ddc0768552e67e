"""The points a Heatmap holds when pyarrow is not installed (JupyterLite): ``_stream``'s
``PointStore`` in pure Python, over ``array.array`` columns.

Same interface and behaviour as :class:`heatwidget.points.store.PointStore` (numbered deltas, a
``max_points`` sliding window, rows sorted by time on ``replace``, a missing weight read as 1 and
a missing time as NaN when batches differ), so ``Heatmap`` uses whichever it can import. Rows
are kept as one set of contiguous columns rather than a list of batches: an append copies the
new rows once (``array.extend``), a drop at the front moves the rest. The bytes are made by
:func:`heatwidget.points.wire.encode` (arro3 without pyarrow). Needs neither numpy nor pyarrow.
"""

from __future__ import annotations

import array
import itertools
import math
from dataclasses import dataclass
from typing import Any

from . import wire as _wire
from .inputs import COLUMN_TYPES, TYPECODES, PointColumns

__all__ = ["Delta", "PointStore"]

Bounds = tuple[float, float, float, float]

_ORDER = ("lon", "lat", "weight", "time")
_FILL = {"weight": 1.0, "time": math.nan}


@dataclass(frozen=True)
class Delta:
    """One change to send to existing views (see ``_stream.Delta``)."""

    seq: int
    rows: int
    drop: int
    payload: bytes


def _columns(table: Any) -> dict[str, array.array[float]]:
    """A canonical table (PointColumns of array.array or numpy columns, or anything with
    ``column_names``/``column``) → array.array columns."""
    out: dict[str, array.array[float]] = {}
    for name in table.column_names:
        col = table.column(name)
        code = TYPECODES[COLUMN_TYPES[name]]
        if isinstance(col, array.array) and col.typecode == code:
            out[name] = array.array(code, col)
        elif hasattr(col, "tobytes"):  # numpy
            arr: array.array[float] = array.array(code)
            arr.frombytes(col.astype(COLUMN_TYPES[name]).tobytes())
            out[name] = arr
        else:  # an Arrow column: through Python objects
            values = col.to_pylist() if hasattr(col, "to_pylist") else list(col)
            out[name] = array.array(code, values)
    return out


def _prepared(
    cols: dict[str, array.array[float]], max_points: int | None
) -> tuple[dict[str, array.array[float]], int]:
    """Rows sorted by time (when they have times), then only the newest ``max_points``; and
    their number. (``_stream`` does the same with pyarrow.)"""
    n = len(cols["lon"])
    if "time" in cols and n > 1:
        order = _time_order(cols["time"])
        if order is not None:
            cols = {k: array.array(v.typecode, [v[i] for i in order]) for k, v in cols.items()}
    if max_points is not None and n > max_points:
        cols = {k: v[n - max_points :] for k, v in cols.items()}
        n = max_points
    return cols, n


def _time_order(times: array.array[float]) -> list[int] | None:
    """A stable order sorting ``times`` (NaN last, like numpy's argsort), or None if sorted."""
    if all(a <= b or b != b for a, b in itertools.pairwise(times)):
        return None
    return sorted(range(len(times)), key=lambda i: (times[i] != times[i], times[i]))


def _bounds(cols: dict[str, array.array[float]]) -> Bounds | None:
    lat, lon = cols.get("lat"), cols.get("lon")
    if not lat or not lon:
        return None
    return (float(min(lat)), float(min(lon)), float(max(lat)), float(max(lon)))


def _time_extent(cols: dict[str, array.array[float]]) -> tuple[float, float] | None:
    finite = [t for t in cols.get("time", ()) if math.isfinite(t)]
    return (min(finite), max(finite)) if finite else None


class PointStore:
    """Rows held, oldest first, with a sequence number bumped by every change."""

    def __init__(self) -> None:
        self._cols: dict[str, array.array[float]] = {
            "lon": array.array("d"),
            "lat": array.array("d"),
        }
        self.count = 0
        self.seq = 0
        self.bounds: Bounds | None = None
        self.time_extent: tuple[float, float] | None = None

    # ---- reading ----------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in _ORDER if n in self._cols)

    @property
    def has_time(self) -> bool:
        return "time" in self._cols

    def table(self) -> PointColumns:
        return PointColumns(self._cols)

    def encode(self) -> bytes:
        """The full IPC stream of the rows held, encoded on each call (as ``_stream``'s)."""
        return _wire.encode(self.table())

    # ---- changing ---------------------------------------------------------------------------

    def replace(self, table: Any, max_points: int | None = None) -> int:
        cols, n = _prepared(_columns(table), max_points)
        self._cols = cols
        self.count = n
        self.bounds = _bounds(cols)
        self.time_extent = _time_extent(cols)
        self.seq += 1
        return self.seq

    def append(self, table: Any, max_points: int | None = None) -> Delta:
        new, rows = _prepared(_columns(table), max_points)
        payload = _wire.encode(PointColumns(new)) if rows else b""
        for name in _ORDER:  # one schema for all rows: fill what either side lacks
            if name in new and name not in self._cols:
                self._cols[name] = array.array(new[name].typecode, [_FILL[name]]) * self.count
            if name in self._cols and name not in new:
                new[name] = array.array(self._cols[name].typecode, [_FILL[name]]) * rows
        for name, col in new.items():
            self._cols[name].extend(col)
        self.count += rows
        drop = 0
        if max_points is not None and self.count > max_points:
            drop = self._drop_front(self.count - max_points)
        self.bounds = _bounds(self._cols)
        self.time_extent = _time_extent(self._cols)
        self.seq += 1
        return Delta(seq=self.seq, rows=rows, drop=drop, payload=payload)

    def trim(self, max_points: int | None) -> Delta | None:
        if max_points is None or self.count <= max_points:
            return None
        drop = self._drop_front(self.count - max_points)
        self.bounds = _bounds(self._cols)
        self.time_extent = _time_extent(self._cols)
        self.seq += 1
        return Delta(seq=self.seq, rows=0, drop=drop, payload=b"")

    def _drop_front(self, n: int) -> int:
        n = min(n, self.count)
        for col in self._cols.values():
            del col[:n]
        self.count -= n
        return n

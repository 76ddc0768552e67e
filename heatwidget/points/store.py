"""The points a Heatmap holds, as a list of chunks that grows at the end (``append``) and
shrinks at the front (the ``max_points`` sliding window); each change is one numbered delta.

Why chunks: an append must cost (in Python and on the wire) in proportion to the rows
appended, not to the rows held. Each delta is encoded on its own as a complete Arrow IPC stream
(schema + one batch, ~300 bytes of overhead) and sent to the views that exist; the full stream
(``encode()``) is only made when a *new* front-end model asks for the widget's state (a page
load, a reload), and not kept: caching it would double the memory the rows take.

Columns: the canonical ``lon``/``lat``/``weight`` of docs/architecture.md, plus an optional
``time`` float64 (milliseconds since the Unix epoch for datetimes; numbers as given). Chunks
may differ in which optional columns they carry (the kernel takes HW_HAS_WEIGHT/HW_HAS_TIME per
append); the full table conforms them to one schema: a missing weight is 1, a missing time NaN
(NaN is in no bounded time window), exactly what the kernel does for them.

Written once over the column ops (:mod:`heatwidget.points.columns`: numpy, or ``array.array``
in Pyodide); the bytes are made by :mod:`heatwidget.points.wire` (pyarrow, or arro3).
Nothing here knows about widgets or comms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..constants import Bounds
from .columns import ColumnOps, default_ops
from .schema import COLUMN_TYPES, build, build_chunks
from .wire import encode

__all__ = ["Delta", "PointStore"]

_ORDER = ("lon", "lat", "weight", "time")
_FILL = {"weight": 1.0, "time": float("nan")}
# Rows per chunk held: a sliding window re-summarises only the chunk it cuts into.
_CHUNK_ROWS = 1 << 16

Chunk = dict[str, Any]
Extent = tuple[float, float]
Summary = tuple[Bounds | None, Extent | None]


@dataclass(frozen=True)
class Delta:
    """One change to send to existing views: append ``payload``'s rows, then forget the
    ``drop`` oldest rows. ``seq`` numbers the changes (the state after it has ``seq``)."""

    seq: int
    rows: int
    drop: int
    payload: bytes  # IPC stream of the appended rows (b"" when none)


def _rows(chunk: Chunk) -> int:
    return len(chunk["lon"])


def _union(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _union_extent(a: Extent | None, b: Extent | None) -> Extent | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), max(a[1], b[1]))


class PointStore:
    """Rows held, oldest first, with a sequence number bumped by every change."""

    def __init__(self, ops: ColumnOps | None = None) -> None:
        self._ops = default_ops() if ops is None else ops
        self._chunks: list[Chunk] = []
        # bounds and time extent of each chunk, so that appends and drops never rescan the rows
        self._summaries: list[Summary] = []
        self.count = 0
        self.seq = 0
        self.bounds: Bounds | None = None
        self.time_extent: Extent | None = None

    # ---- reading ----------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The union of the columns of the chunks held, in wire order."""
        have = {n for c in self._chunks for n in c}
        return tuple(n for n in _ORDER if n in have or n in ("lon", "lat"))

    @property
    def has_time(self) -> bool:
        return "time" in self.names

    def table(self) -> Any:
        """All rows as one canonical table (one schema: see the module docstring)."""
        names = self.names
        return build_chunks([self._conform(c, names) for c in self._chunks], names, self._ops)

    def encode(self) -> bytes:
        """The full IPC stream of the rows held, encoded on each call: it is needed only when
        a model starts (first display, page reload) or resyncs, and keeping it would double
        the memory the rows take."""
        return encode(self.table())

    # ---- changing ---------------------------------------------------------------------------

    def replace(self, table: Any, max_points: int | None = None) -> int:
        """Hold exactly ``table``'s rows (the newest ``max_points`` of them); returns the new
        seq. Rows are sorted by time (stable) when there is a time column, so a time window
        visits only the rows inside it."""
        cols, n = self._prepared(table, max_points)
        self._chunks = [
            {k: v[i : i + _CHUNK_ROWS] for k, v in cols.items()} for i in range(0, n, _CHUNK_ROWS)
        ]
        self._summaries = [self._summary(c) for c in self._chunks]
        self.count = n
        self._fold()
        self.seq += 1
        return self.seq

    def append(self, table: Any, max_points: int | None = None) -> Delta:
        """Add ``table``'s rows at the end, then drop the oldest beyond ``max_points``.

        The new rows are sorted by time among themselves; rows older than those held are kept
        where they are appended (time windows stay correct, only slower: see ``time_window``).
        """
        cols, rows = self._prepared(table, max_points)
        payload = encode(build(cols)) if rows else b""
        if rows:
            self._chunks.append(cols)
            self._summaries.append(self._summary(cols))
        self.count += rows
        drop = 0
        if max_points is not None and self.count > max_points:
            drop = self._drop_front(self.count - max_points)
        self._fold()
        self.seq += 1
        return Delta(seq=self.seq, rows=rows, drop=drop, payload=payload)

    def trim(self, max_points: int | None) -> Delta | None:
        """Apply a new ``max_points`` to the rows held: a Delta dropping rows, or None."""
        if max_points is None or self.count <= max_points:
            return None
        drop = self._drop_front(self.count - max_points)
        self._fold()
        self.seq += 1
        return Delta(seq=self.seq, rows=0, drop=drop, payload=b"")

    # ---- inside -----------------------------------------------------------------------------

    def _prepared(self, table: Any, max_points: int | None) -> tuple[Chunk, int]:
        """``table``'s columns sorted by time (when they have times; NaN last), then only the
        newest ``max_points`` (never send what would be dropped); and their number."""
        ops = self._ops
        cols = {
            n: ops.column(table.column(n), COLUMN_TYPES[n])
            for n in _ORDER
            if n in table.column_names
        }
        n = len(cols["lon"])
        if "time" in cols:
            order = ops.time_order(cols["time"])
            if order is not None:
                cols = {k: ops.take(v, order) for k, v in cols.items()}
        if max_points is not None and n > max_points:
            cols = {k: v[n - max_points :] for k, v in cols.items()}
            n = max_points
        return cols, n

    def _conform(self, chunk: Chunk, names: tuple[str, ...]) -> Chunk:
        """``chunk`` with exactly the columns ``names`` (missing weight = 1, time = NaN)."""
        if tuple(chunk) == names:
            return chunk
        n = _rows(chunk)
        return {
            k: chunk[k] if k in chunk else self._ops.full(n, _FILL[k], COLUMN_TYPES[k])
            for k in names
        }

    def _summary(self, chunk: Chunk) -> Summary:
        ops = self._ops
        if not _rows(chunk):
            return None, None
        lat_lo, lat_hi = ops.min_max(chunk["lat"])
        lon_lo, lon_hi = ops.min_max(chunk["lon"])
        extent = ops.finite_min_max(chunk["time"]) if "time" in chunk else None
        return (lat_lo, lon_lo, lat_hi, lon_hi), extent

    def _fold(self) -> None:
        bounds: Bounds | None = None
        extent: Extent | None = None
        for b, e in self._summaries:
            bounds = _union(bounds, b)
            extent = _union_extent(extent, e)
        self.bounds, self.time_extent = bounds, extent

    def _drop_front(self, n: int) -> int:
        dropped = 0
        while n > 0 and self._chunks:
            first = self._chunks[0]
            rows = _rows(first)
            if rows <= n:
                self._chunks.pop(0)
                self._summaries.pop(0)
                n -= rows
                dropped += rows
            else:
                self._chunks[0] = {k: v[n:] for k, v in first.items()}
                self._summaries[0] = self._summary(self._chunks[0])
                dropped += n
                n = 0
        self.count -= dropped
        return dropped

"""The points a Heatmap holds, as a list of record batches that grows at the end (``append``)
and shrinks at the front (the ``max_points`` sliding window); each change is one numbered delta.

Why batches: an append must cost (in Python and on the wire) in proportion to the rows
appended, not to the rows held. Each delta is encoded on its own as a complete Arrow IPC stream
(schema + one batch, ~300 bytes of overhead) and sent to the views that exist; the full stream
(``encode()``) is only made when a *new* front-end model asks for the widget's state (a page
load, a reload), and not kept: caching it would double the memory the rows take.

Columns: the canonical ``lon``/``lat``/``weight`` of docs/architecture.md, plus an optional
``time`` float64 (milliseconds since the Unix epoch for datetimes; numbers as given). Batches
may differ in which optional columns they carry (the kernel takes HW_HAS_WEIGHT/HW_HAS_TIME per
append); the full stream conforms them to one schema: a missing weight is 1, a missing time NaN
(NaN is in no bounded time window), exactly what the kernel does for them.

Nothing here knows about widgets or comms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Delta", "PointStore", "encode_ipc"]

Bounds = tuple[float, float, float, float]

_TYPES = {"lon": pa.float64(), "lat": pa.float64(), "weight": pa.float32(), "time": pa.float64()}
_ORDER = ("lon", "lat", "weight", "time")


def encode_ipc(table: pa.Table | pa.RecordBatch) -> bytes:
    """Arrow IPC stream bytes of ``table`` (``_wire.encode``: the wire format)."""
    from . import wire as _wire

    return _wire.encode(table if isinstance(table, pa.Table) else pa.Table.from_batches([table]))


def _schema(names: tuple[str, ...]) -> pa.Schema:
    """The canonical schema (non-nullable columns, as ``_inputs`` makes them) of ``names``."""
    return pa.schema([pa.field(n, _TYPES[n], nullable=False) for n in names])


def _conform(batch: pa.RecordBatch, names: tuple[str, ...]) -> pa.RecordBatch:
    """``batch`` with exactly the columns ``names`` (missing weight = 1, missing time = NaN)."""
    schema = _schema(names)
    if batch.schema.equals(schema):
        return batch
    arrays = []
    for name in names:
        if name in batch.schema.names:
            arrays.append(batch.column(name).cast(_TYPES[name]))
        elif name == "weight":
            arrays.append(pa.array(np.ones(batch.num_rows, np.float32)))
        else:
            arrays.append(pa.array(np.full(batch.num_rows, np.nan)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _bounds(batches: list[pa.RecordBatch]) -> Bounds | None:
    lat_lo = lon_lo = math.inf
    lat_hi = lon_hi = -math.inf
    for b in batches:
        if b.num_rows == 0:
            continue
        la = pc.min_max(b.column("lat"))
        lo = pc.min_max(b.column("lon"))
        lat_lo, lat_hi = min(lat_lo, la["min"].as_py()), max(lat_hi, la["max"].as_py())
        lon_lo, lon_hi = min(lon_lo, lo["min"].as_py()), max(lon_hi, lo["max"].as_py())
    if lat_lo == math.inf:
        return None
    return (float(lat_lo), float(lon_lo), float(lat_hi), float(lon_hi))


def _time_extent(batches: list[pa.RecordBatch]) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    for b in batches:
        if "time" not in b.schema.names or b.num_rows == 0:
            continue
        t = b.column("time").to_numpy(zero_copy_only=False)
        t = t[np.isfinite(t)]
        if t.size:
            lo, hi = min(lo, float(t.min())), max(hi, float(t.max()))
    return None if lo == math.inf else (lo, hi)


# Rows per batch held: a sliding window re-summarises only the batch it cuts into.
_BATCH_ROWS = 1 << 16


def _summary(batch: pa.RecordBatch) -> tuple[Bounds | None, tuple[float, float] | None]:
    return _bounds([batch]), _time_extent([batch])


def _fold(
    summaries: list[tuple[Bounds | None, tuple[float, float] | None]],
) -> tuple[Bounds | None, tuple[float, float] | None]:
    bounds: Bounds | None = None
    extent: tuple[float, float] | None = None
    for b, e in summaries:
        bounds = _union(bounds, b)
        extent = _union_extent(extent, e)
    return bounds, extent


@dataclass(frozen=True)
class Delta:
    """One change to send to existing views: append ``payload``'s rows, then forget the
    ``drop`` oldest rows. ``seq`` numbers the changes (the state after it has ``seq``)."""

    seq: int
    rows: int
    drop: int
    payload: bytes  # IPC stream of the appended rows (b"" when none)


class PointStore:
    """Rows held, oldest first, with a sequence number bumped by every change."""

    def __init__(self) -> None:
        self._batches: list[pa.RecordBatch] = []
        # bounds and time extent of each batch, so that appends and drops never rescan the rows
        self._summaries: list[tuple[Bounds | None, tuple[float, float] | None]] = []
        self.count = 0
        self.seq = 0
        self.bounds: Bounds | None = None
        self.time_extent: tuple[float, float] | None = None

    # ---- reading ----------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The union of the columns of the batches held, in wire order."""
        have = {n for b in self._batches for n in b.schema.names}
        return tuple(n for n in _ORDER if n in have or n in ("lon", "lat"))

    @property
    def has_time(self) -> bool:
        return "time" in self.names

    def table(self) -> pa.Table:
        """All rows as one Table (one schema: see the module docstring)."""
        names = self.names
        batches = [_conform(b, names) for b in self._batches if b.num_rows]
        return pa.Table.from_batches(batches, schema=_schema(names))

    def encode(self) -> bytes:
        """The full IPC stream of the rows held, encoded on each call: it is needed only when
        a model starts (first display, page reload) or resyncs, and keeping it would double
        the memory the rows take."""
        return encode_ipc(self.table())

    # ---- changing ---------------------------------------------------------------------------

    def replace(self, table: pa.Table, max_points: int | None = None) -> int:
        """Hold exactly ``table``'s rows (the newest ``max_points`` of them); returns the new
        seq. Rows are sorted by time (stable) when there is a time column, so a time window
        visits only the rows inside it."""
        if "time" in table.schema.names and table.num_rows > 1:
            t = table.column("time").to_numpy()
            if np.any(t[1:] < t[:-1]):  # NaN compares False: only sorts real disorder
                order = np.argsort(t, kind="stable")
                table = table.take(pa.array(order))
        if max_points is not None and table.num_rows > max_points:
            table = table.slice(table.num_rows - max_points)
        batches = table.combine_chunks().to_batches(max_chunksize=_BATCH_ROWS)
        self._batches = [b for b in batches if b.num_rows]
        self._summaries = [_summary(b) for b in self._batches]
        self.count = table.num_rows
        self.bounds, self.time_extent = _fold(self._summaries)
        self.seq += 1
        return self.seq

    def append(self, table: pa.Table, max_points: int | None = None) -> Delta:
        """Add ``table``'s rows at the end, then drop the oldest beyond ``max_points``.

        The new rows are sorted by time among themselves; rows older than those held are kept
        where they are appended (time windows stay correct, only slower: see ``time_window``).
        """
        if "time" in table.schema.names and table.num_rows > 1:
            t = table.column("time").to_numpy()
            if np.any(t[1:] < t[:-1]):
                table = table.take(pa.array(np.argsort(t, kind="stable")))
        if max_points is not None and table.num_rows > max_points:
            table = table.slice(table.num_rows - max_points)  # never send what would be dropped
        new = [b for b in table.combine_chunks().to_batches() if b.num_rows]
        rows = table.num_rows
        payload = encode_ipc(table) if rows else b""
        self._batches.extend(new)
        self._summaries.extend(_summary(b) for b in new)
        self.count += rows
        drop = 0
        if max_points is not None and self.count > max_points:
            drop = self._drop_front(self.count - max_points)
        self.bounds, self.time_extent = _fold(self._summaries)
        self.seq += 1
        return Delta(seq=self.seq, rows=rows, drop=drop, payload=payload)

    def trim(self, max_points: int | None) -> Delta | None:
        """Apply a new ``max_points`` to the rows held: a Delta dropping rows, or None."""
        if max_points is None or self.count <= max_points:
            return None
        drop = self._drop_front(self.count - max_points)
        self.bounds, self.time_extent = _fold(self._summaries)
        self.seq += 1
        return Delta(seq=self.seq, rows=0, drop=drop, payload=b"")

    def _drop_front(self, n: int) -> int:
        dropped = 0
        while n > 0 and self._batches:
            first = self._batches[0]
            if first.num_rows <= n:
                self._batches.pop(0)
                self._summaries.pop(0)
                n -= first.num_rows
                dropped += first.num_rows
            else:
                self._batches[0] = first.slice(n)
                self._summaries[0] = _summary(self._batches[0])
                dropped += n
                n = 0
        self.count -= dropped
        return dropped


def _union(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _union_extent(
    a: tuple[float, float] | None, b: tuple[float, float] | None
) -> tuple[float, float] | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), max(a[1], b[1]))
